#!/usr/bin/env node
// Test harness for Selah's GET /ws/yjs/{room}: stock y-websocket clients (WebsocketProvider,
// unmodified) authenticated by the session cookie on the upgrade request.
//
//   node yjs-client.mjs edit     --url ws://127.0.0.1:PORT/ws/yjs --room R --token T [--token2 T2] [--url2 URL2] [--edits 200] [--timeout 30]
//   node yjs-client.mjs check    --url ws://127.0.0.1:PORT/ws/yjs --room R --token T [--timeout 30]
//   node yjs-client.mjs refused  --url ws://127.0.0.1:PORT/ws/yjs --room R [--token T] [--timeout 30]
//
// Other options: --origin O (send an Origin header), --cursor-every N (edit: update the awareness
// cursor every N edits, default 10). An empty or absent --token sends no Cookie at all.
//
// Each mode prints exactly one JSON line on stdout.
//   edit:    {"converged":true,"text":..,"length":..,"awareness_seen":true,...}  exit 0; else converged:false, exit 1
//   check:   {"text":..,"length":..}                                             exit 0; timeout exit 1
//   refused: {"refused":true,"status":<http status|null>,...}                    exit 0;
//            {"refused":false,"opened":true,...} (accepted, still open at the timeout) exit 1;
//            {"refused":false,"error":..} (no HTTP answer at all, e.g. ECONNREFUSED)  exit 2
// Usage errors exit 2.
import * as Y from 'yjs'
import { WebsocketProvider } from 'y-websocket'
import WebSocket from 'ws'

const USAGE = 'usage: node yjs-client.mjs <edit|check|refused> --url ws://HOST:PORT/ws/yjs --room ROOM --token TOKEN [--token2 TOKEN2] [--edits 200] [--timeout 30] [--origin ORIGIN] [--cursor-every 10]'

function parseArgs (argv) {
  const [mode, ...rest] = argv
  const o = { mode, edits: 200, timeout: 30, cursorEvery: 10, token: '', token2: null, url2: null, origin: null }
  const names = { '--url': 'url', '--room': 'room', '--token': 'token', '--token2': 'token2', '--url2': 'url2', '--edits': 'edits', '--timeout': 'timeout', '--origin': 'origin', '--cursor-every': 'cursorEvery' }
  for (let i = 0; i < rest.length; i += 2) {
    const key = names[rest[i]]
    if (!key || rest[i + 1] === undefined) usage(`bad argument ${rest[i]}`)
    o[key] = rest[i + 1]
  }
  for (const k of ['edits', 'timeout', 'cursorEvery']) {
    o[k] = Number(o[k])
    if (!Number.isFinite(o[k]) || o[k] <= 0) usage(`--${k} must be a positive number`)
  }
  if (!['edit', 'check', 'refused'].includes(o.mode)) usage(`unknown mode ${o.mode}`)
  if (!o.url || !o.room) usage('--url and --room are required')
  o.url = o.url.replace(/\/+$/, '') // as WebsocketProvider does
  if (o.url2) o.url2 = o.url2.replace(/\/+$/, '')
  return o
}

function usage (msg) {
  process.stderr.write(`${msg}\n${USAGE}\n`)
  process.exit(2)
}

const opts = parseArgs(process.argv.slice(2))
const started = Date.now()
const deadline = started + opts.timeout * 1000
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms))

function emit (obj, code) {
  process.stdout.write(JSON.stringify(obj) + '\n', () => process.exit(code))
}

function wsOptions (token) {
  const headers = {}
  if (token) headers.Cookie = 'selah_session=' + token
  const o = { headers }
  if (opts.origin) o.origin = opts.origin
  return o
}

// Every socket the providers open, so that we can wait for their closing handshakes.
const sockets = new Set()

// WebsocketProvider constructs its socket as `new provider._WS(provider.url, provider.protocols)`
// (y-websocket 3.1.0, src/y-websocket.js, setupWS), with _WS = opts.WebSocketPolyfill and
// url = serverUrl + '/' + roomname (+ '?' + params when params are given; we give none).
function cookieWebSocket (token) {
  return class CookieWebSocket extends WebSocket {
    constructor (url, protocols) {
      super(url, protocols, wsOptions(token))
      sockets.add(this)
      this.once('close', () => sockets.delete(this))
    }
  }
}

function makeClient (name, token, url = opts.url) {
  const doc = new Y.Doc()
  const provider = new WebsocketProvider(url, opts.room, doc, {
    WebSocketPolyfill: cookieWebSocket(token),
    disableBc: true
  })
  const c = { name, doc, provider, text: doc.getText('text'), connects: 0, status: 'connecting', errors: [], closes: [], editing: false, remoteWhileEditing: 0 }
  // Remote updates applied while this client was still making its own edits: proof that the
  // two clients' edits crossed in flight rather than running one after the other.
  doc.on('update', (_update, origin) => { if (c.editing && origin === provider) c.remoteWhileEditing++ })
  provider.on('status', ({ status }) => {
    c.status = status
    if (status === 'connected') c.connects++
  })
  provider.on('connection-error', (ev) => {
    if (c.errors.length < 5) c.errors.push(String(ev?.message ?? ev?.error?.message ?? ev))
  })
  provider.on('connection-close', (ev) => {
    if (ev && c.closes.length < 5) c.closes.push({ code: ev.code, reason: String(ev.reason ?? '') })
  })
  return c
}

async function waitUntil (pred, step = 10) {
  while (!pred()) {
    if (Date.now() >= deadline) return false
    await sleep(step)
  }
  return true
}

async function destroyAll (clients) {
  for (const c of clients) c.provider.destroy() // sends awareness "left" (null state), then closes
  const pending = [...sockets].filter((s) => s.readyState !== WebSocket.CLOSED)
  await Promise.race([
    Promise.all(pending.map((s) => new Promise((resolve) => s.once('close', resolve)))),
    sleep(2000)
  ])
  for (const s of sockets) s.terminate()
  for (const c of clients) c.doc.destroy() // also stops the awareness timer
}

function diag (c) {
  return { name: c.name, synced: c.provider.synced, status: c.status, connects: c.connects, length: c.text.length, errors: c.errors, closes: c.closes }
}

// Insert position: a random word boundary (the start, or right after a space). Every insert is a
// whole word followed by a space, so no insert, concurrent or not, can split another word.
function randomBoundary (s) {
  let i = Math.floor(Math.random() * (s.length + 1))
  while (i > 0 && i < s.length && s[i - 1] !== ' ') i++
  return i
}

async function editLoop (c, tag) {
  const aw = c.provider.awareness
  c.editing = true
  for (let i = 0; i < opts.edits; i++) {
    const index = randomBoundary(c.text.toString())
    const word = `${tag}${i} `
    c.text.insert(index, word)
    if (i % opts.cursorEvery === 0) aw.setLocalStateField('cursor', { index: index + word.length })
    await sleep(Math.random() * 5)
  }
  c.editing = false
  aw.setLocalStateField('cursor', { index: c.text.length, done: true })
}

function missingTags (text, expected) {
  const words = text.split(' ').filter((w) => w.length > 0)
  const seen = new Map()
  for (const w of words) seen.set(w, (seen.get(w) || 0) + 1)
  const missing = expected.filter((t) => !seen.has(t))
  const extra = words.length - expected.length // duplicated or foreign words
  return { missing, extra }
}

const sameJson = (a, b) => a !== undefined && b !== undefined && JSON.stringify(a) === JSON.stringify(b)
const peerSeen = (c, peer) => sameJson(c.provider.awareness.getStates().get(peer.doc.clientID), peer.provider.awareness.getLocalState())

async function modeEdit () {
  const a = makeClient('a', opts.token)
  // --url2: the second client talks to another server (another Selah instance of the same team).
  const b = makeClient('b', opts.token2 ?? opts.token, opts.url2 ?? opts.url)
  a.provider.awareness.setLocalState({ user: { name: 'a' }, cursor: { index: 0 } })
  b.provider.awareness.setLocalState({ user: { name: 'b' }, cursor: { index: 0 } })
  const clients = [a, b]
  const expected = []
  for (let i = 0; i < opts.edits; i++) expected.push(`a${i}`, `b${i}`)

  let phase = 'sync'
  let ok = await waitUntil(() => a.provider.synced && b.provider.synced)
  const initial = a.text.toString()
  if (ok) {
    phase = 'edit'
    await Promise.all([editLoop(a, 'a'), editLoop(b, 'b')])
    phase = 'converge'
    ok = await waitUntil(() => {
      const ta = a.text.toString()
      return ta === b.text.toString() && missingTags(ta, expected).missing.length === 0 &&
        peerSeen(a, b) && peerSeen(b, a)
    })
  }
  const ta = a.text.toString()
  const tb = b.text.toString()
  const check = missingTags(ta, expected)
  const result = ok
    ? { converged: true, text: ta, length: ta.length, awareness_seen: true, words: expected.length + check.extra, remote_updates_while_editing: [a.remoteWhileEditing, b.remoteWhileEditing], connects: a.connects + b.connects, elapsed_ms: Date.now() - started }
    : {
        converged: false,
        phase,
        texts_equal: ta === tb,
        initial_length: initial.length,
        missing_in_a: missingTags(ta, expected).missing.length,
        missing_in_b: missingTags(tb, expected).missing.length,
        missing_sample: check.missing.slice(0, 10),
        awareness_a_sees_b: peerSeen(a, b),
        awareness_b_sees_a: peerSeen(b, a),
        clients: clients.map(diag),
        elapsed_ms: Date.now() - started
      }
  await destroyAll(clients)
  emit(result, ok ? 0 : 1)
}

async function modeCheck () {
  const c = makeClient('check', opts.token)
  const ok = await waitUntil(() => c.provider.synced)
  const text = c.text.toString()
  const result = ok
    ? { text, length: text.length }
    : { synced: false, text, length: text.length, client: diag(c), elapsed_ms: Date.now() - started }
  await destroyAll([c])
  emit(result, ok ? 0 : 1)
}

function modeRefused () {
  const url = opts.url + '/' + opts.room
  const ws = new WebSocket(url, [], wsOptions(opts.token))
  ws.binaryType = 'arraybuffer'
  let done = false
  let opened = false
  let frames = 0
  const finish = (obj, code) => {
    if (done) return
    done = true
    try { ws.terminate() } catch {}
    emit(obj, code)
  }
  ws.on('unexpected-response', (_req, res) => {
    let body = ''
    res.setEncoding('utf8')
    res.on('data', (chunk) => { if (body.length < 500) body += chunk })
    const report = () => finish({ refused: true, status: res.statusCode, body: body.slice(0, 500) }, 0)
    res.on('end', report)
    res.on('error', report)
    setTimeout(report, 1000) // a server that keeps the response open: report without the body
  })
  ws.on('open', () => { opened = true })
  ws.on('message', () => { frames++ })
  ws.on('close', (code, reason) => {
    if (opened) finish({ refused: true, status: null, close_code: code, close_reason: reason.toString(), frames_before_close: frames }, 0)
  })
  ws.on('error', (err) => {
    if (!opened) finish({ refused: false, status: null, error: err.message }, 2)
  })
  setTimeout(() => finish({ refused: false, opened, frames, status: opened ? 101 : null }, 1), opts.timeout * 1000)
}

if (opts.mode === 'edit') await modeEdit()
else if (opts.mode === 'check') await modeCheck()
else modeRefused()
