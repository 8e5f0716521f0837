/**
 * Issue 2 benchmark: live latency, file saved on A → file rewritten on B.
 *
 * Two clones of one repository holding the 10 KB Rhema todos file, both `ctxsync init`ed into one space,
 * each running `ctxsync watch` as a child process on 127.0.0.1 (B dials A). The bench saves 200
 * single-field edits on A (random fields, one at a time, ~150 ms apart like a person or an agent saving)
 * and times each from just before the write on A to the moment B's file holds the new content (fs.watch
 * on B's directory, with a 5 ms poll as a safety net).
 *
 *   node bench/live-latency.mjs [--quick] [--edits N] [--gap MS] [--atomic]
 *     --atomic: save like editors do (temp file + rename) instead of rewriting the file in place
 *     --prof DIR: run both daemons under `node --cpu-prof` and leave their .cpuprofile files in DIR
 */
import fs from 'node:fs'
import path from 'node:path'
import { FieldEditor, QUICK, TODOS_10K, arg, median, mulberry32, pct, report, run, sleep, twoClones, twoDaemons } from './lib.mjs'

const NAME = '.rhema/todos.yaml'

function histogram(ms) {
  const edges = [10, 15, 20, 30, 40, 50, 75, 100, 200, Infinity]
  const counts = edges.map(() => 0)
  for (const v of ms) counts[edges.findIndex((e) => v <= e)]++
  return edges.map((e, i) => `${e === Infinity ? '>200' : `≤${e}`}: ${counts[i]}`).filter((_, i) => counts[i]).join(', ') + ' (ms: count)'
}

run(async () => {
  const edits = Number(arg('edits', QUICK ? 20 : 200))
  const gap = Number(arg('gap', 150))
  const atomic = process.argv.includes('--atomic')
  const text0 = fs.readFileSync(TODOS_10K, 'utf8')
  const clones = await twoClones({ [NAME]: text0 }, 'latency')
  const fileA = path.join(clones.a, NAME)
  const fileB = path.join(clones.b, NAME)
  const prof = arg('prof')
  const nodeArgs = prof ? ['--cpu-prof', '--cpu-prof-dir', path.resolve(prof)] : undefined
  const { pa, pb } = await twoDaemons(clones, { nodeArgs })
  console.log(`live-latency: ${edits} single-field edits saved on A (${atomic ? 'temp + rename' : 'in place'}), ~${gap} ms apart, 10 KB todos file`)

  // The observer of B's file.
  let want = null
  let hit = null
  const check = (how) => {
    if (want === null) return
    let now
    try {
      now = fs.readFileSync(fileB, 'utf8')
    } catch {
      return
    }
    if (now === want.text) {
      const t = performance.now()
      const w = want
      want = null
      w.resolve({ ms: t - w.t0, how })
    }
  }
  const watcher = fs.watch(path.dirname(fileB), () => check('watch'))
  // Phases, from the sidecar logs growing: A's append (A's watcher saw the save, ingested it, wrote the
  // update; its fsync follows) and B's append (the update crossed the wire and B applied it).
  let mark = null
  const side = (dir, key) =>
    fs.watch(path.join(dir, '.ctxsync', 'docs'), (ev, f) => {
      if (mark && mark[key] === undefined && f && f.endsWith('.log')) mark[key] = performance.now() - mark.t0
    })
  const sideA = side(clones.a, 'a')
  const sideB = side(clones.b, 'b')
  const poll = setInterval(() => check('poll'), 5)

  const save = (text) => {
    if (!atomic) return fs.writeFileSync(fileA, text)
    const tmp = `${fileA}.tmp-${process.pid}`
    fs.writeFileSync(tmp, text)
    fs.renameSync(tmp, fileA)
  }
  const arrival = (text, t0, timeoutMs = 5000) =>
    new Promise((resolve) => {
      want = { text, t0, resolve }
      hit = setTimeout(() => {
        if (want && want.text === text) {
          want = null
          resolve({ ms: Infinity, how: 'timeout' })
        }
      }, timeoutMs)
    })

  const ed = new FieldEditor(text0)
  const rng = mulberry32(5)
  let text = text0
  await sleep(300)
  const lat = []
  const phases = []
  const via = { watch: 0, poll: 0, timeout: 0 }
  try {
    for (let i = 0; i < edits; i++) {
      text = ed.edit(text, Math.floor(rng() * ed.count))
      const t0 = performance.now()
      const p = arrival(text, t0)
      mark = { t0 }
      save(text)
      const r = await p
      const m = mark
      mark = null
      clearTimeout(hit)
      via[r.how]++
      if (r.how === 'timeout') {
        // Resynchronise: wait until B has it, so the next edit starts clean.
        const late = await arrival(text, t0, 20_000)
        clearTimeout(hit)
        if (late.how === 'timeout') throw new Error(`edit ${i} never reached B\nA:\n${pa.output.slice(-2000)}\nB:\n${pb.output.slice(-2000)}`)
      } else {
        lat.push(r.ms)
        if (m.a !== undefined && m.b !== undefined && m.b >= m.a && r.ms >= m.b) phases.push([m.a, m.b - m.a, r.ms - m.b])
      }
      await sleep(gap + Math.floor(rng() * 50))
    }
  } finally {
    clearInterval(poll)
    watcher.close()
    sideA.close()
    sideB.close()
  }
  if (fs.readFileSync(fileA, 'utf8') !== text) throw new Error('A\'s file changed under the bench (an echo?)')
  report('live latency: saved on A → rewritten on B (10 KB todos file)', [
    { figure: 'p50', value: median(lat), unit: 'ms', target: { op: '<=', value: 15 } },
    { figure: 'p99', value: pct(lat, 99), unit: 'ms', target: { op: '<=', value: 50 } },
    { figure: 'max', value: Math.max(...lat), unit: 'ms' },
    { figure: 'min', value: Math.min(...lat), unit: 'ms' },
    { figure: 'mean', value: lat.reduce((a, b) => a + b, 0) / lat.length, unit: 'ms' },
    ...(phases.length ? [
      { figure: '  save → A\'s sidecar append (median)', value: median(phases.map((x) => x[0])), unit: 'ms', note: 'A: watcher debounce + read + ingest + log write' },
      { figure: '  → B\'s sidecar append (median)', value: median(phases.map((x) => x[1])), unit: 'ms', note: 'A fsync + send + B apply + log write' },
      { figure: '  → B\'s file rewritten (median)', value: median(phases.map((x) => x[2])), unit: 'ms', note: 'B fsync + write-back (render + atomic write)' },
    ] : []),
  ], {
    histogram: histogram(lat),
    samples: `${lat.length} of ${edits} edits (${via.timeout} over 5 s, excluded); seen by fs.watch ${via.watch}, by the 5 ms poll ${via.poll}`,
  })
})
