/**
 * Issue 6 long run: hostile frames against a running `ctxsync watch` and a running `ctxsync serve`, over
 * real WebSockets on 127.0.0.1 — the CI test (test/e2e/hostile-frames.test.ts) at a hundred thousand
 * frames. Half the frames go to each process; of each half, about half come from strangers (before
 * authentication) and half from peers that authenticated with the real secret and then send mutated,
 * sealed messages (bench/hostile-wire.mjs). Every frame is one a correct receiver must refuse.
 *
 * Figures: frames sent, connections and authenticated sessions, crashes (a process that exited), state
 * changes (any byte of a tracked file, sidecar or relay store that differs afterwards), close codes, time,
 * and the target's resident memory before/after/peak (VmRSS/VmHWM). A good peer syncs after each part.
 *
 *   node bench/fuzz-frames.mjs [--quick] [--frames N] [--seed S]
 */
import { createHash } from 'node:crypto'
import fs from 'node:fs'
import fsp from 'node:fs/promises'
import path from 'node:path'
import { QUICK, arg, ctx, ctxChild, report, run, sleep, stopChild, tempDir, twoClones, waitOutput } from './lib.mjs'
import * as wire from './hostile-wire.mjs'

const FRAMES = Number(arg('frames', QUICK ? 10_000 : 100_000))
const SEED = Number(arg('seed', Date.now() % 1_000_000))
const TODOS = '.rhema/todos.yaml'
const KNOWLEDGE = '.rhema/knowledge.yaml'
const TODOS_TEXT = 'todos:\n  - id: t1\n    title: "First task"\n    status: open\n  - id: t2\n    title: "Second task"\n    status: open\n'
const files = { [TODOS]: TODOS_TEXT, [KNOWLEDGE]: 'entries:\n  - id: k1\n    text: "kept"\n' }

function tree(dir, skip = () => false) {
  const out = {}
  const walk = (rel) => {
    for (const e of fs.readdirSync(path.join(dir, rel), { withFileTypes: true })) {
      const r = rel ? `${rel}/${e.name}` : e.name
      if (skip(r)) continue
      if (e.isDirectory()) walk(r)
      else out[r] = e.isFile() ? createHash('sha256').update(fs.readFileSync(path.join(dir, r))).digest('hex') : 'other'
    }
  }
  walk('')
  return JSON.stringify(Object.entries(out).sort())
}
function diffTrees(x, y) {
  const [a, b] = [new Map(JSON.parse(x)), new Map(JSON.parse(y))]
  return [...new Set([...a.keys(), ...b.keys()])].filter((k) => a.get(k) !== b.get(k)).join(', ')
}
/** A relay's stored state, without each space's seen.json (legitimate visits, for expiry). */
const relayState = (dir) => tree(dir, (r) => /\/seen\.json(\.[0-9a-f]+)?$/.test(r))
const spaceState = (dir) => tree(dir, (r) => r.startsWith('.ctxsync') && r !== '.ctxsync' && !r.startsWith('.ctxsync/docs'))

function memory(pid) {
  try {
    const s = fs.readFileSync(`/proc/${pid}/status`, 'utf8')
    const kb = (k) => Number(new RegExp(`^${k}:\\s+(\\d+)`, 'm').exec(s)?.[1] ?? NaN) / 1024
    return { rss: kb('VmRSS'), peak: kb('VmHWM') }
  } catch {
    return { rss: NaN, peak: NaN }
  }
}

/** Fuzzes `url` until `budget` frames were sent, alternating stranger and authenticated batches. */
async function storm(url, { rand, spaceId, secret, budget }) {
  const t0 = performance.now()
  const codes = []
  let frames = 0
  let connections = 0
  let authenticated = 0
  while (frames < budget) {
    const pre = await wire.fuzzPreAuth(url, { rand, spaceId, connections: 200, concurrency: 24 })
    const post = await wire.fuzzPostAuth(url, { rand, spaceId, secret, names: [TODOS, KNOWLEDGE], connections: 100, concurrency: 12 })
    frames += pre.frames + post.frames
    connections += pre.codes.length + post.codes.length
    authenticated += post.authenticated
    codes.push(...pre.codes, ...post.codes)
  }
  return { frames, connections, authenticated, codes, ms: performance.now() - t0 }
}

const readText = (dir, rel) => fs.readFileSync(path.join(dir, rel), 'utf8')
const spaceIdOf = (dir) => /^space:\s*"?([\w-]+)"?/m.exec(readText(dir, 'ctxsync.yaml'))[1]

async function main() {
  const rand = wire.mulberry32(SEED)
  const { a, b } = await twoClones(files, 'fuzz')
  const spaceId = spaceIdOf(a)
  const secret = readText(a, '.ctxsync/secret').trim()
  const rows = []
  const extra = { seed: `${SEED} (--seed replays the frame sequence)` }

  // ── watch ──
  const pa = ctxChild(['watch', '--port', '0'], { cwd: a })
  const aUrl = (await waitOutput(pa, /listening on (ws:\/\/127\.0\.0\.1:\d+)/))[1]
  const before = spaceState(a)
  const m0 = memory(pa.pid)
  const w = await storm(aUrl, { rand, spaceId, secret, budget: FRAMES / 2 })
  const m1 = memory(pa.pid)
  const wAlive = pa.exitCode === null
  const wSame = spaceState(a) === before
  if (!wSame) extra['watch state diff'] = diffTrees(before, spaceState(a))
  const pb = ctxChild(['watch', '--port', '0', '--peer', aUrl], { cwd: b })
  await waitOutput(pb, /connected to /)
  await fsp.writeFile(path.join(b, TODOS), TODOS_TEXT.replace('Second task', 'Second task, after the storm'))
  let wSyncs = false
  for (let i = 0; i < 200 && !wSyncs; i++, await sleep(50)) wSyncs = readText(a, TODOS).includes('after the storm')
  await stopChild(pb)
  await stopChild(pa)
  rows.push(
    { figure: 'watch: frames sent', value: w.frames, digits: 0, note: `${w.connections} connections, ${w.authenticated} authenticated` },
    { figure: 'watch: crashes', value: wAlive ? 0 : 1, digits: 0, target: { op: '<=', value: 0 } },
    { figure: 'watch: state changed', value: wSame ? 0 : 1, digits: 0, target: { op: '<=', value: 0 }, note: 'files + .ctxsync/docs' },
    { figure: 'watch: good peer syncs after', value: wSyncs ? 1 : 0, digits: 0, target: { op: '>=', value: 1 } },
    { figure: 'watch: time', value: w.ms / 1000, unit: 's', note: `${Math.round(w.frames / (w.ms / 1000))} frames/s` },
    { figure: 'watch: RSS after', value: m1.rss, unit: 'MiB', note: `before ${m0.rss.toFixed(1)}, peak ${m1.peak.toFixed(1)}` },
  )
  extra['watch close codes'] = wire.histogram(w.codes)

  // ── serve ──
  const data = await tempDir('fuzz-relay')
  const relay = ctxChild(['serve', '--port', '0', '--data', data])
  const rUrl = (await waitOutput(relay, /relay listening on (ws:\/\/127\.0\.0\.1:\d+)/))[1]
  await ctx(['sync', '--registry', rUrl], { cwd: a })
  const stored = relayState(data)
  const r0 = memory(relay.pid)
  const s = await storm(rUrl, { rand, spaceId, secret, budget: FRAMES / 2 })
  const r1 = memory(relay.pid)
  const sAlive = relay.exitCode === null
  const sSame = relayState(data) === stored
  await fsp.writeFile(path.join(a, TODOS), TODOS_TEXT.replace('First task', 'First task, after the storm'))
  await ctx(['sync', '--registry', rUrl], { cwd: a })
  await ctx(['sync', '--registry', rUrl], { cwd: b })
  const sSyncs = readText(b, TODOS).includes('First task, after the storm')
  await stopChild(relay)
  rows.push(
    { figure: 'serve: frames sent', value: s.frames, digits: 0, note: `${s.connections} connections, ${s.authenticated} authenticated` },
    { figure: 'serve: crashes', value: sAlive ? 0 : 1, digits: 0, target: { op: '<=', value: 0 } },
    { figure: 'serve: store changed', value: sSame ? 0 : 1, digits: 0, target: { op: '<=', value: 0 }, note: '--data dir' },
    { figure: 'serve: good peers sync after', value: sSyncs ? 1 : 0, digits: 0, target: { op: '>=', value: 1 } },
    { figure: 'serve: time', value: s.ms / 1000, unit: 's', note: `${Math.round(s.frames / (s.ms / 1000))} frames/s` },
    { figure: 'serve: RSS after', value: r1.rss, unit: 'MiB', note: `before ${r0.rss.toFixed(1)}, peak ${r1.peak.toFixed(1)}` },
  )
  extra['serve close codes'] = wire.histogram(s.codes)
  const undocumented = [...w.codes, ...s.codes].filter((c) => !wire.DOCUMENTED_CODES.includes(c))
  rows.push({ figure: 'closes outside 1002/1008/1009/4401/4403', value: undocumented.length, digits: 0, target: { op: '<=', value: 0 } })
  report('Hostile frames against watch and serve', rows, extra)
}

run(main)
