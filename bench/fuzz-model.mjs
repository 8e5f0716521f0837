/**
 * Issue 12 long run: a hostile member in process — the CI test (test/crdt/hostile-model.test.ts) at a
 * hundred thousand cases and full size. Each case is a seeded, well-formed Yjs update in the model's schema
 * with adversarial values (bench/hostile-model.mjs) against a real peer's model of a fixture:
 *  - the guard (`checkUpdate`) must refuse what the case says must be refused and accept honest writes;
 *  - an accepted update must apply, render and list conflicts (a DamagedStateError — held — is allowed);
 *  - a refused update, stored as a version without the guard would have, must load held (`checkState`)
 *    or render within the limits; and a refused update leaves the model's state unchanged.
 * The cases run in a worker thread watched by the main thread: a case that makes no progress for
 * `--hang-ms` is a hang (the worker is replaced and the run goes on). Every failure prints its seed;
 * `--seed S --cases 1` replays one.
 *
 * Figures: cases by kind and outcome (accepted/refused × rendered/held/damaged), crashes, hangs, wrong
 * verdicts, cases per second, the slowest case, the worker's peak heap.
 *
 *   node bench/fuzz-model.mjs [--quick] [--cases N] [--seed S] [--scale F] [--hang-ms MS]
 */
import { Worker, isMainThread, parentPort, workerData } from 'node:worker_threads'
import { fileURLToPath } from 'node:url'
import * as Y from 'yjs'

const FIXTURE = `# Team todos
todos:
  # the first one
  - id: t1
    title: "First task"   # inline comment
    status: open
    notes: |
      line one
      line two
    tags: [a, b]
  - id: t2
    title: "Second task"
    meta: {owner: x, n: 3}
    status: open
`
const DOC = '.rhema/todos.yaml'

if (isMainThread) await main()
else await work(workerData)

async function main() {
  const { QUICK, arg, report, run } = await import('./lib.mjs')
  run(async () => {
    const cases = Number(arg('cases', QUICK ? 10_000 : 100_000))
    const seed = Number(arg('seed', Date.now() % 1_000_000))
    const scale = Number(arg('scale', 1))
    const hangMs = Number(arg('hang-ms', 30_000))
    console.log(`fuzz-model: ${cases} hostile-member cases from seed ${seed} (scale ${scale}); replay one with --seed S --cases 1`)
    const counts = {}
    const failures = []
    let hangs = 0
    let slowest = { ms: 0, seed: 0, kind: '' }
    let peakHeap = 0
    const t0 = performance.now()
    let next = 0
    while (next < cases) {
      // One worker runs cases [next, cases); if it stalls, the stalled case is a hang and a new worker goes on.
      const result = await new Promise((resolve) => {
        const w = new Worker(fileURLToPath(import.meta.url), { workerData: { from: next, to: cases, seed, scale } })
        let last = performance.now()
        let current = next
        const timer = setInterval(() => {
          if (performance.now() - last > hangMs) {
            clearInterval(timer)
            void w.terminate()
            resolve({ hang: current })
          }
        }, 500)
        w.on('message', (m) => {
          last = performance.now()
          if (m.start !== undefined) current = m.start
          if (m.done) {
            const c = (counts[m.kind] ??= {})
            c[m.outcome] = (c[m.outcome] ?? 0) + 1
            if (m.ms > slowest.ms) slowest = { ms: m.ms, seed: m.seed, kind: m.kind }
            peakHeap = Math.max(peakHeap, m.heap)
            if (m.failure) {
              failures.push(m)
              console.log(`FAIL seed ${m.seed} (${m.kind}): ${m.failure}`)
            }
            current = m.index + 1
            if (current % 5000 === 0) console.log(`  ${current} cases, ${failures.length} failures, ${((performance.now() - t0) / 1000).toFixed(0)} s`)
          }
        })
        w.on('error', (e) => {
          clearInterval(timer)
          failures.push({ seed: seed + current, kind: '?', failure: `worker died: ${e.message}` })
          resolve({ crashed: current })
        })
        w.on('exit', () => {
          clearInterval(timer)
          resolve({ finished: true })
        })
      })
      if (result.hang !== undefined) {
        hangs++
        failures.push({ seed: seed + result.hang, kind: '?', failure: `no progress for ${hangMs} ms` })
        next = result.hang + 1
      } else if (result.crashed !== undefined) next = result.crashed + 1
      else break
    }
    const secs = (performance.now() - t0) / 1000
    console.log('\ncases by kind (verdict/what the same bytes did when loaded from a store without the guard):')
    for (const [kind, o] of Object.entries(counts).sort()) console.log(`  ${kind.padEnd(16)} ${Object.entries(o).map(([k, v]) => `${k} ${v}`).join(', ')}`)
    const wrong = failures.length - hangs
    report('Hostile member in process (schema-valid updates)', [
      { figure: 'cases', value: cases, digits: 0 },
      { figure: 'crashes, wrong verdicts, state changed by a refusal', value: wrong, digits: 0, target: { op: '<=', value: 0 } },
      { figure: 'hangs', value: hangs, digits: 0, target: { op: '<=', value: 0 }, note: `no progress for ${hangMs} ms` },
      { figure: 'cases per second', value: cases / secs, digits: 0 },
      { figure: 'slowest case', value: slowest.ms, unit: 'ms', digits: 0, note: `${slowest.kind}, seed ${slowest.seed}` },
      { figure: 'worker peak heap', value: peakHeap / 2 ** 20, unit: 'MiB', digits: 0 },
    ], { seed, scale })
    for (const f of failures.slice(0, 50)) console.log(`FAIL seed ${f.seed} (${f.kind}): ${f.failure}`)
    if (failures.length > 0) process.exitCode = 1
  })
}

async function work({ from, to, seed, scale }) {
  const { FileModel } = await import('../dist/crdt/model.js')
  const { checkState, checkUpdate } = await import('../dist/crdt/guard.js')
  const { DamagedStateError } = await import('../dist/crdt/limits.js')
  const { makeCase } = await import('./hostile-model.mjs')
  const author = { id: 'p-victim', name: 'victim', kind: 'human' }
  const enrollment = FileModel.enrollment(DOC, FIXTURE)
  const victim = () => {
    const m = new FileModel({ name: DOC, author })
    m.load([enrollment])
    m.setBase(m.render())
    return m
  }
  const base = victim().doc
  const exercise = (m) => {
    try {
      m.render()
      m.conflicts()
      return 'rendered'
    } catch (e) {
      if (e instanceof DamagedStateError) return 'damaged'
      throw e
    }
  }
  for (let i = from; i < to; i++) {
    parentPort.postMessage({ start: i })
    const t0 = performance.now()
    let kind = '?'
    let outcome = ''
    let failure = null
    try {
      const c = makeCase(seed + i, base, undefined, scale)
      kind = c.kind
      const m = victim()
      const before = Y.encodeStateAsUpdate(m.doc)
      let verdict = 'accepted'
      let render = 'rendered'
      c.updates.forEach((u, k) => {
        if (verdict === 'refused') return
        const r = checkUpdate(m.doc, u)
        if (r) {
          verdict = 'refused'
          if (c.expect === 'accept' || (c.expect === 'refuse-last' && k < c.updates.length - 1)) failure = `honest update refused: ${r.kind}: ${r.reason}`
          return
        }
        m.applyRemote(u, 'evil')
        render = exercise(m)
      })
      if (verdict === 'accepted' && (c.expect === 'refuse' || c.expect === 'refuse-last')) failure = 'hostile update accepted'
      if (verdict === 'refused' && c.updates.length === 1 && Buffer.compare(Buffer.from(Y.encodeStateAsUpdate(m.doc)), Buffer.from(before)) !== 0) failure = 'a refused update changed the state'
      m.destroy()
      let load = render
      if (verdict === 'refused') {
        const stored = new FileModel({ name: DOC, author })
        stored.load([enrollment, ...c.updates])
        load = checkState(stored.doc) ? 'held' : exercise(stored)
        stored.destroy()
      }
      outcome = `${verdict}/${load}`
    } catch (e) {
      failure = `threw ${e?.name}: ${String(e?.message).slice(0, 200)}`
      outcome = 'crashed'
    }
    parentPort.postMessage({ done: true, index: i, seed: seed + i, kind, outcome, failure, ms: performance.now() - t0, heap: process.memoryUsage().heapUsed })
  }
}
