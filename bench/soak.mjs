/**
 * Issue 6 benchmark: soak. Ten `ctxsync watch` daemons (child processes on 127.0.0.1, one space, a binary
 * tree of connections: peer i dials peer ⌊(i−1)/2⌋, so updates cross up to six hops) edit one todos file for
 * 30 minutes. Every ~0.2 s some peer saves an edit: a new title for the todo it owns, and every tenth save
 * also adds a todo of its own and removes its previous one (so the file stays the same size while the CRDT
 * history keeps growing — what a long-running daemon lives with). `--churn N` makes that every N-th save;
 * `--churn 0` never, which tells the daemon's own memory apart from the history its users make.
 *
 * Figures: each daemon's RSS (from /proc, sampled every `--sample` s): first sample after warm-up, last,
 * max, and the least-squares slope over the run after warm-up (flat = no leak) and over its second half
 * (once V8's generations and the allocator's arenas have settled); the same slope for what the
 * daemon reports of itself (`ping` on its control socket: V8 heap used and committed, external memory), so
 * that RSS growth can be told apart: heapUsed growing is live objects (a leak, or CRDT history), heapTotal
 * growing with flat heapUsed is V8 sizing its young and old generations, RSS growing beyond heapTotal and
 * external is native memory (allocator, JIT code, the binary's pages: VmRSS's RssFile part); latency from the save on one
 * peer to the new title in each other peer's file (p50 / p90 / p99 / max over all edit × receiver pairs);
 * and at the end, after the edits stop: all ten files byte-identical.
 *
 * The daemons run with the node flags `ctxsync watch --detach` gives its daemon (`DAEMON_NODE_FLAGS`, a small
 * young generation); `--no-daemon-flags` runs them without, as a foreground `ctxsync watch` does.
 *
 * The bench pauses a peer's daemon (SIGSTOP, well under a millisecond) around its read-change-write of the
 * file, so its own write never lands on a stale read of a peer's change (see test/e2e/faultRig.ts).
 *
 *   node bench/soak.mjs [--minutes N] [--quick] [--peers N] [--rate EDITS_PER_S] [--churn N] [--sample S] [--node-args='--max-old-space-size=64'] [--no-daemon-flags]
 */
import fs from 'node:fs'
import path from 'node:path'
import { pathToFileURL } from 'node:url'
import { QUICK, ROOT, arg, ctx, ctxChild, fmt, mulberry32, pct, report, run, sleep, tempDir, waitOutput } from './lib.mjs'

const MINUTES = Number(arg('minutes', QUICK ? 1 : 30))
const PEERS = Number(arg('peers', 10))
const RATE = Number(arg('rate', 5))
/** Every CHURN-th save of a peer also adds a todo and removes its previous one; 0: titles only, so the CRDT
 *  history does not grow (Yjs keeps nothing of an overwritten value) and RSS should come out flat. */
const CHURN = Number(arg('churn', 10))
const SAMPLE_S = Number(arg('sample', QUICK ? 5 : 10))
const WARMUP_S = Math.min(60, MINUTES * 60 * 0.2)
const DOC = '.rhema/todos.yaml'
/** e.g. `--node-args=--max-old-space-size=64`: a leak then ends in an out-of-memory crash, lazy GC does not. */
const NODE_ARGS = (process.argv.find((a) => a.startsWith('--node-args='))?.slice('--node-args='.length) ?? '').split(' ').filter(Boolean)
/** `--heap-snapshots DIR`: daemons p0 and p1 write a heap snapshot (live objects only) after warm-up and at
 *  the end; a live heap that grows between them is a leak, RSS growth alone may be lazy GC. */
const SNAP_DIR = arg('heap-snapshots', '')
/** Node flags `watch --detach` gives its daemon (DAEMON_NODE_FLAGS), filled in at start. */
const DAEMON_FLAGS = []
if (SNAP_DIR) NODE_ARGS.push('--heapsnapshot-signal=SIGUSR2', `--diagnostic-dir=${SNAP_DIR}`)

const initial = `# Soak: ${PEERS} peers\ntodos:\n` + Array.from({ length: PEERS }, (_, i) => `  - id: o${i}\n    title: "p${i} rev 0"\n    status: open\n`).join('')
const revOf = (text, i) => Number(new RegExp(`- id: o${i}\\n    title: "p${i} rev (\\d+)"`).exec(text)?.[1] ?? -1)
const rssOf = (pid) => Number(/VmRSS:\s+(\d+) kB/.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? NaN) * 1024
/** Resident pages mapped from files (the node binary and libraries): constant, not the daemon's doing. */
const rssFileOf = (pid) => Number(/RssFile:\s+(\d+) kB/.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? NaN) * 1024

/** Read-change-write with the daemon stopped; waits while its own atomic write is half done. */
async function pausedEdit(pid, file, change) {
  for (let attempt = 0; ; attempt++) {
    process.kill(pid, 'SIGSTOP')
    try {
      const busy = fs.readdirSync(path.dirname(file)).some((f) => f.startsWith('todos.yaml.'))
      if (!busy || attempt > 200) return fs.writeFileSync(file, change(fs.readFileSync(file, 'utf8')))
    } finally {
      process.kill(pid, 'SIGCONT')
    }
    await sleep(2)
  }
}

/** Least-squares slope of y over x. */
function slope(xs, ys) {
  const n = xs.length
  const mx = xs.reduce((a, b) => a + b, 0) / n
  const my = ys.reduce((a, b) => a + b, 0) / n
  let num = 0
  let den = 0
  for (let i = 0; i < n; i++) {
    num += (xs[i] - mx) * (ys[i] - my)
    den += (xs[i] - mx) ** 2
  }
  return den ? num / den : 0
}

run(async () => {
  const { callDaemon } = await import(pathToFileURL(path.join(ROOT, 'dist/space/control.js')).href)
  // The daemons run as `watch --detach` runs them (with its node flags), unless --no-daemon-flags.
  const { DAEMON_NODE_FLAGS } = await import(pathToFileURL(path.join(ROOT, 'dist/commands/watch.js')).href)
  DAEMON_FLAGS.push(...(process.argv.includes('--no-daemon-flags') ? [] : DAEMON_NODE_FLAGS))
  const { spacePaths } = await import(pathToFileURL(path.join(ROOT, 'dist/space/paths.js')).href)
  const base = await tempDir('soak')
  const dirs = Array.from({ length: PEERS }, (_, i) => path.join(base, `p${i}`))
  for (const d of dirs) {
    fs.mkdirSync(path.join(d, '.rhema'), { recursive: true })
    fs.writeFileSync(path.join(d, DOC), initial)
  }
  await ctx(['init', '--name', 'p0', '--discovery', 'none', '--no-git'], { cwd: dirs[0] })
  const code = (await ctx(['invite'], { cwd: dirs[0] })).stdout.trim().split('\n').pop()
  await Promise.all(dirs.slice(1).map((d, k) => ctx(['init', '--name', `p${k + 1}`, '--join', code, '--discovery', 'none', '--no-git'], { cwd: d })))

  const procs = []
  const urls = []
  /** [t, bytes] per daemon: the V8 heap after each full collection (from `--trace-gc`). */
  const liveHeap = []
  let t0 = 0
  for (let i = 0; i < PEERS; i++) {
    const parent = i === 0 ? [] : ['--peer', urls[Math.floor((i - 1) / 2)]]
    const p = ctxChild(['watch', '--port', '0', ...parent], { cwd: dirs[i], nodeArgs: [...DAEMON_FLAGS, '--trace-gc', ...NODE_ARGS] })
    // What a full collection leaves is the live heap: unlike heapUsed it holds no garbage waiting for the
    // next collection, whose timing V8 stretches as the heap grows.
    liveHeap.push([])
    let partial = ''
    p.stdout.on('data', (d) => {
      const lines = (partial + d).split('\n')
      partial = lines.pop()
      for (const l of lines) {
        const m = / Mark-Compact(?: \(reduce\))? [\d.]+ \([\d.]+\) -> ([\d.]+) \([\d.]+\) MB/.exec(l)
        if (m && t0) liveHeap[i].push([(Date.now() - t0) / 1000, Number(m[1]) * 2 ** 20])
      }
    })
    urls.push((await waitOutput(p, /listening on (ws:\/\/127\.0\.0\.1:\d+)/))[1])
    procs.push(p)
  }
  for (let i = 1; i < PEERS; i++) await waitOutput(procs[i], /connected to /)
  console.log(`soak: ${PEERS} daemons up (tree), ${MINUTES} min at ~${RATE} edits/s, RSS every ${SAMPLE_S} s, warm-up ${WARMUP_S} s${NODE_ARGS.length ? `, daemons run with node ${NODE_ARGS.join(' ')}` : ''}`)

  t0 = Date.now()
  const samples = procs.map(() => [])
  /** [t, {heapUsed, heapTotal, external, arrayBuffers}] per daemon, from its `ping`; a busy or paused daemon may miss one. */
  const heap = procs.map(() => [])
  const sockets = dirs.map((d) => spacePaths(d).socket)
  const sampler = setInterval(() => {
    const t = (Date.now() - t0) / 1000
    procs.forEach((p, i) => {
      samples[i].push([t, rssOf(p.pid), rssFileOf(p.pid)])
      callDaemon(sockets[i], 'ping', null, 2000).then((r) => r.memory && heap[i].push([t, r.memory]), () => undefined)
    })
  }, SAMPLE_S * 1000)

  // Edits and their arrival: pending[i] = [{rev, at, left: Set of receivers}]
  const rng = mulberry32(6)
  const rev = new Array(PEERS).fill(0)
  const extra = new Array(PEERS).fill(null)
  const pending = Array.from({ length: PEERS }, () => [])
  const lat = []
  let edits = 0
  let removed = 0
  const editTimes = []
  let watching = true
  const watcher = (async () => {
    while (watching || pending.some((p) => p.length)) {
      for (let r = 0; r < PEERS; r++) {
        if (!pending.some((p, i) => i !== r && p.some((e) => e.left.has(r)))) continue
        let text
        try { text = fs.readFileSync(path.join(dirs[r], DOC), 'utf8') } catch { continue }
        const now = performance.now()
        for (let i = 0; i < PEERS; i++) {
          if (i === r) continue
          const seen = revOf(text, i)
          for (const e of pending[i]) if (e.left.has(r) && e.rev <= seen) {
            e.left.delete(r)
            lat.push(now - e.at)
          }
          pending[i] = pending[i].filter((e) => e.left.size)
        }
      }
      await sleep(5)
    }
  })()

  const snap = async (label) => {
    if (!SNAP_DIR) return
    const before = new Set(fs.readdirSync(SNAP_DIR))
    for (const p of procs.slice(0, 2)) process.kill(p.pid, 'SIGUSR2')
    for (let i = 0; i < 600 && fs.readdirSync(SNAP_DIR).filter((f) => !before.has(f)).length < 2; i++) await sleep(100)
    await sleep(2000) // the files are complete once their size stops changing; snapshots of ~20 MB take a moment
    for (const f of fs.readdirSync(SNAP_DIR).filter((x) => !before.has(x))) console.log(`heap snapshot ${label}: ${f} ${fmt(fs.statSync(path.join(SNAP_DIR, f)).size / 2 ** 20)} MiB`)
  }
  if (SNAP_DIR) setTimeout(() => void snap('after warm-up'), WARMUP_S * 1000)
  const endAt = t0 + MINUTES * 60_000
  while (Date.now() < endAt) {
    const i = Math.floor(rng() * PEERS)
    const n = ++rev[i]
    const file = path.join(dirs[i], DOC)
    const drop = extra[i]
    const add = CHURN > 0 && n % CHURN === 0 ? `x-${i}-${n}` : null
    const at = performance.now()
    await pausedEdit(procs[i].pid, file, (t) => {
      let out = t.replace(new RegExp(`(- id: o${i}\\n    title: ")p${i} rev \\d+"`), `$1p${i} rev ${n}"`)
      if (add) {
        if (drop) out = out.replace(new RegExp(`^  - id: ${drop}\\n(?:    .*\\n)*`, 'm'), '')
        out += `  - id: ${add}\n    title: "extra of p${i}"\n    status: open\n`
      }
      return out
    })
    if (add) {
      if (drop) removed++
      extra[i] = add
    }
    pending[i].push({ rev: n, at, left: new Set(dirs.map((_, r) => r).filter((r) => r !== i)) })
    edits++
    editTimes.push(Date.now())
    await sleep((1000 / RATE) * (0.5 + rng()))
  }
  clearInterval(sampler)
  await snap('at the end')
  watching = false
  const died = procs.filter((p) => p.exitCode !== null || p.signalCode !== null).length
  if (died) console.log(`${died} daemon(s) died during the run:\n${procs.find((p) => p.exitCode !== null)?.output.slice(-2000)}`)
  const drainDeadline = Date.now() + 60_000
  while (pending.some((p) => p.length) && Date.now() < drainDeadline) await sleep(50)
  const lost = pending.reduce((n, p) => n + p.reduce((m, e) => m + e.left.size, 0), 0)
  pending.forEach((p) => (p.length = 0))
  await watcher

  // Convergence at the end.
  let same = false
  for (const deadline = Date.now() + 30_000; Date.now() < deadline && !same; await sleep(100)) {
    const texts = dirs.map((d) => fs.readFileSync(path.join(d, DOC), 'utf8'))
    same = texts.every((t) => t === texts[0])
  }

  const afterWarmup = (s) => {
    const after = s.filter(([t]) => t >= WARMUP_S)
    return after.length >= 2 ? after : s
  }
  const slopeOf = (s, get) => slope(s.map(([t]) => t / 60), s.map((x) => get(x) / 2 ** 20))
  // The second half of the run: V8 sizing its generations and the allocator's arenas settle in the first
  // minutes, so this is the rate a daemon keeps growing at.
  const secondHalf = (s) => {
    const late = s.filter(([t]) => t >= (WARMUP_S + MINUTES * 60) / 2)
    return late.length >= 2 ? late : afterWarmup(s)
  }
  const perDaemon = samples.map((s) => {
    const use = afterWarmup(s)
    const ys = use.map(([, v]) => v / 2 ** 20)
    return {
      first: ys[0], last: ys.at(-1), max: Math.max(...s.map(([, v]) => v / 2 ** 20)), slope: slope(use.map(([t]) => t / 60), ys), n: s.length,
      file: s.at(-1)?.[2] / 2 ** 20, fileFirst: use[0]?.[2] / 2 ** 20,
      // Pages of the node binary and its libraries come in as code paths first run: reclaimable, not a leak.
      fileSlope: slopeOf(use, ([, , f]) => f), anonSlope: slopeOf(use, ([, v, f]) => v - f),
      lateSlope: slopeOf(secondHalf(s), ([, v]) => v),
    }
  })
  const perHeap = heap.map((s) => {
    const use = afterWarmup(s)
    const last = s.at(-1)?.[1]
    if (!last || use.length < 2) return null
    return {
      used: last.heapUsed / 2 ** 20, total: last.heapTotal / 2 ** 20, external: last.external / 2 ** 20,
      usedSlope: slopeOf(use, ([, m]) => m.heapUsed), lateUsedSlope: slopeOf(secondHalf(s), ([, m]) => m.heapUsed), totalSlope: slopeOf(use, ([, m]) => m.heapTotal), externalSlope: slopeOf(use, ([, m]) => m.external),
    }
  })
  const sl = (v) => `${v >= 0 ? '+' : ''}${v.toFixed(2)}`
  console.log('\nRSS per daemon (MiB): first after warm-up / last / max / slope MiB per min')
  perDaemon.forEach((d, i) => console.log(`  p${i}: ${fmt(d.first)} / ${fmt(d.last)} / ${fmt(d.max)} / ${sl(d.slope)}  (${d.n} samples)`))
  console.log('\nMemory per daemon at the end (MiB, slope after warm-up in MiB per min): V8 heap used, V8 heap committed, external (Buffers, ArrayBuffers), RSS mapped from files (binary, libraries)')
  perHeap.forEach((h, i) => console.log(h
    ? `  p${i}: heapUsed ${fmt(h.used)} (${sl(h.usedSlope)})  heapTotal ${fmt(h.total)} (${sl(h.totalSlope)})  external ${fmt(h.external)} (${sl(h.externalSlope)})  RssFile ${fmt(perDaemon[i].fileFirst)} → ${fmt(perDaemon[i].file)} (${sl(perDaemon[i].fileSlope)})  (${heap[i].length} samples)`
    : `  p${i}: no answer to ping`))
  const heapAll = (k) => perHeap.filter(Boolean).map((h) => h[k])
  const perLive = liveHeap.map((s) => {
    const use = afterWarmup(s)
    return use.length >= 2 ? { first: use[0][1] / 2 ** 20, last: use.at(-1)[1] / 2 ** 20, slope: slopeOf(use, ([, v]) => v), late: slopeOf(secondHalf(s), ([, v]) => v), n: s.length } : null
  })
  const liveAll = (k) => perLive.filter(Boolean).map((h) => h[k])
  console.log('\nLive V8 heap per daemon (MiB after each full collection): first after warm-up → last (slope after warm-up, in the second half; full collections)')
  perLive.forEach((h, i) => console.log(h ? `  p${i}: ${fmt(h.first)} → ${fmt(h.last)} (${sl(h.slope)}, ${sl(h.late)}; ${h.n})` : `  p${i}: fewer than two full collections after warm-up`))
  // RSS over time: the sample nearest each step, median over the daemons (and the lowest and highest).
  const step = MINUTES >= 20 ? 5 : MINUTES >= 5 ? 1 : 0.25
  console.log(`\nRSS over time (MiB, every ${step} min): median daemon [lowest–highest]; V8 heap used, median daemon; edits so far`)
  const nearest = (s, at) => s.reduce((best, x) => (Math.abs(x[0] - at) < Math.abs(best[0] - at) ? x : best), s[0])
  for (let m = step; m <= MINUTES + 1e-9; m += step) {
    const rss = samples.filter((s) => s.length).map((s) => nearest(s, m * 60)[1] / 2 ** 20)
    const used = heap.filter((s) => s.length).map((s) => nearest(s, m * 60)[1].heapUsed / 2 ** 20)
    const editsThen = editTimes.filter((t) => t <= t0 + m * 60_000).length
    console.log(`  ${String(m).padStart(5)} min: ${fmt(pct(rss, 50))} [${fmt(Math.min(...rss))}–${fmt(Math.max(...rss))}]  heap ${used.length ? fmt(pct(used, 50)) : '—'}  ${editsThen} edits`)
  }
  const all = (k) => perDaemon.map((d) => d[k])
  const growth = perDaemon.map((d) => (d.last - d.first) / d.first * 100)
  report(`soak: ${PEERS} daemons editing for ${MINUTES} min`, [
    { figure: 'edits saved', value: edits, digits: 0, note: `${fmt(edits / (MINUTES * 60))}/s over all peers; ${lat.length} deliveries timed, ${lost} not arrived` },
    { figure: 'RSS, first sample after warm-up (median daemon)', value: pct(all('first'), 50), unit: 'MiB', note: `range ${fmt(Math.min(...all('first')))}–${fmt(Math.max(...all('first')))}` },
    { figure: 'RSS, last sample (median daemon)', value: pct(all('last'), 50), unit: 'MiB', note: `range ${fmt(Math.min(...all('last')))}–${fmt(Math.max(...all('last')))}` },
    { figure: 'RSS, max of any daemon', value: Math.max(...all('max')), unit: 'MiB' },
    { figure: 'RSS growth first→last (worst daemon)', value: Math.max(...growth), unit: '%', target: { op: '<=', value: 20 }, note: 'flat: within GC noise' },
    { figure: 'RSS slope after warm-up (worst daemon)', value: Math.max(...all('slope')), unit: 'MiB/min', digits: 2, target: { op: '<=', value: 0.5 } },
    { figure: 'RSS slope, second half of the run (median daemon)', value: pct(all('lateSlope'), 50), unit: 'MiB/min', digits: 2, note: `worst ${sl(Math.max(...all('lateSlope')))}; V8 heap used in the same half ${sl(pct(heapAll('lateUsedSlope'), 50))} (median)` },
    { figure: '  anonymous RSS (RSS − RssFile), slope (worst daemon)', value: Math.max(...all('anonSlope')), unit: 'MiB/min', digits: 2, note: 'what the process allocated: heap, native, buffers' },
    { figure: '  file-backed RSS (RssFile), slope (median daemon)', value: pct(all('fileSlope'), 50), unit: 'MiB/min', digits: 2, note: 'code pages of node and its libraries touched as new paths run' },
    { figure: '  V8 heap committed (heapTotal), slope (median daemon)', value: pct(heapAll('totalSlope'), 50), unit: 'MiB/min', digits: 2, note: 'V8 growing its generations (not a leak by itself)' },
    { figure: '  V8 heap used, slope (median daemon)', value: pct(heapAll('usedSlope'), 50), unit: 'MiB/min', digits: 2, note: 'live objects plus garbage not yet collected; CRDT history grows it slowly' },
    { figure: '  V8 heap used per edit integrated (median daemon)', value: (pct(heapAll('usedSlope'), 50) * 1024) / (edits / MINUTES), unit: 'KiB', digits: 2, note: 'every daemon integrates every edit; the CRDT history of one edit is ~1 KiB' },
    ...(liveAll('slope').length ? [
      { figure: '  live V8 heap (after full GCs), slope (median daemon)', value: pct(liveAll('slope'), 50), unit: 'MiB/min', digits: 2, note: `second half ${sl(pct(liveAll('late'), 50))}; ${fmt(pct(liveAll('first'), 50))} → ${fmt(pct(liveAll('last'), 50))} MiB (median)` },
    ] : []),
    ...(removed && liveAll('slope').length ? [{ figure: '  live V8 heap per todo removed (median daemon)', value: (pct(liveAll('slope'), 50) * 1024 * MINUTES) / removed, unit: 'KiB', digits: 2, note: `${removed} todos removed (--churn ${CHURN}); a removed todo keeps its registers in the CRDT (Yjs: ~4–5 KiB for ten)` }] : []),
    { figure: '  external memory, slope (median daemon)', value: pct(heapAll('externalSlope'), 50), unit: 'MiB/min', digits: 2 },
    { figure: 'latency save → other peer\'s file, p50', value: pct(lat, 50), unit: 'ms' },
    { figure: '  p90', value: pct(lat, 90), unit: 'ms' },
    { figure: '  p99', value: pct(lat, 99), unit: 'ms', target: { op: '<=', value: 250 }, note: `up to ${Math.ceil(Math.log2(PEERS + 1)) * 2 - 2} hops, ${PEERS} daemons on this machine` },
    { figure: '  max', value: Math.max(...lat), unit: 'ms' },
    { figure: 'files byte-identical at the end', value: same ? 1 : 0, digits: 0, target: { op: '>=', value: 1 }, note: same ? `all ${PEERS}` : 'NOT converged' },
    { figure: 'deliveries that never arrived', value: lost, digits: 0, target: { op: '<=', value: 0 } },
  ], { sampling: `RSS every ${SAMPLE_S} s from /proc/<pid>/status (VmRSS); warm-up ${WARMUP_S} s excluded from first/slope` })
})
