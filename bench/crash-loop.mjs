/**
 * Issue 6 benchmark: crash loop. kill -9 of `ctxsync watch`, `ctxsync sync` and `ctxsync serve` (the built
 * CLI, child processes on 127.0.0.1) at random moments, thousands of times — the long run of
 * test/e2e/crash.test.ts and test/e2e/crash-serve.test.ts, with the same checks after every kill:
 *
 *  - watch / sync (victim B, while A's daemon keeps retitling a "ticker" todo and adding todos): B's YAML
 *    file parses, is whole and holds no id twice; B's sidecar loads with the real store (dist/) and is not
 *    behind the file (its tick ≥ the file's, every `a-N` of the file in it); a sync that exited 0 had A
 *    acknowledge everything B held. After the loop B syncs for good: A and B byte-identical.
 *  - serve: three in-process writers push with the real one-shot sync; after each kill and restart on the
 *    same --data, a fresh reader pulls and every update the relay had acknowledged before the kill is there.
 *
 *   node bench/crash-loop.mjs [--kills N] [--mode all|watch|sync|serve] [--seed S] [--quick]
 *
 * `--kills` is per mode (default 1000: 3,000 kills, about an hour on a quiet 2-CPU machine).
 */
import fs from 'node:fs'
import path from 'node:path'
import { spawn } from 'node:child_process'
import * as Y from 'yjs'
import { parse } from 'yaml'
import { FileModel } from '../dist/crdt/model.js'
import { FileDocStore } from '../dist/fs/sidecar.js'
import { newPeerId, newSpaceId } from '../dist/ids.js'
import { syncOnce } from '../dist/net/sync-once.js'
import { CLI, QUICK, arg, ctx, ctxChild, fmt, mulberry32, report, run, sleep, stopChild, tempDir, waitOutput } from './lib.mjs'

const KILLS = Number(arg('kills', QUICK ? 20 : 1000))
const MODE = arg('mode', 'all')
const SEED = Number(arg('seed', Date.now() % 1_000_000))
const DOC = '.rhema/todos.yaml'
const HEAD = '# Todos for the crash loop\ntodos:\n'
const TICKER = `${HEAD}  - id: ticker\n    title: "tick 0"\n    status: open\n`
const tickOf = (t) => Number(/- id: ticker\n {4}title: "tick (\d+)"/.exec(t ?? '')?.[1] ?? -1)
const ids = (t) => [...(t ?? '').matchAll(/^ {2}- id: (\S+)$/gm)].map((m) => m[1])

/** A process whose pid we can stop and kill; the CLI run directly (node bin/ctxsync …). */
function spawnCli(args, cwd) {
  const c = spawn(process.execPath, [CLI, ...args], { cwd, env: { ...process.env, NO_COLOR: '1', CTXSYNC_SECRET: undefined }, stdio: ['ignore', 'ignore', 'pipe'] })
  c.err = ''
  c.stderr.on('data', (d) => (c.err += d))
  c.done = new Promise((resolve) => c.on('exit', (code, signal) => resolve({ code, signal })))
  return c
}

async function pausedEdit(pid, file, change) {
  for (let attempt = 0; ; attempt++) {
    process.kill(pid, 'SIGSTOP')
    try {
      if (!fs.readdirSync(path.dirname(file)).some((f) => f.startsWith('todos.yaml.')) || attempt > 200) return fs.writeFileSync(file, change(fs.readFileSync(file, 'utf8')))
    } finally {
      process.kill(pid, 'SIGCONT')
    }
    await sleep(2)
  }
}

async function sidecar(dir) {
  const store = new FileDocStore({ dir: path.join(dir, '.ctxsync', 'docs') })
  try {
    const loaded = await store.load(DOC)
    if (!loaded) return { text: null, warnings: [] }
    const m = new FileModel({ name: DOC, author: { id: 'p-check', name: 'check', kind: 'human' } })
    m.load(loaded.updates)
    return { text: m.render().text, warnings: loaded.warnings }
  } finally {
    await store.close()
  }
}

/** The per-kill checks on B's disk; returns a list of problems (empty: fine). */
async function check(dir, own, stats) {
  const problems = []
  const file = fs.readFileSync(path.join(dir, DOC), 'utf8')
  try { parse(file) } catch (e) { problems.push(`file does not parse: ${e.message}`) }
  if (!file.startsWith(HEAD) || !file.endsWith('\n')) problems.push('file not whole')
  const list = ids(file)
  if (new Set(list).size !== list.length) problems.push(`ids twice: ${list.filter((x, i) => list.indexOf(x) !== i)}`)
  for (const id of own) if (!list.includes(id)) problems.push(`B's own ${id} left its file`)
  let side
  try { side = await sidecar(dir) } catch (e) { problems.push(`sidecar does not load: ${e.message}`); return problems }
  stats.warnings += side.warnings.length
  for (const w of side.warnings) stats.kinds.add(w.replace(/\d+/g, 'N'))
  if (side.text === null) problems.push('sidecar lost the document')
  else {
    if (tickOf(side.text) < tickOf(file)) problems.push(`sidecar tick ${tickOf(side.text)} behind the file's ${tickOf(file)}`)
    for (const id of list.filter((x) => x.startsWith('a-'))) if (!ids(side.text).includes(id)) problems.push(`${id} in the file, not in the sidecar`)
  }
  return problems
}

/** Two clones, A's daemon and its ticker; returns what the peer modes need. */
async function peers(tag) {
  const base = await tempDir(`crash-${tag}`)
  const [a, b] = ['a', 'b'].map((n) => path.join(base, n))
  for (const d of [a, b]) {
    fs.mkdirSync(path.join(d, '.rhema'), { recursive: true })
    fs.writeFileSync(path.join(d, DOC), TICKER)
  }
  await ctx(['init', '--name', 'a', '--discovery', 'none', '--no-git'], { cwd: a })
  const code = (await ctx(['invite'], { cwd: a })).stdout.trim().split('\n').pop()
  await ctx(['init', '--name', 'b', '--join', code, '--discovery', 'none', '--no-git'], { cwd: b })
  const da = ctxChild(['watch', '--port', '0'], { cwd: a })
  const url = (await waitOutput(da, /listening on (ws:\/\/127\.0\.0\.1:\d+)/))[1]
  let n = 0
  let on = true
  const added = []
  const loop = (async () => {
    while (on) {
      const k = ++n
      if (k % 8 === 0) added.push(`a-${k}`)
      await pausedEdit(da.pid, path.join(a, DOC), (t) => t.replace(/(- id: ticker\n {4}title: ")tick \d+"/, `$1tick ${k}"`) + (k % 8 === 0 ? `  - id: a-${k}\n    title: "by a"\n    status: open\n` : ''))
      await sleep(20 + (k % 5) * 12)
    }
  })()
  return { a, b, da, url, added, ticks: () => n, stop: async () => { on = false; await loop } }
}

async function peerMode(mode, rng) {
  const p = await peers(mode)
  const stats = { kills: 0, finished: 0, warnings: 0, kinds: new Set(), lockRefusals: 0, problems: [], ms: 0 }
  const own = []
  const t0 = Date.now()
  for (let k = 0; k < KILLS; k++) {
    if (mode === 'sync' || rng() < 0.3) {
      own.push(`b-${k}`)
      fs.appendFileSync(path.join(p.b, DOC), `  - id: b-${k}\n    title: "by b"\n    status: open\n`)
    }
    const c = spawnCli(mode === 'watch' ? ['watch', '--port', '0', '--peer', p.url] : ['sync', '--peer', p.url, '--timeout', '10'], p.b)
    const finish = mode === 'sync' && rng() < 0.1
    const timer = finish ? undefined : setTimeout(() => c.kill('SIGKILL'), Math.floor((mode === 'watch' ? rng() ** 2 * 1500 : rng() * 1200)))
    const r = await c.done
    clearTimeout(timer)
    stats.kills += r.signal === 'SIGKILL' ? 1 : 0
    if (r.code === 0) {
      stats.finished++
      const sent = [...own]
      const until = Date.now() + 10_000
      while (!sent.every((id) => ids(fs.readFileSync(path.join(p.a, DOC), 'utf8')).includes(id))) {
        if (Date.now() > until) { stats.problems.push(`run ${k}: sync exited 0 but A lacks B's todos`); break }
        await sleep(20)
      }
    } else if (/another ctxsync process holds this space/.test(c.err)) stats.lockRefusals++
    else if (r.signal !== 'SIGKILL') stats.problems.push(`run ${k}: exited ${r.code}: ${c.err.trim().split('\n').pop()}`)
    for (const pr of await check(p.b, own, stats)) stats.problems.push(`kill ${k}: ${pr}`)
    if (stats.problems.length > 20) break
  }
  stats.ms = (Date.now() - t0) / Math.max(1, KILLS)
  await p.stop()
  const fin = await ctx(['sync', '--peer', p.url], { cwd: p.b, check: false })
  const until = Date.now() + 30_000
  const want = (t) => tickOf(t) === p.ticks() && own.every((id) => ids(t).includes(id)) && p.added.every((id) => ids(t).includes(id))
  let same = false
  while (Date.now() < until && !(same = (() => { const [x, y] = [p.a, p.b].map((d) => fs.readFileSync(path.join(d, DOC), 'utf8')); return x === y && want(x) })())) {
    await sleep(100)
    if (Date.now() > until - 25_000) await ctx(['sync', '--peer', p.url], { cwd: p.b, check: false })
  }
  if (fin.code !== 0 || !same) stats.problems.push(`final: sync exit ${fin.code}, A and B ${same ? 'identical' : 'NOT identical or incomplete'}`)
  const last = fs.readFileSync(path.join(p.a, DOC), 'utf8')
  if (new Set(ids(last)).size !== ids(last).length) stats.problems.push('final: ids twice')
  await stopChild(p.da)
  return stats
}

/** A real model's document (the relay refuses updates outside the schema); a writer adds `key: value` lines. */
class MemHost {
  constructor(spaceId, name) {
    this.spaceId = spaceId
    this.self = { id: newPeerId(), name, kind: 'agent' }
    this.model = new FileModel({ name: DOC, author: { id: this.self.id, name, kind: 'agent' } })
    this.doc = this.model.doc
    this.listeners = new Set()
    this.doc.on('update', (u, origin) => { if (origin !== 'remote') for (const l of this.listeners) l(DOC, u, null) })
  }
  docNames() { return this.doc.store.clients.size ? [DOC] : [] }
  stateVector() { return Y.encodeStateVector(this.doc) }
  encodeDiff(_d, sv) { const u = Y.encodeStateAsUpdate(this.doc, sv); return u.length <= 2 ? null : u }
  acceptDoc(n) { return n === DOC }
  async applyRemote(_d, u) { this.model.applyRemote(u, 'remote') }
  onUpdate(l) { this.listeners.add(l); return () => this.listeners.delete(l) }
  write(key, value) {
    const r = this.model.render()
    if (!r.text) return void this.model.enroll(`${key}: ${value}\n`)
    this.model.setBase(r)
    this.model.ingest(`${r.text}${key}: ${value}\n`)
  }
  keys() { return [...(this.model.render().text ?? '').matchAll(/^(w\d+-\d+):/gm)].map((m) => m[1]) }
}

async function serveMode(rng) {
  const SECRET = 'crash-loop-secret-0123456789abcdefghijklmnopqr'
  const data = await tempDir('crash-relay')
  const port = 20000 + Math.floor(rng() * 30000)
  const url = `ws://127.0.0.1:${port}`
  const start = async () => {
    const c = ctxChild(['serve', '--port', String(port), '--data', data])
    await waitOutput(c, /relay listening on/)
    return c
  }
  const stats = { kills: 0, finished: 0, warnings: 0, kinds: new Set(), lockRefusals: 0, problems: [], ms: 0, pushes: 0, acked: 0 }
  let relay = await start()
  const spaceId = newSpaceId()
  const acked = new Set()
  const writers = [0, 1, 2].map((i) => new MemHost(spaceId, `w${i}`))
  const push = async (h, ms = 1500) => (await syncOnce({ host: h, secret: SECRET, peers: [url], relay: { url }, timeoutMs: ms })).peers[0]
  let on = true
  const loops = writers.map(async (w, i) => {
    for (let k = 0; on; k++) {
      w.write(`w${i}-${k}`, k)
      const held = w.keys()
      const r = await push(w).catch(() => undefined)
      stats.pushes++
      if (r?.outcome === 'synced') { stats.acked++; for (const key of held) acked.add(key) } else await sleep(20)
    }
  })
  const t0 = Date.now()
  for (let k = 0; k < KILLS && stats.problems.length < 20; k++) {
    await sleep(50 + Math.floor(rng() * 650))
    const before = new Set(acked)
    relay.kill('SIGKILL')
    await new Promise((r) => (relay.exitCode !== null || relay.signalCode !== null ? r() : relay.once('exit', r)))
    stats.kills++
    try { relay = await start() } catch (e) { stats.problems.push(`kill ${k}: relay does not start: ${e.message.split('\n')[0]}`); break }
    stats.warnings += (relay.output.match(/warn|recover|corrupt/gi) ?? []).length
    const reader = new MemHost(spaceId, 'reader')
    const r = await push(reader, 10_000)
    if (r.outcome !== 'synced') stats.problems.push(`kill ${k}: reader could not sync (${r.outcome})`)
    const have = new Set(reader.keys())
    const lost = [...before].filter((x) => !have.has(x))
    if (lost.length) stats.problems.push(`kill ${k}: ${lost.length} acknowledged updates lost`)
  }
  stats.ms = (Date.now() - t0) / Math.max(1, KILLS)
  on = false
  await Promise.all(loops)
  await stopChild(relay)
  return stats
}

run(async () => {
  const rng = mulberry32(SEED)
  console.log(`crash-loop: ${KILLS} kills per mode, mode ${MODE}, seed ${SEED}`)
  const rows = []
  for (const mode of MODE === 'all' ? ['watch', 'sync', 'serve'] : [MODE]) {
    const s = mode === 'serve' ? await serveMode(rng) : await peerMode(mode, rng)
    for (const pr of s.problems.slice(0, 10)) console.log(`  ${mode}: ${pr}`)
    for (const k of s.kinds) console.log(`  ${mode}: sidecar warning seen on load: ${k}`)
    rows.push(
      { figure: `${mode}: kill -9`, value: s.kills, digits: 0, note: `${fmt(s.ms / 1000, 2)} s per cycle${mode === 'sync' ? `; ${s.finished} runs finished (exit 0)` : ''}${mode === 'serve' ? `; ${s.pushes} pushes, ${s.acked} acknowledged` : ''}` },
      { figure: `${mode}: problems found`, value: s.problems.length, digits: 0, target: { op: '<=', value: 0 }, note: mode === 'serve' ? 'relay restarts, acknowledged updates lost' : 'half-written YAML, sidecar unloadable or behind the file, ids twice, lost acks, final divergence' },
      { figure: `${mode}: sidecar warnings seen on load`, value: s.warnings, digits: 0, note: s.lockRefusals ? `${s.lockRefusals} starts refused by an ownerless lock (until it went stale)` : '' },
    )
  }
  report('crash loop: kill -9 at random moments', rows, { seed: `${SEED} (replay: --seed ${SEED})` })
})
