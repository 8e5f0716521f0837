/**
 * Issue 4 benchmark: the relay (`ctxsync serve`), as a child process on 127.0.0.1 with a temp --data dir.
 *
 * Part 1 — fan-out. N peers (default 200) in this process, each a real PeerSession over a real WebSocket to
 * the relay, all in one space, all editing one shared document: every peer makes one single-field edit per
 * second (phases spread evenly over the second), so the relay receives N updates/s and relays N×(N−1).
 * Latency is timed per delivery, from just before the edit on the sender to the update arriving in the
 * receiver's host (same clock: same process). The relay applies, stores (fsynced) and relays every update
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
 *   node bench/relay.mjs [--quick] [--peers N] [--seconds S] [--mb M] [--apply] [--no-fan-out] [--no-first-sync] [--prof DIR] [--prof-client DIR]
 *
 * `--prof DIR` runs the relay under `node --cpu-prof`, `--prof-client DIR` the first sync's `ctxsync sync`
 * (summarise with bench/prof-top.mjs).
 */
import fs from 'node:fs'
import fsp from 'node:fs/promises'
import path from 'node:path'
import * as Y from 'yjs'
import { deriveCredentials } from '../dist/net/auth.js'
import { syncOnce } from '../dist/net/sync-once.js'
import { PeerSession } from '../dist/net/session.js'
import { wsDialer } from '../dist/net/ws.js'
import { newPeerId, newSpaceId } from '../dist/ids.js'
import { QUICK, arg, ctx, ctxChild, fmt, pct, report, run, sleep, tempDir, todosFileOfSize, waitOutput } from './lib.mjs'

const PEERS = Number(arg('peers', QUICK ? 50 : 200))
const SECONDS = Number(arg('seconds', QUICK ? 5 : 20))
const MB = Number(arg('mb', QUICK ? 2 : 10))
const APPLY = process.argv.includes('--apply')
const SECRET = 'bench-relay-secret-0123456789abcdefghijklmnop'
const DOC = '.rhema/todos.yaml'

/** A peer's documents: its own edits in a Y.Doc; what arrives is timed (and integrated with --apply). */
class BenchHost {
  constructor(spaceId, name, clock) {
    this.spaceId = spaceId
    this.self = { id: newPeerId(), name, kind: 'agent' }
    this.doc = new Y.Doc()
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
    this.clock.arrived(update, performance.now())
    if (APPLY) Y.applyUpdate(this.doc, update, 'remote')
  }
  onUpdate(l) {
    this.listeners.add(l)
    return () => this.listeners.delete(l)
  }
  edit(i, seq, measuring) {
    const client = this.doc.clientID
    const at = Y.decodeStateVector(Y.encodeStateVector(this.doc)).get(client) ?? 0
    if (measuring) this.clock.sent(client, at, performance.now())
    this.doc.getMap('todos').set(`p${i}`, `status ${seq}`)
  }
}

/** Send times by (Yjs client, clock); latencies of the updates that arrive. */
function latencyClock() {
  const sent = new Map()
  const lat = []
  let unknown = 0
  return {
    lat,
    get unknown() { return unknown },
    sent: (client, clock, t) => sent.set(`${client}:${clock}`, t),
    arrived(update, now) {
      for (const [client, clock] of Y.parseUpdateMeta(update).from) {
        const t = sent.get(`${client}:${clock}`)
        if (t === undefined) unknown++
        else lat.push(now - t)
      }
    },
  }
}

async function metrics(http) {
  const text = await (await fetch(`${http}/metrics`)).text()
  const get = (name) => Number(new RegExp(`^${name} ([\\d.e+]+)$`, 'm').exec(text)?.[1] ?? NaN)
  return { cpu: get('process_cpu_seconds_total'), rss: get('process_resident_memory_bytes'), relayed: get('ctxsync_relay_relayed_total'), updates: get('ctxsync_relay_updates_total') }
}

async function fanOut(relayUrl, http) {
  const spaceId = newSpaceId()
  const clock = latencyClock()
  const dialer = wsDialer({ heartbeatMs: 60_000 })
  const creds = deriveCredentials(SECRET, spaceId)
  const peers = []
  const t0 = performance.now()
  // Connect in waves of 50: a real relay sees peers arrive over time, and the handshake timeout is 10 s.
  for (let w = 0; w < PEERS; w += 50) {
    await Promise.all(Array.from({ length: Math.min(50, PEERS - w) }, async (_, k) => {
      const host = new BenchHost(spaceId, `peer-${w + k}`, clock)
      const session = new PeerSession({ host, transport: await dialer.dial(relayUrl, { timeoutMs: 10_000 }), role: 'dial', credentials: creds })
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
  const connectS = (performance.now() - t0) / 1000
  let measuring = false
  let edits = 0
  let seq = 0
  const timers = peers.map(({ host, i }) => setTimeout(function tick() {
    host.edit(i, ++seq, measuring)
    if (measuring) edits++
    timers[i] = setTimeout(tick, 1000)
  }, (1000 * i) / PEERS))
  await sleep(2000) // warm-up: everyone is editing, nothing is timed
  const before = await metrics(http)
  const cpu0 = process.cpuUsage()
  const w0 = performance.now()
  measuring = true
  let rssMax = before.rss
  for (let s = 0; s < SECONDS; s++) {
    await sleep(1000)
    rssMax = Math.max(rssMax, (await metrics(http)).rss)
  }
  measuring = false
  const wall = (performance.now() - w0) / 1000
  const after = await metrics(http)
  const own = process.cpuUsage(cpu0)
  for (const t of timers) clearTimeout(t)
  await sleep(1500) // stragglers
  const expected = edits * (PEERS - 1)
  for (const { session } of peers) session.close(1000, 'done')
  await sleep(200)
  return {
    connectS, edits, expected, lat: clock.lat, wall,
    relayCpu: (after.cpu - before.cpu) / wall, relayRssMiB: rssMax / 2 ** 20,
    relayedPerS: (after.relayed - before.relayed) / wall, updatesPerS: (after.updates - before.updates) / wall,
    benchCpu: (own.user + own.system) / 1e6 / wall,
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
  await ctx(['init', '--name', 'bench-a', '--discovery', 'registry', '--registry', relayUrl], { cwd: a })
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
  const pulled = await syncOnce({ host: sink, token: JSON.parse(token).token, peers: [relayUrl], timeoutMs: 60_000 })
  const transferMs = performance.now() - t0
  if (pulled.peers[0].outcome !== 'synced') throw new Error(`transfer-only pull: ${pulled.peers[0].outcome} ${pulled.peers[0].error ?? ''}`)
  let same = 0
  for (let k = 0; k < files; k++) {
    const rel = `.rhema/area-${String(k).padStart(2, '0')}/todos.yaml`
    if (fs.existsSync(path.join(b, rel)) && fs.readFileSync(path.join(a, rel)).equals(fs.readFileSync(path.join(b, rel)))) same++
  }
  return { files, bytes, setupS, upOk: up.code === 0, ms: r.ms, received: out.bytesReceived, same, relayCpuS: after.cpu - before.cpu, transferMs, kept }
}

run(async () => {
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
    { figure: 'relay CPU', value: f.relayCpu * 100, unit: '% of a core', digits: 0, note: `${fmt(f.updatesPerS, 0)} updates/s in, ${fmt(f.relayedPerS, 0)} relayed/s out` },
    { figure: 'relay RSS (peak)', value: f.relayRssMiB, unit: 'MiB', digits: 0 },
    ] : []),
    ...(s ? [
      { figure: `first sync of a ${MB} MB space (${s.files} files)`, value: s.ms / 1000, unit: 's', target: { op: '<=', value: 3 }, digits: 2, note: `spawn to exit of \`ctxsync sync\`; ${s.same}/${s.files} files byte-identical; received ${fmt(s.received / 2 ** 20, 1)} MiB` },
      { figure: '  of which relay + network (transfer only)', value: s.transferMs / 1000, unit: 's', digits: 2, note: `the same space pulled in process into a byte sink: ${fmt(s.kept / 2 ** 20, 1)} MiB of CRDT state` },
    ] : []),
  ], {
    ...(f ? { 'fan-out': `${SECONDS} s measured after 2 s of warm-up; peers connected in ${fmt(f.connectS, 1)} s; receivers ${APPLY ? 'integrate' : 'time but do not integrate'} updates (--apply); this process used ${fmt(f.benchCpu * 100, 0)}% of a core` } : {}),
    ...(s ? { 'first sync': `${fmt(s.bytes / 2 ** 20, 1)} MiB of YAML; setup (init + upload) ${fmt(s.setupS, 1)} s${s.upOk ? '' : ' (upload FAILED)'}; relay CPU during the sync ${fmt(s.relayCpuS, 2)} s` } : {}),
  })
  if (lost > 0) console.log(`note: ${lost} deliveries were not timed (arrived after the straggler wait, or lost)`)
})
