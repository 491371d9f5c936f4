/**
 * Per-room sequence bookkeeping for resuming after a drop (docs/LIVE.md "Reconnecting"): the last
 * `seq` seen in each room is what `room.join` sends as `since`. Gaps are normal (events meant for
 * someone else still take a number), and one event can bring two messages with the same number
 * (a high stress check-in: `stress` to the room and `support` to the host), so a message is a
 * repeat only when its number is older than the last, or the last number already brought a
 * message of its type. A snapshot always replaces the number, even with a lower one (a server
 * that restarted, or a `bad_sequence`).
 */

export type Verdict = "apply" | "stale";

interface Mark {
  seq: number;
  /** Message types seen at `seq`; null after a snapshot, which covers everything up to it. */
  types: Set<string> | null;
}

export class SequenceBook {
  private last = new Map<string, Mark>();

  /** A room message with number `seq`: apply it, or drop it as already seen. Messages numbered
   * 0 are replies to this connection and always apply. */
  observe(room: string, seq: number, type = ""): Verdict {
    if (seq === 0) return "apply";
    const prev = this.last.get(room);
    if (prev && seq < prev.seq) return "stale";
    if (prev && seq === prev.seq) {
      if (!prev.types || prev.types.has(type)) return "stale";
      prev.types.add(type);
      return "apply";
    }
    this.last.set(room, { seq, types: new Set([type]) });
    return "apply";
  }

  /** A `room.snapshot` numbered `seq` replaces whatever was known. */
  snapshot(room: string, seq: number): void {
    this.last.set(room, { seq, types: null });
  }

  /** `room.resumed`: the replay ran up to `to`. */
  resumed(room: string, to: number): void {
    const prev = this.last.get(room);
    if (!prev || to > prev.seq) this.last.set(room, { seq: to, types: null });
  }

  /** What to send as `since` when (re)joining; undefined asks for a snapshot. */
  since(room: string): number | undefined {
    return this.last.get(room)?.seq;
  }

  /** Left the room: a later join starts fresh. */
  forget(room: string): void {
    this.last.delete(room);
  }
}
