/**
 * Issue 4 benchmark: the relay (`ctxsync serve`), as a child process on 127.0.0.1 with a temp --data dir.
 *
 * Part 1 — fan-out. N peers (default 200), each a real PeerSession over a real WebSocket to the relay, all
 * in one space, all editing one shared document: every peer makes one single-field edit per second (phases
 * spread evenly over the second), so the relay receives N updates/s and relays N×(N−1). The peers live in
 * `--procs` worker processes (default 4; 1 keeps them all in this process): 200 real peers are 200
 * machines, and one event loop receiving all 40,000 deliveries a second measures its own queue more than
 * the relay. Latency is timed per delivery, from just before the edit on the sender to the update arriving
 * in the receiver's host, on the machine's one clock (performance.timeOrigin + now()). The relay applies, stores (fsynced) and relays every update
 * for real; receivers identify each update by its Yjs client and clock (which the session parses anyway)
 * but by default do not integrate it into a Y.Doc — with N receivers in one process that work would
 * measure this process, not the relay (`--apply` integrates anyway). Relay CPU and RSS come from its own
 * /metrics (process_cpu_seconds_total, process_resident_memory_bytes), sampled every second.
 *
 * Part 2 — first sync of a 10 MB space. A clone holding 40 generated Rhema todos files of 256 KB each
 * (`init --discovery registry`, then `sync` uploads them to the relay); then a fresh checkout holding only
 * ctxsync.yaml and a read token (CTXSYNC_TOKEN) runs `ctxsync sync`: the figure is that process's wall
 * time, spawn to exit (it exits once every file is written), and every file is then compared byte for byte.
 * For the split, the same space is also pulled in process by a host that only keeps the bytes: the relay's
 * and the network's share (dial, handshake, manifest, chunked diffs, Synced), without the CRDT and YAML
 * work of writing the files.
 *
 *   node bench/relay.mjs [--quick] [--peers N] [--procs N] [--seconds S] [--mb M] [--apply] [--no-fan-out] [--no-first-sync] [--prof DIR] [--prof-client DIR]
 *
 * `--prof DIR` runs the relay under `node --cpu-prof`, `--prof-client DIR` the first sync's `ctxsync sync`
 * (summarise with bench/prof-top.mjs).
 */
import fs from 'node:fs'
import fsp from 'node:fs/promises'
import path from 'node:path'
import { fork } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import * as Y from 'yjs'
import { deriveCredentials } from '../dist/net/auth.js'
import { syncOnce } from '../dist/net/sync-once.js'
import { PeerSession } from '../dist/net/session.js'
import { wsDialer } from '../dist/net/ws.js'
import { newPeerId, newSpaceId } from '../dist/ids.js'
import { QUICK, arg, ctx, ctxChild, fmt, lineModel, pct, report, run, sleep, tempDir, todosFileOfSize, waitOutput } from './lib.mjs'

const PEERS = Number(arg('peers', QUICK ? 50 : 200))
const SECONDS = Number(arg('seconds', QUICK ? 5 : 20))
const MB = Number(arg('mb', QUICK ? 2 : 10))
const APPLY = process.argv.includes('--apply')
const PROCS = Math.max(1, Number(arg('procs', 4)))
const WORKER = process.argv.includes('--worker')
/** Milliseconds on the machine's clock, comparable between processes. */
const now = () => performance.timeOrigin + performance.now()
/** A Yjs (client, clock) pair as one number (clients are 32-bit, clocks stay far below 2^20 here). */
const idOf = (client, clock) => client * 2 ** 20 + clock
const SECRET = 'bench-relay-secret-0123456789abcdefghijklmnop'
const DOC = '.rhema/todos.yaml'

/** A peer's documents: its own edits in a Y.Doc; what arrives is timed (and integrated with --apply). */
class BenchHost {
  constructor(spaceId, name, clock, lines) {
    this.spaceId = spaceId
    this.self = { id: newPeerId(), name, kind: 'agent' }
    // A real model's document: the relay refuses updates outside the schema (src/crdt/guard.ts).
    this.lines = lines
    this.doc = lines.doc
    this.clock = clock
    this.listeners = new Set()
    this.doc.on('update', (u, origin) => {
      if (origin !== 'remote') for (const l of this.listeners) l(DOC, u, null)
    })
  }
  docNames() { return this.doc.store.clients.size ? [DOC] : [] }
  stateVector() { return Y.encodeStateVector(this.doc) }
  encodeDiff(_d, sv) {
    const u = Y.encodeStateAsUpdate(this.doc, sv)
    return u.length <= 2 ? null : u
  }
  acceptDoc(name) { return name === DOC }
  async applyRemote(_doc, update) {
    this.clock.arrived(update, now())
    if (APPLY) this.lines.model.applyRemote(update, 'remote')
  }
  onUpdate(l) {
    this.listeners.add(l)
    return () => this.listeners.delete(l)
  }
  edit(i, seq, measuring) {
    const client = this.doc.clientID
    const at = Y.decodeStateVector(Y.encodeStateVector(this.doc)).get(client) ?? 0
    if (measuring) this.clock.send(client, at, now())
    this.lines.set(`p${i}`, `status ${seq}`)
  }
}

/** Send times by (Yjs client, clock); arrivals of the updates that arrive (joined by `latencies`). */
function latencyClock() {
  const sent = new Map()
  const arrivals = []
  return {
    sent,
    arrivals,
    send: (client, clock, t) => sent.set(idOf(client, clock), t),
    arrived(update, t) {
      for (const [client, clock] of Y.parseUpdateMeta(update).from) arrivals.push(idOf(client, clock), t)
    },
  }
}

function latencies(sent, arrivals) {
  const lat = []
  for (let k = 0; k < arrivals.length; k += 2) {
    const t = sent.get(arrivals[k])
    if (t !== undefined) lat.push(arrivals[k + 1] - t)
  }
  return lat
}

/** A quantile of the relay's fan-out histogram between two scrapes (linear within a bucket, in ms). */
function histogramQuantile(before, after, q) {
  const counts = after.buckets.map(([le, n], i) => [le, n - (before.buckets[i]?.[1] ?? 0)])
  const total = counts[counts.length - 1][1]
  if (!total) return NaN
  const want = q * total
  let lo = 0
  let prev = 0
  for (const [le, n] of counts) {
    if (n >= want) return (le === Infinity ? lo : lo + ((le - lo) * (want - prev)) / Math.max(1, n - prev)) * 1000
    lo = le
    prev = n
  }
  return NaN
}

async function metrics(http) {
  const text = await (await fetch(`${http}/metrics`)).text()
  const get = (name) => Number(new RegExp(`^${name} ([\\d.e+]+)$`, 'm').exec(text)?.[1] ?? NaN)
  const buckets = [...text.matchAll(/^ctxsync_relay_fanout_seconds_bucket\{le="([^"]+)"\} (\d+)$/gm)].map((m) => [m[1] === '+Inf' ? Infinity : Number(m[1]), Number(m[2])])
  return { buckets, at: performance.now(), cpu: get('process_cpu_seconds_total'), rss: get('process_resident_memory_bytes'), relayed: get('ctxsync_relay_relayed_total'), updates: get('ctxsync_relay_updates_total') }
}

/** Connects peers [from, to) of the space; returns them once all are synced. */
async function connectPeers(relayUrl, spaceId, from, to, clock) {
  const dialer = wsDialer({ heartbeatMs: 60_000 })
  const creds = deriveCredentials(SECRET, spaceId)
  const peers = []
  // Connect in waves of 50: a real relay sees peers arrive over time, and the handshake timeout is 10 s.
  for (let w = from; w < to; w += 50) {
    await Promise.all(Array.from({ length: Math.min(50, to - w) }, async (_, k) => {
      const host = new BenchHost(spaceId, `peer-${w + k}`, clock, await lineModel(`peer-${w + k}`))
      const session = new PeerSession({ host, transport: await dialer.dial(relayUrl, { timeoutMs: 10_000 }), role: 'dial', credentials: creds, relay: {} })
      host.onUpdate((doc, u) => session.sendUpdate(doc, u))
      const synced = new Promise((resolve, reject) => {
        session.once('synced', resolve)
        session.once('closed', (c) => reject(new Error(`peer ${w + k} closed: ${c.code} ${c.reason}`)))
      })
      session.start()
      await synced
      peers.push({ host, session, i: w + k })
    }))
  }
  return peers
}

/**
 * Every peer edits once a second at its phase, from `startAt` on; edits in [measureFrom, measureTo) are
 * timed. Resolves after the stragglers' wait with what this process sent and received.
 */
async function editLoop(peers, clock, { startAt, measureFrom, measureTo }) {
  let edits = 0
  let seq = 0
  const cpu0 = process.cpuUsage()
  const timers = new Map()
  for (const { host, i } of peers) {
    const tick = () => {
      const t = now()
      const measuring = t >= measureFrom && t < measureTo
      host.edit(i, ++seq, measuring)
      if (measuring) edits++
      if (t + 1000 < measureTo + 500) timers.set(i, setTimeout(tick, 1000))
    }
    timers.set(i, setTimeout(tick, Math.max(0, startAt + (1000 * i) / PEERS - now())))
  }
  await sleep(Math.max(0, measureTo - now()) + 1500) // stragglers
  for (const t of timers.values()) clearTimeout(t)
  const own = process.cpuUsage(cpu0)
  for (const { session } of peers) session.close(1000, 'done')
  await sleep(200)
  return { edits, sent: [...clock.sent], arrivals: clock.arrivals, cpuS: (own.user + own.system) / 1e6 }
}

/** `--worker`: a child of the fan-out, hosting a share of the peers (see `fanOut`). */
async function worker() {
  const { relayUrl, spaceId, from, to } = JSON.parse(arg('job'))
  const clock = latencyClock()
  const peers = await connectPeers(relayUrl, spaceId, from, to, clock)
  const plan = await new Promise((resolve) => {
    process.once('message', resolve)
    process.send({ ready: true })
  })
  const r = await editLoop(peers, clock, plan)
  await new Promise((resolve) => process.send(r, resolve))
  process.exit(0)
}

async function fanOut(relayUrl, http) {
  const spaceId = newSpaceId()
  const t0 = performance.now()
  const shares = Array.from({ length: PROCS }, (_, k) => [Math.floor((k * PEERS) / PROCS), Math.floor(((k + 1) * PEERS) / PROCS)])
  let local = null
  const children = []
  if (PROCS === 1) {
    const clock = latencyClock()
    local = { clock, peers: await connectPeers(relayUrl, spaceId, 0, PEERS, clock) }
  } else {
    await Promise.all(shares.map(([from, to]) => new Promise((resolve, reject) => {
      const c = fork(fileURLToPath(import.meta.url), ['--worker', '--job', JSON.stringify({ relayUrl, spaceId, from, to }), '--peers', String(PEERS)], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] })
      c.once('message', () => resolve())
      c.once('exit', (code) => reject(new Error(`fan-out worker for peers ${from}–${to} exited ${code}`)))
      c.once('error', reject)
      children.push(c)
    })))
  }
  const connectS = (performance.now() - t0) / 1000
  // Warm-up: everyone edits for 2 s, nothing is timed.
  const startAt = now() + 300
  const plan = { startAt, measureFrom: startAt + 2000, measureTo: startAt + 2000 + SECONDS * 1000 }
  const results = local ? [editLoop(local.peers, local.clock, plan)] : children.map((c) => new Promise((resolve, reject) => {
    c.once('message', resolve)
    c.removeAllListeners('exit')
    c.once('exit', (code) => code !== 0 && reject(new Error(`fan-out worker exited ${code}`)))
    c.send(plan)
  }))
  await sleep(plan.measureFrom - now())
  const before = await metrics(http)
  let rssMax = before.rss
  while (now() < plan.measureTo - 500) {
    await sleep(Math.min(1000, plan.measureTo - now()))
    rssMax = Math.max(rssMax, (await metrics(http)).rss)
  }
  const after = await metrics(http)
  const wall = (after.at - before.at) / 1000
  const done = await Promise.all(results)
  const sent = new Map(done.flatMap((r) => r.sent))
  const lat = done.flatMap((r) => latencies(sent, r.arrivals))
  const edits = done.reduce((n, r) => n + r.edits, 0)
  return {
    connectS, edits, expected: edits * (PEERS - 1), lat, wall,
    relayCpu: (after.cpu - before.cpu) / wall, relayRssMiB: rssMax / 2 ** 20,
    relayedPerS: (after.relayed - before.relayed) / wall, updatesPerS: (after.updates - before.updates) / wall,
    relayP50: histogramQuantile(before, after, 0.5), relayP99: histogramQuantile(before, after, 0.99),
    benchCpu: done.reduce((n, r) => n + r.cpuS, 0) / (SECONDS + 3.5),
  }
}

async function firstSync(relayUrl, http) {
  const base = await tempDir('relay-first')
  const a = path.join(base, 'a')
  const b = path.join(base, 'b')
  const files = Math.max(1, Math.round((MB * 1024) / 256))
  let bytes = 0
  for (let k = 0; k < files; k++) {
    const { text } = todosFileOfSize(256 * 1024, 1000 + k)
    const rel = `.rhema/area-${String(k).padStart(2, '0')}/todos.yaml`
    await fsp.mkdir(path.dirname(path.join(a, rel)), { recursive: true })
    await fsp.writeFile(path.join(a, rel), text)
    bytes += Buffer.byteLength(text)
  }
  const s0 = performance.now()
  await ctx(['init', '--name', 'bench-a', '--discovery', 'registry', '--registry', relayUrl, '--no-git'], { cwd: a })
  const up = await ctx(['sync', '--timeout', '120'], { cwd: a })
  const setupS = (performance.now() - s0) / 1000
  const token = (await ctx(['token', 'create', '--role', 'read', '--json'], { cwd: a })).stdout
  await fsp.mkdir(b)
  await fsp.copyFile(path.join(a, 'ctxsync.yaml'), path.join(b, 'ctxsync.yaml'))
  const before = await metrics(http)
  const profClient = arg('prof-client')
  const r = await ctx(['sync', '--json', '--timeout', '60'], { cwd: b, env: { CTXSYNC_TOKEN: JSON.parse(token).token }, nodeArgs: profClient ? ['--cpu-prof', '--cpu-prof-dir', profClient] : [] })
  const after = await metrics(http)
  const out = JSON.parse(r.stdout)
  // Transfer only: the relay's part, to a host that keeps the bytes and renders nothing.
  const spaceId = /space: (s-[a-z2-7]+)/.exec(fs.readFileSync(path.join(a, 'ctxsync.yaml'), 'utf8'))[1]
  let kept = 0
  const sink = {
    spaceId, self: { id: newPeerId(), name: 'sink', kind: 'agent' }, docNames: () => [], stateVector: () => Uint8Array.of(0),
    encodeDiff: () => null, acceptDoc: () => true, onUpdate: () => () => {},
    applyRemote: async (_d, u) => void (kept += u.length),
  }
  const t0 = performance.now()
  const pulled = await syncOnce({ host: sink, token: JSON.parse(token).token, peers: [relayUrl], relay: { url: relayUrl }, timeoutMs: 60_000 })
  const transferMs = performance.now() - t0
  if (pulled.peers[0].outcome !== 'synced') throw new Error(`transfer-only pull: ${pulled.peers[0].outcome} ${pulled.peers[0].error ?? ''}`)
  let same = 0
  for (let k = 0; k < files; k++) {
    const rel = `.rhema/area-${String(k).padStart(2, '0')}/todos.yaml`
    if (fs.existsSync(path.join(b, rel)) && fs.readFileSync(path.join(a, rel)).equals(fs.readFileSync(path.join(b, rel)))) same++
    else console.error(`bench/relay: ${rel} differs: ${fs.existsSync(path.join(b, rel)) ? `${fs.statSync(path.join(b, rel)).size} bytes, expected ${fs.statSync(path.join(a, rel)).size}` : 'missing'}`)
  }
  if (same < files) console.error(`bench/relay: the first sync's stderr:\n${r.stderr}`)
  return { files, bytes, setupS, upOk: up.code === 0, ms: r.ms, received: out.bytesReceived, same, relayCpuS: after.cpu - before.cpu, transferMs, kept }
}

if (WORKER) worker().catch((e) => {
  console.error(e)
  process.exit(1)
})
else run(async () => {
  const data = await tempDir('relay-data')
  const prof = arg('prof')
  const relay = ctxChild(['serve', '--port', '0', '--data', data], prof ? { nodeArgs: ['--cpu-prof', '--cpu-prof-dir', prof] } : {})
  const url = (await waitOutput(relay, /relay listening on (ws:\/\/127\.0\.0\.1:\d+)/))[1]
  const http = url.replace(/^ws/, 'http')

  console.error(`bench/relay: fan-out, ${PEERS} peers for ${SECONDS} s…`)
  const f = process.argv.includes('--no-fan-out') ? null : await fanOut(url, http)
  const lost = f ? f.expected - f.lat.length : 0
  if (f) console.error(`bench/relay: fan-out done (p99 ${fmt(pct(f.lat, 99), 1)} ms)`)
  console.error(`bench/relay: first sync of ${MB} MB (setup: init + upload)…`)
  const s = process.argv.includes('--no-first-sync') ? null : await firstSync(url, http)

  report('relay (bench/relay.mjs)', [
    ...(f ? [
    { figure: `fan-out latency p50 (${PEERS} peers, 1 edit/peer/s)`, value: pct(f.lat, 50), unit: 'ms', digits: 1 },
    { figure: 'fan-out latency p99', value: pct(f.lat, 99), unit: 'ms', target: { op: '<=', value: 50 }, digits: 1 },
    { figure: 'fan-out latency max', value: f.lat.reduce((m, x) => Math.max(m, x), 0), unit: 'ms', digits: 1 },
    { figure: 'deliveries timed', value: f.lat.length, note: `${f.edits} edits × ${PEERS - 1} receivers = ${f.expected}; missing ${lost}` },
    { figure: '  of which in the relay, p50', value: f.relayP50, unit: 'ms', digits: 2, note: `ctxsync_relay_fanout_seconds: update taken in → handed to all ${PEERS - 1} other connections` },
    { figure: '  of which in the relay, p99', value: f.relayP99, unit: 'ms', digits: 2 },
    { figure: 'relay CPU', value: f.relayCpu * 100, unit: '% of a core', digits: 0, note: `${fmt(f.updatesPerS, 0)} updates/s in, ${fmt(f.relayedPerS, 0)} relayed/s out` },
    { figure: 'relay RSS (peak)', value: f.relayRssMiB, unit: 'MiB', digits: 0 },
    ] : []),
    ...(s ? [
      { figure: `first sync of a ${MB} MB space (${s.files} files)`, value: s.ms / 1000, unit: 's', target: { op: '<=', value: 3 }, digits: 2, note: `spawn to exit of \`ctxsync sync\`; ${s.same}/${s.files} files byte-identical; received ${fmt(s.received / 2 ** 20, 1)} MiB` },
      { figure: '  of which relay + network (transfer only)', value: s.transferMs / 1000, unit: 's', digits: 2, note: `the same space pulled in process into a byte sink: ${fmt(s.kept / 2 ** 20, 1)} MiB of CRDT state` },
    ] : []),
  ], {
    ...(f ? { 'fan-out': `${SECONDS} s measured after 2 s of warm-up; peers connected in ${fmt(f.connectS, 1)} s; receivers ${APPLY ? 'integrate' : 'time but do not integrate'} updates (--apply); ${PROCS} peer process(es) used ${fmt(f.benchCpu * 100, 0)}% of a core in all` } : {}),
    ...(s ? { 'first sync': `${fmt(s.bytes / 2 ** 20, 1)} MiB of YAML; setup (init + upload) ${fmt(s.setupS, 1)} s${s.upOk ? '' : ' (upload FAILED)'}; relay CPU during the sync ${fmt(s.relayCpuS, 2)} s` } : {}),
  })
  if (lost > 0) console.log(`note: ${lost} deliveries were not timed (arrived after the straggler wait, or lost)`)
})
