// The baseline for bench/live/run.sh: a broadcast server on Node's `ws` package that speaks the
// subset of Selah's live protocol (docs/LIVE.md) the load generator uses: `auth` (any token),
// `room.create`, `room.join` (a room that does not exist yet is made on the spot) and `signal`,
// fanned out to every socket in the room, the sender included. Each message is serialized once
// and handed to every socket with `ws.send(string)`: the idiomatic `ws` broadcast.
//
//   PORT=9000 node bench/live/node-server.mjs        (path /ws on 127.0.0.1)
import { randomUUID } from "node:crypto";
import { WebSocketServer } from "ws";

const port = Number(process.env.PORT || 9000);
const host = process.env.HOST || "127.0.0.1";
const MAX_SIGNAL_BYTES = 512;

/** id → { id, kind, name, seq, members: Set<WebSocket> } */
const rooms = new Map();

function room(id, kind = "collaboration", name = id) {
  let r = rooms.get(id);
  if (!r) {
    r = { id, kind, name, seq: 0, members: new Set() };
    rooms.set(id, r);
  }
  return r;
}

function send(ws, type, roomId, seq, body) {
  const now = Date.now();
  ws.send(JSON.stringify({ v: 1, type, room: roomId, seq, at: now, ...body }));
}

function error(ws, code, message, ref) {
  send(ws, "error", null, 0, ref === undefined ? { code, message } : { code, message, ref });
}

const wss = new WebSocketServer({ host, port, path: "/ws", backlog: 4096, perMessageDeflate: false });

wss.on("connection", (ws) => {
  ws.user = null;
  ws.rooms = new Set();

  ws.on("message", (raw, isBinary) => {
    let msg;
    try {
      msg = JSON.parse(isBinary ? raw : raw.toString());
    } catch {
      return error(ws, "malformed", "not JSON");
    }
    if (msg === null || typeof msg !== "object" || Array.isArray(msg)) {
      return error(ws, "malformed", "a message is a JSON object");
    }
    const ref = typeof msg.id === "string" ? msg.id : undefined;
    if (msg.v !== 1) return error(ws, "unsupported_version", "this server speaks version 1", ref);
    if (ws.user === null) {
      if (msg.type !== "auth" || typeof msg.token !== "string") {
        return error(ws, "unauthenticated", "send auth first", ref);
      }
      ws.user = { id: "u", username: "bench" };
      const now = Date.now();
      ws.send(JSON.stringify({ v: 1, type: "hello", room: null, seq: 0, at: now, user: ws.user, server_time: now }));
      return;
    }
    switch (msg.type) {
      case "room.create": {
        const r = room(randomUUID(), msg.kind, msg.name);
        r.members.add(ws);
        ws.rooms.add(r);
        const body = { info: { id: r.id, kind: r.kind, name: r.name } };
        if (ref !== undefined) body.ref = ref;
        return send(ws, "room.created", r.id, r.seq, body);
      }
      case "room.join": {
        if (typeof msg.room !== "string" || msg.room === "") return error(ws, "invalid", "room is a room id", ref);
        const r = room(msg.room);
        r.members.add(ws);
        ws.rooms.add(r);
        return send(ws, "room.snapshot", r.id, r.seq, {
          info: { id: r.id, kind: r.kind, name: r.name },
          role: "participant",
        });
      }
      case "signal": {
        const r = rooms.get(msg.room);
        if (!r || !r.members.has(ws)) return error(ws, "not_member", "join the room first", ref);
        const data = JSON.stringify(msg.data ?? null);
        if (data.length > MAX_SIGNAL_BYTES) return error(ws, "too_large", "a signal's data is at most 512 bytes", ref);
        r.seq += 1;
        // Serialized once, sent to every member.
        const out = `{"v":1,"type":"signal","room":${JSON.stringify(r.id)},"seq":${r.seq},"at":${Date.now()},"user":${JSON.stringify(ws.user)},"data":${data}}`;
        for (const m of r.members) m.send(out);
        return;
      }
      default:
        return error(ws, "unknown_type", `unknown type ${msg.type}`, ref);
    }
  });

  ws.on("close", () => {
    for (const r of ws.rooms) r.members.delete(ws);
    ws.rooms.clear();
  });
  ws.on("error", () => {});
});

wss.on("listening", () => console.error(`node ws broadcast server on ws://${host}:${port}/ws`));
