/**
 * Simultaneous overwrites on live, directly connected peers (issue 13 item 6), through the built CLI on
 * 127.0.0.1: N trials in which two (or three) clones, each with its daemon running (`init --discovery none`,
 * `watch --peer ws://127.0.0.1:PORT`), change a value at the same instant — by `sed -i`, by an atomic rename
 * (what editors do), or by an in-place rewrite — and then wait for convergence (state, never a fixed sleep).
 *
 * Checked after each trial, on every peer:
 *  - the files are byte-identical;
 *  - same field (`--mode same`): the value shown is one of the written ones, the one written later when the
 *    writes were ≥ LATER_MS apart, else the one with the later write time in the record (a deterministic tie);
 *    exactly one conflict record for the field on every peer (`resolve --list --json`), listing every value
 *    written, the same on every peer;
 *  - neighbouring fields (`--mode neighbour`): every value written is shown, no conflict record;
 *  - no daemon says "your save was made from an older version" (neither save was made from a stale buffer).
 * Prints trials, failures by kind, and for each failure its trial, seed and timings.
 *
 *   node bench/simultaneous.mjs [--trials N] [--peers 2|3] [--mode same|neighbour|mix]
 *        [--write sed|rename|inplace|mix] [--gap MS] [--load SECONDS] [--seed S] [--quick]
 *
 * `--gap MS`: each write starts after a random delay in [0, MS) (default 0: the same instant).
 * `--load S`: two busy-loop processes (`while :; do :; done`) run for the first S seconds, then are killed.
 */
import { spawn, spawnSync } from 'node:child_process'
import fs from 'node:fs'
import fsp from 'node:fs/promises'
import path from 'node:path'
import { QUICK, arg, ctx, ctxChild, mulberry32, run, sleep, tempDir, trackGroup, waitOutput } from './lib.mjs'

const TRIALS = Number(arg('trials') ?? (QUICK ? 5 : 40))
const PEERS = Number(arg('peers') ?? 2)
const MODE = arg('mode') ?? 'same'
const WRITE = arg('write') ?? 'mix'
const GAP = Number(arg('gap') ?? 0)
const LOAD = Number(arg('load') ?? 0)
const SEED = Number(arg('seed') ?? 1)
const LATER_MS = 100
const SETTLE_MS = 20_000
const FILE = '.rhema/todos.yaml'
const NAMES = ['a', 'b', 'c'].slice(0, PEERS)
const FIELDS = ['title', 'status', 'owner']

function todos(n) {
  let s = '# Team todos — comments must survive sync\ntodos:\n'
  for (let i = 1; i <= n; i++) s += `  - id: t${i}\n    title: "Task ${i}"\n    status: todo\n    owner: nobody\n`
  return s
}
const original = (field, i) => (field === 'title' ? `"Task ${i}"` : field === 'status' ? 'todo' : 'nobody')

function git(cwd, args) {
  const r = spawnSync('git', args, { cwd, encoding: 'utf8' })
  if (r.status !== 0) throw new Error(`git ${args.join(' ')}: ${r.stderr}`)
  return r.stdout
}

async function setup() {
  const base = await tempDir('simultaneous')
  const origin = path.join(base, 'origin')
  await fsp.mkdir(path.join(origin, '.rhema'), { recursive: true })
  await fsp.writeFile(path.join(origin, FILE), todos(TRIALS + 1))
  git(origin, ['init', '-q', '-b', 'main'])
  git(origin, ['-c', 'user.name=t', '-c', 'user.email=t@t', 'add', '.'])
  git(origin, ['-c', 'user.name=t', '-c', 'user.email=t@t', 'commit', '-qm', 'todos'])
  const dirs = NAMES.map((n) => path.join(base, n))
  git(base, ['clone', '-q', origin, dirs[0]])
  await ctx(['init', '--name', NAMES[0], '--discovery', 'none'], { cwd: dirs[0] })
  git(dirs[0], ['add', 'ctxsync.yaml', '.gitignore'])
  git(dirs[0], ['-c', 'user.name=t', '-c', 'user.email=t@t', 'commit', '-qm', 'ctxsync'])
  const code = (await ctx(['invite'], { cwd: dirs[0] })).stdout.trim().split('\n').pop()
  for (let k = 1; k < PEERS; k++) {
    git(base, ['clone', '-q', dirs[0], dirs[k]])
    await ctx(['init', '--name', NAMES[k], '--join', code, '--discovery', 'none'], { cwd: dirs[k] })
  }
  // Peer a listens; the others dial it directly.
  const daemons = [ctxChild(['watch', '--port', '0'], { cwd: dirs[0] })]
  const url = (await waitOutput(daemons[0], /listening on (ws:\/\/127\.0\.0\.1:\d+)/))[1]
  for (let k = 1; k < PEERS; k++) {
    daemons.push(ctxChild(['watch', '--port', '0', '--peer', url], { cwd: dirs[k] }))
    await waitOutput(daemons[k], /connected to /)
  }
  for (let k = 1; k < PEERS; k++) await waitOutput(daemons[0], new RegExp(`connected to ${NAMES[k]}`))
  return { dirs, daemons }
}

/** One peer's write, started at `delay` ms; resolves with when it ended (ms, this clock) and the file's mtime. */
function write(how, file, field, i, to, delay) {
  const from = `    ${field}: ${original(field, i)}\n`
  const line = `    ${field}: ${to}\n`
  const id = `  - id: t${i}\n`
  return new Promise((resolve, reject) => {
    const done = (wrote = true) => resolve({ how, wrote, end: Date.now(), mtime: fs.statSync(file).mtimeMs })
    setTimeout(() => {
      try {
        if (how === 'sed') {
          // Only inside item i (its id line to the next item), as a person would type it.
          const esc = (s) => s.replace(/[\\/&"]/g, '\\$&').replace(/\n$/, '')
          // `w /dev/stdout` prints the line when sed replaced it: no output, the value was no longer the original.
          const c = spawn('sed', ['-i', `/^  - id: t${i}$/,/^  - id:/s/^${esc(from)}$/${esc(line)}/w /dev/stdout`, file], { stdio: ['ignore', 'pipe', 'ignore'] })
          let out = ''
          c.stdout.on('data', (d) => (out += d))
          c.on('error', reject)
          c.on('close', (code) => (code === 0 ? done(out !== '') : reject(new Error(`sed exited ${code}`))))
          return
        }
        const text = fs.readFileSync(file, 'utf8')
        const at = text.indexOf(id)
        const k = text.indexOf(from, at)
        if (at < 0 || k < 0) return done(false)
        const next = text.slice(0, k) + line + text.slice(k + from.length)
        if (how === 'rename') {
          const tmp = `${file}.tmp${process.pid}${Math.random().toString(36).slice(2)}`
          fs.writeFileSync(tmp, next)
          fs.renameSync(tmp, file)
        } else fs.writeFileSync(file, next)
        done()
      } catch (err) {
        reject(err)
      }
    }, delay)
  })
}

const valueIn = (text, i, field) => {
  const m = new RegExp(`  - id: t${i}\\n(?:    .*\\n)*?    ${field}: (.*)\\n`).exec(text)
  return m ? m[1] : null
}
const unq = (s) => (s && s.startsWith('"') ? JSON.parse(s) : s)

async function conflictLists(dirs) {
  return Promise.all(dirs.map(async (d) => JSON.parse((await ctx(['resolve', '--list', '--json'], { cwd: d })).stdout).conflicts))
}

/** Runs one trial; returns a list of failures ({kind, detail}). */
async function trial(t, rng, env) {
  const { dirs, daemons } = env
  const i = t + 1
  const mode = MODE === 'mix' ? (rng() < 0.5 ? 'same' : 'neighbour') : MODE
  const plan = NAMES.map((name, k) => {
    const field = mode === 'same' ? 'title' : FIELDS[k]
    const to = field === 'title' ? `"Task ${i} by ${name}"` : field === 'status' ? `done-${name}` : `owner-${name}`
    const how = WRITE === 'mix' ? ['sed', 'rename', 'inplace'][Math.floor(rng() * 3)] : WRITE
    return { name, field, to, how, delay: GAP ? Math.floor(rng() * GAP) : 0 }
  })
  const logAt = daemons.map((d) => d.output.length)
  const files = dirs.map((d) => path.join(d, FILE))
  const writes = await Promise.all(plan.map((p, k) => write(p.how, files[k], p.field, i, p.to, p.delay)))
  const failures = []
  const fail = (kind, detail) => failures.push({ kind, detail })
  // A peer's value was in the file before this writer read it: its edit did not happen (sed matched nothing),
  // as when a tester's `sed s/old/new/` runs after the peer's value arrived. Not a race; counted apart.
  plan.forEach((p, k) => Object.assign(p, { wrote: writes[k].wrote, mtime: writes[k].mtime }))
  const skipped = plan.filter((p) => !p.wrote)
  const racing = plan.filter((p) => p.wrote)
  // Converged: every file the same, and every field written holds one of the values written to it.
  const want = (text) => racing.every((p) => racing.filter((q) => q.field === p.field).some((q) => valueIn(text, i, p.field) === q.to))
  const t0 = Date.now()
  let texts
  for (;;) {
    texts = dirs.map((_, k) => fs.readFileSync(files[k], 'utf8'))
    if (texts.every((x) => x === texts[0]) && want(texts[0])) break
    if (Date.now() - t0 > SETTLE_MS) {
      fail(texts.every((x) => x === texts[0]) ? 'value-lost' : 'diverged', plan.map((p, k) => `${p.name}: ${p.field}=${valueIn(texts[k], i, p.field)}`).join(', '))
      break
    }
    await sleep(25)
  }
  const converged = Date.now() - t0
  // The records: in the same state on every peer (they travel with the values; wait for them a while).
  let lists
  const id = new RegExp(`(^|\\W)t${i}(\\W|$)`)
  const mine = (c) => id.test(c.display)
  for (const t1 = Date.now(); ;) {
    lists = (await conflictLists(dirs)).map((l) => l.filter(mine))
    const same = lists.every((l) => JSON.stringify(l) === JSON.stringify(lists[0]))
    const complete = mode === 'neighbour' || (racing.length < 2 ? lists[0].length === 0 : lists[0].some((c) => c.values.length >= racing.length))
    if ((same && complete) || Date.now() - t1 > 5000) break
    await sleep(100)
  }
  if (failures.length === 0) {
    const text = texts[0]
    if (mode === 'same') {
      const shown = valueIn(text, i, 'title')
      const sameLists = lists.every((l) => JSON.stringify(l) === JSON.stringify(lists[0]))
      if (!sameLists) fail('records-differ', lists.map((l, k) => `${NAMES[k]}: ${l.map((c) => c.values.map((v) => v.raw).join(' | ')).join('; ')}`).join(' / '))
      lists.forEach((l, k) => {
        if (l.length !== (racing.length > 1 ? 1 : 0)) return fail('record-count', `${NAMES[k]} lists ${l.length} records for t${i}.title`)
        if (l.length === 0) return
        const vals = l[0].values.map((v) => unq(v.raw))
        const missing = racing.filter((p) => !vals.includes(unq(p.to)))
        if (missing.length) fail('record-missing-value', `${NAMES[k]}: record has ${vals.join(' | ')}; missing ${missing.map((p) => p.name).join(',')}`)
        const shownIdx = vals.indexOf(unq(shown))
        if (shownIdx + 1 !== l[0].winner) fail('winner-not-shown', `${NAMES[k]}: winner ${l[0].winner}, shown ${shown}`)
        const latest = [...l[0].values].sort((x, y) => (x.at ?? '').localeCompare(y.at ?? '')).at(-1)
        if (latest && unq(latest.raw) !== unq(shown) && l[0].values.filter((v) => v.at === latest.at).length === 1) fail('not-latest-in-record', `${NAMES[k]}: shows ${shown}, latest record value ${latest.raw} at ${latest.at}`)
      })
      const order = racing.map((p) => ({ p, end: p.mtime })).sort((x, y) => x.end - y.end)
      if (order.length > 1 && order.at(-1).end - order.at(-2).end >= LATER_MS && unq(shown) !== unq(order.at(-1).p.to)) {
        fail('earlier-won', `shown ${shown}, written last by ${order.at(-1).p.name} (${(order.at(-1).end - order.at(-2).end).toFixed(0)} ms later); record: ${lists[0][0]?.values.map((v) => `${v.raw} by ${v.author.name} at ${v.at}`).join(', ')}`)
      }
    } else {
      for (const p of racing) if (valueIn(text, i, p.field) !== p.to) fail('neighbour-lost', `${p.name}'s ${p.field}=${p.to}, shown ${valueIn(text, i, p.field)}`)
      lists.forEach((l, k) => l.length && fail('record-count', `${NAMES[k]} lists ${l.length} records for t${i} (neighbouring fields)`))
    }
  }
  daemons.forEach((d, k) => {
    const said = d.output.slice(logAt[k])
    if (/made from an older version/.test(said)) fail('stale-wording', `${NAMES[k]}: ${said.split('\n').find((l) => /older version/.test(l))}`)
  })
  // How long each daemon took to take its own write in: the record's write time minus the file's mtime.
  const lag = {}
  for (const p of racing) {
    const v = lists[0]?.[0]?.values.find((x) => unq(x.raw) === unq(p.to))
    if (mode === 'same' && v?.at) lag[p.how] = [...(lag[p.how] ?? []), Date.parse(v.at) - p.mtime]
  }
  if (failures.length && process.argv.includes('--verbose')) {
    daemons.forEach((d, k) => console.log(`--- ${NAMES[k]}'s daemon during trial ${t}:\n${d.output.slice(logAt[k])}`))
  }
  const spread = Math.max(...writes.map((w) => w.mtime)) - Math.min(...writes.map((w) => w.mtime))
  return { mode, failures, lag, skipped: skipped.length > 0, converged, spread, plan: plan.map((p, k) => `${p.name}:${p.how}+${p.delay}ms→${(writes[k].mtime % 100000).toFixed(1)}`).join(' ') }
}

run(async () => {
  const env = await setup()
  const hogs = []
  if (LOAD > 0) {
    for (let k = 0; k < 2; k++) hogs.push(trackGroup(spawn('sh', ['-c', 'while :; do :; done'], { stdio: 'ignore', detached: true })))
    setTimeout(() => hogs.forEach((h) => { try { process.kill(-h.pid, 'SIGKILL') } catch { /* gone */ } }), LOAD * 1000).unref()
  }
  const rng = mulberry32(SEED)
  const byKind = {}
  const failed = []
  const times = []
  const notRaces = []
  const lags = {}
  const t0 = Date.now()
  for (let t = 0; t < TRIALS; t++) {
    const r = await trial(t, rng, env)
    times.push(r.converged)
    if (r.skipped) notRaces.push(t)
    for (const [how, ms] of Object.entries(r.lag)) (lags[how] ??= []).push(...ms)
    for (const f of r.failures) (byKind[f.kind] ??= []).push(t)
    if (r.failures.length) {
      failed.push(t)
      console.log(`trial ${t} (${r.mode}; ${r.plan}; write spread ${r.spread.toFixed(1)} ms; converged in ${r.converged} ms)${LOAD && Date.now() - t0 < LOAD * 1000 ? ' under load' : ''}`)
      for (const f of r.failures) console.log(`  ${f.kind}: ${f.detail}`)
    }
  }
  hogs.forEach((h) => { try { process.kill(-h.pid, 'SIGKILL') } catch { /* gone */ } })
  times.sort((x, y) => x - y)
  console.log(`simultaneous overwrites: ${TRIALS} trials, ${PEERS} peers, mode ${MODE}, writes ${WRITE}, gap ${GAP} ms, load ${LOAD} s, seed ${SEED}; ${((Date.now() - t0) / 1000).toFixed(0)} s`)
  console.log(`converged in ms: median ${times[Math.floor(times.length / 2)]}, max ${times.at(-1)}`)
  for (const [how, ms] of Object.entries(lags)) {
    ms.sort((x, y) => x - y)
    console.log(`${how}: write time in the record minus the file's mtime: ${ms[Math.floor(ms.length / 2)].toFixed(0)} ms (median), max ${ms.at(-1).toFixed(0)} ms, ${ms.length} writes`)
  }
  console.log('failure kind'.padEnd(22), 'trials'.padStart(6), '  which')
  for (const [k, ts] of Object.entries(byKind)) console.log(k.padEnd(22), String(ts.length).padStart(6), ' ', ts.slice(0, 30).join(','))
  if (notRaces.length) console.log(`not races (a writer found a peer's value already in its file, its edit matched nothing): ${notRaces.length}: ${notRaces.slice(0, 30).join(',')}`)
  console.log(`passed ${TRIALS - failed.length} of ${TRIALS}`)
  if (failed.length) process.exitCode = 1
})
