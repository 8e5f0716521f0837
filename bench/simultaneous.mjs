/**
 * Simultaneous overwrites on live, directly connected peers (issue 13 item 6), through the built CLI on
 * 127.0.0.1: N trials in which two (or three) clones, each with its daemon running (`init --discovery none`,
 * `watch --peer ws://127.0.0.1:PORT`), change a value at the same instant — by `sed -i`, by an atomic rename
 * (what editors do), or by an in-place rewrite — and then wait for convergence (state, never a fixed sleep).
 *
 * Checked after each trial, on every peer:
 *  - the files are byte-identical;
 *  - same field (`--mode same`): the value shown is one of the written ones, the one written later (by this
 *    process's clock: one write began more than GRAIN_MS after the other ended), else the one with the
 *    later write time in the record (a deterministic tie); exactly one conflict record for the field on
 *    every peer (`resolve --list --json`), listing every value written, the same on every peer — unless a
 *    writer's file already showed the peer's value (`--from start`): an overwrite, which owes no record;
 *    no other value (nothing superseded, nothing twice), each credited to its writer;
 *  - neighbouring fields (`--mode neighbour`): every value written is shown, no conflict record;
 *  - no daemon says "your save was made from an older version", unless that save's file already showed the
 *    peer's value (`--from start`: its buffer was older).
 * Prints trials, failures by kind, and for each failure its trial, seed and timings.
 *
 *   node bench/simultaneous.mjs [--trials N] [--peers 2|3] [--mode same|neighbour|mix]
 *        [--write sed|rename|inplace|mix] [--gap MS] [--apart MIN-MAX] [--from now|start] [--grain MS]
 *        [--load SECONDS] [--seed S] [--quick]
 *
 * `--gap MS`: each write starts after a random delay in [0, MS) (default 0: the same instant).
 * `--apart MIN-MAX`: two writers (a random one first), the second MIN to MAX ms after the first (tester
 *   finding 7: two people saving one field 100-300 ms apart); every trial prints a line: each write's time
 *   (this clock, ms from the trial's start: when the write began and ended, and the file's mtime), the
 *   value shown, and whether the later write won. Defaults to `--from start`.
 * `--from start`: each writer writes a text made from what the file held at the trial's start (an editor's
 *   buffer), even when the peer's value has reached its file by then (its save then overwrote it unseen, and
 *   the daemon rightly says it was made from an older version); `now` (default without --apart): from what
 *   the file holds when it writes (a peer's value already there: no race, counted apart).
 * `--grain MS` (default 10): writes closer than this are within the clock's granularity (file times come
 *   from the kernel's coarse clock, ~4 ms here): either may win, deterministically. Beyond it the later
 *   write must win ('earlier-won').
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
const APART = arg('apart')?.split('-').map(Number) ?? null
const FROM = arg('from') ?? (APART ? 'start' : 'now')
const GRAIN_MS = Number(arg('grain') ?? 10)
/** Wall-clock time with sub-millisecond resolution (what a write is measured by here, not the file's mtime). */
const clock = () => performance.timeOrigin + performance.now()
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

/**
 * One peer's write, started at `delay` ms; resolves with when it began and ended (ms, this clock), the file's
 * mtime, and whether the file showed a peer's value of the field right before (`sawPeer`). `buffer`: the text
 * read at the trial's start (`--from start`), written with this edit whatever the file holds by then.
 */
function write(how, file, field, i, to, delay, buffer, others) {
  const from = `    ${field}: ${original(field, i)}\n`
  const line = `    ${field}: ${to}\n`
  const id = `  - id: t${i}\n`
  return new Promise((resolve, reject) => {
    let start = 0
    let sawPeer = false
    const done = (wrote = true) => resolve({ how, wrote, start, end: clock(), mtime: fs.statSync(file).mtimeMs, sawPeer })
    setTimeout(() => {
      try {
        sawPeer = others.some((v) => valueIn(fs.readFileSync(file, 'utf8'), i, field) === v)
        start = clock()
        if (how === 'sed' && buffer === null) {
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
        const text = buffer ?? fs.readFileSync(file, 'utf8')
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
    const how = WRITE === 'mix' ? (FROM === 'start' ? ['rename', 'inplace'] : ['sed', 'rename', 'inplace'])[Math.floor(rng() * (FROM === 'start' ? 2 : 3))] : WRITE
    return { name, field, to, how, delay: GAP ? Math.floor(rng() * GAP) : 0 }
  })
  if (APART) {
    // Two writers: a random one first, the other MIN..MAX ms later (the rest write nothing).
    const first = Math.floor(rng() * 2)
    const d = APART[0] + Math.floor(rng() * (APART[1] - APART[0] + 1))
    plan.forEach((p, k) => (p.delay = k === first ? 0 : k < 2 ? d : -1))
  }
  const logAt = daemons.map((d) => d.output.length)
  const files = dirs.map((d) => path.join(d, FILE))
  const buffers = files.map((f) => (FROM === 'start' ? fs.readFileSync(f, 'utf8') : null))
  const writing = plan.filter((p) => p.delay >= 0)
  const writes = await Promise.all(plan.map((p, k) => (p.delay < 0 ? { how: p.how, wrote: false, idle: true, start: 0, end: 0, mtime: 0, sawPeer: false } : write(p.how, files[k], p.field, i, p.to, p.delay, buffers[k], writing.filter((q) => q !== p && q.field === p.field).map((q) => q.to)))))
  const failures = []
  const fail = (kind, detail) => failures.push({ kind, detail })
  // A peer's value was in the file before this writer read it: its edit did not happen (sed matched nothing),
  // as when a tester's `sed s/old/new/` runs after the peer's value arrived. Not a race; counted apart.
  plan.forEach((p, k) => Object.assign(p, { wrote: writes[k].wrote, mtime: writes[k].mtime }))
  const skipped = plan.filter((p, k) => !p.wrote && !writes[k].idle)
  const racing = plan.filter((p) => p.wrote)
  // A buffer written over a peer's value its file already showed, changing only that value, reads as an
  // edit of that value (nothing tells it from one made after seeing it): no record is owed, the later
  // write shows all the same. A race is two writes neither of which had the other's value in its file.
  const overwrote = racing.some((p) => writes[plan.indexOf(p)].sawPeer)
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
    const complete = mode === 'neighbour' || overwrote || (racing.length < 2 ? lists[0].length === 0 : lists[0].some((c) => c.values.length >= racing.length))
    if ((same && complete) || Date.now() - t1 > 5000) break
    await sleep(100)
  }
  if (failures.length === 0) {
    const text = texts[0]
    if (mode === 'same') {
      const shown = valueIn(text, i, 'title')
      const sameLists = lists.every((l) => JSON.stringify(l) === JSON.stringify(lists[0]))
      if (!sameLists) fail('records-differ', lists.map((l, k) => `${NAMES[k]}: ${l.map((c) => c.values.map((v) => v.raw).join(' | ')).join('; ')}`).join(' / '))
      if (!overwrote) lists.forEach((l, k) => {
        if (l.length !== (racing.length > 1 ? 1 : 0)) return fail('record-count', `${NAMES[k]} lists ${l.length} records for t${i}.title`)
        if (l.length === 0) return
        const vals = l[0].values.map((v) => unq(v.raw))
        const missing = racing.filter((p) => !vals.includes(unq(p.to)))
        if (missing.length) fail('record-missing-value', `${NAMES[k]}: record has ${vals.join(' | ')}; missing ${missing.map((p) => p.name).join(',')}`)
        // A record lists only live competitors: a value no writer of this race wrote (the title before it, a
        // value one of the writes had seen) is superseded and must not appear; nor one value twice.
        const extra = vals.filter((v) => !racing.some((p) => unq(p.to) === v))
        if (extra.length || new Set(vals).size !== vals.length) fail('record-extra-value', `${NAMES[k]}: record has ${vals.join(' | ')}`)
        // Each value credited to the peer that wrote it (not to a peer that copied it: the later-wins rule).
        const credit = l[0].values.filter((v) => racing.some((p) => unq(p.to) === unq(v.raw) && v.author?.name !== p.name))
        if (credit.length) fail('record-credit', `${NAMES[k]}: ${credit.map((v) => `${v.raw} by ${v.author?.name}`).join(', ')}`)
        const shownIdx = vals.indexOf(unq(shown))
        if (shownIdx + 1 !== l[0].winner) fail('winner-not-shown', `${NAMES[k]}: winner ${l[0].winner}, shown ${shown}`)
        const latest = [...l[0].values].sort((x, y) => (x.at ?? '').localeCompare(y.at ?? '')).at(-1)
        if (latest && unq(latest.raw) !== unq(shown) && l[0].values.filter((v) => v.at === latest.at).length === 1) fail('not-latest-in-record', `${NAMES[k]}: shows ${shown}, latest record value ${latest.raw} at ${latest.at}`)
      })
      // The later write by this clock: it began after the other had ended (a rename's content is written
      // before the rename; sed's spawn makes its interval wide). Closer than GRAIN_MS: within the clock.
      const order = racing.map((p) => ({ p, w: writes[plan.indexOf(p)] })).sort((x, y) => x.w.start - y.w.start)
      const apart = order.length > 1 ? order.at(-1).w.start - order.at(-2).w.end : 0
      if (order.length > 1 && apart > GRAIN_MS && unq(shown) !== unq(order.at(-1).p.to)) {
        fail('earlier-won', `shown ${shown}, written last by ${order.at(-1).p.name} (${apart.toFixed(1)} ms after the other's write ended); record: ${lists[0][0]?.values.map((v) => `${v.raw} by ${v.author.name} at ${v.at}`).join(', ')}`)
      }
    } else {
      for (const p of racing) if (valueIn(text, i, p.field) !== p.to) fail('neighbour-lost', `${p.name}'s ${p.field}=${p.to}, shown ${valueIn(text, i, p.field)}`)
      lists.forEach((l, k) => l.length && fail('record-count', `${NAMES[k]} lists ${l.length} records for t${i} (neighbouring fields)`))
    }
  }
  daemons.forEach((d, k) => {
    const said = d.output.slice(logAt[k])
    // A buffer written over a peer's value its file already showed was made from an older version.
    if (/made from an older version/.test(said) && !writes[k].sawPeer) fail('stale-wording', `${NAMES[k]}: ${said.split('\n').find((l) => /older version/.test(l))}`)
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
  const made = writes.filter((w) => !w.idle)
  const spread = Math.max(...made.map((w) => w.mtime)) - Math.min(...made.map((w) => w.mtime))
  // The trial's line: each write (ms from the first write's start), what shows, whether the later write won.
  let round = null
  if (mode === 'same' && racing.length > 1) {
    const t0w = Math.min(...racing.map((p) => writes[plan.indexOf(p)].start))
    const rel = (x) => (x - t0w).toFixed(1)
    const order = racing.map((p) => ({ p, w: writes[plan.indexOf(p)] })).sort((x, y) => x.w.start - y.w.start)
    const apart = order.at(-1).w.start - order.at(-2).w.end
    const shown = valueIn(texts[0], i, 'title')
    const winner = racing.find((p) => unq(p.to) === unq(shown))?.name ?? `? (${shown})`
    const verdict = overwrote ? (winner === order.at(-1).p.name ? 'yes (an overwrite, not a race)' : 'NO (an overwrite)') : apart <= GRAIN_MS ? `within ${GRAIN_MS} ms (either)` : winner === order.at(-1).p.name ? 'yes' : 'NO'
    const w = (p) => { const x = writes[plan.indexOf(p)]; return `${p.name} ${p.how}${x.sawPeer ? ' over the peer\'s value' : ''} ${rel(x.start)}–${rel(x.end)} (mtime ${rel(x.mtime)})` }
    round = { apart, later: verdict, line: `${order.map((o) => w(o.p)).join(' · ')} · apart ${apart.toFixed(1)} ms · shows ${winner} · later won: ${verdict}` }
  }
  return { mode, failures, lag, round, overwrote, skipped: skipped.length > 0, converged, spread, plan: plan.filter((p, k) => !writes[k].idle).map((p) => `${p.name}:${p.how}+${p.delay}ms→${(writes[plan.indexOf(p)].mtime % 100000).toFixed(1)}`).join(' ') }
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
  const rounds = { yes: 0, NO: 0, within: 0, overwrites: 0, overwritesLost: 0 }
  const t0 = Date.now()
  for (let t = 0; t < TRIALS; t++) {
    const r = await trial(t, rng, env)
    times.push(r.converged)
    if (r.skipped) notRaces.push(t)
    if (r.round) {
      if (r.overwrote) rounds[r.round.later.startsWith('NO') ? 'overwritesLost' : 'overwrites']++
      else rounds[r.round.later.startsWith('within') ? 'within' : r.round.later]++
      if (APART || process.argv.includes('--rounds')) console.log(`round ${t}: ${r.round.line}`)
    }
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
  console.log(`simultaneous overwrites: ${TRIALS} trials, ${PEERS} peers, mode ${MODE}, writes ${WRITE}, ${APART ? `apart ${APART.join('-')} ms, from ${FROM}` : `gap ${GAP} ms, from ${FROM}`}, load ${LOAD} s, seed ${SEED}; ${((Date.now() - t0) / 1000).toFixed(0)} s`)
  console.log(`races of one field (neither file showed the other's value): the later write won ${rounds.yes}, the earlier won ${rounds.NO}, within ${GRAIN_MS} ms ${rounds.within}; overwrites of a peer's value the file showed: the later won ${rounds.overwrites}, the earlier ${rounds.overwritesLost}`)
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
