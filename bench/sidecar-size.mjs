/**
 * Issue 2 benchmark: sidecar bytes on disk ÷ YAML bytes after 10,000 single-field edits of the 10 KB Rhema
 * todos file. The edits go through the real path: a `ctxsync init`ed repository, a real `Space` (from
 * dist/space/space.js) holding the lock, and `space.onLocalFile` for each save — the call the daemon's
 * watcher makes — so FileModel.ingest, the sidecar appends (fsynced) and the space's own compaction policy
 * (`FileDocStore.shouldCompact` → `DocEntry.compact`) all run as in `ctxsync watch`.
 *
 * Figures per edit distribution (one field edited over and over / random fields all over the file):
 *   - after a final compaction (the same `DocEntry.compact()` the space calls): the target figure;
 *   - at rest: snapshot + log tail as the space leaves them after the last edit (no forced compaction);
 *   - never compacted: every byte the log received (log sizes at each compaction + the tail);
 *   - the Yjs state alone (encodeStateAsUpdate), uncompressed, to show what the snapshot codec saves;
 *   - right after `ctxsync init` (enrollment only, before any edit).
 *
 * By default each save's meta record is written too, as it is when saves come ≥ 100 ms apart (the daemon
 * writes meta 100 ms after the last change); `--burst` leaves that to the timer (a burst of saves).
 * The distributions run as two child processes in parallel (sizes do not depend on speed).
 *
 *   node bench/sidecar-size.mjs [--quick] [--edits N] [--burst]
 */
import { spawn } from 'node:child_process'
import fs from 'node:fs'
import fsp from 'node:fs/promises'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import * as Y from 'yjs'
import { sha256hex } from '../dist/ids.js'
import { Space } from '../dist/space/space.js'
import { FieldEditor, QUICK, TODOS_10K, arg, cleanup, ctx, kib, mulberry32, report, run, tempDir } from './lib.mjs'

const NAME = '.rhema/todos.yaml'
const DISTS = {
  'one field': () => () => 0,
  'random fields': () => {
    const rng = mulberry32(3)
    return (n) => Math.floor(rng() * n)
  },
}

async function measure(label, edits, burst) {
  const pickField = DISTS[label]()
  const dir = await tempDir('sidecar')
  const file = path.join(dir, NAME)
  const text0 = fs.readFileSync(TODOS_10K, 'utf8')
  await fsp.mkdir(path.dirname(file), { recursive: true })
  await fsp.writeFile(file, text0)
  await ctx(['init', '--name', 'bench', '--discovery', 'none', '--no-git'], { cwd: dir })

  const space = await Space.open({ cwd: dir, command: 'bench sidecar-size', lock: { wait: 0 }, warn: (m) => console.error(`warning: ${m}`) })
  const entry = space.doc(NAME) // the document's worker (space/worker.ts)
  const store = space.store
  const afterInit = await store.size(NAME)
  // Measurement only: note the log's size each time the space compacts it.
  let logBytesAtCompactions = 0
  let compactions = 0
  const logPath = () => path.join(store.dir, fs.readdirSync(store.dir).find((n) => n.endsWith('.log')))
  const compact = store.compact.bind(store)
  const header = () => fs.statSync(logPath()).size
  store.compact = async (...a) => {
    const before = fs.statSync(logPath()).size
    await compact(...a)
    logBytesAtCompactions += before - header()
    compactions++
  }

  const ed = new FieldEditor(text0)
  let text = text0
  const t0 = performance.now()
  for (let i = 0; i < edits; i++) {
    text = ed.edit(text, pickField(ed.count))
    fs.writeFileSync(file, text)
    await space.onLocalFile(NAME, text, sha256hex(text))
    if (!burst) await entry.persist('now')
    await entry.log.flushed()
  }
  const ms = performance.now() - t0
  await space.idle()
  await entry.log.flushed()
  const rendered = entry.model.render().text
  const atRest = await store.size(NAME)
  const neverCompacted = logBytesAtCompactions + (fs.statSync(logPath()).size - header())
  const spaceCompactions = compactions
  const yjsState = Y.encodeStateAsUpdate(entry.model.doc).length
  await entry.log.compact()
  const compacted = await store.size(NAME)
  await space.close()
  const yaml = Buffer.byteLength(text)
  if (rendered !== text) throw new Error(`${label}: the model does not render the saved text`)
  return { label, yaml, yaml0: Buffer.byteLength(text0), afterInit, atRest, compacted, neverCompacted, yjsState, compactions: spaceCompactions, msPerEdit: ms / edits }
}

const self = fileURLToPath(import.meta.url)

function worker(label, edits, burst) {
  return new Promise((resolve, reject) => {
    const c = spawn(process.execPath, [self, '--worker', label, '--edits', String(edits), ...(burst ? ['--burst'] : [])], { stdio: ['ignore', 'pipe', 'inherit'] })
    let out = ''
    c.stdout.on('data', (d) => (out += d))
    c.on('error', reject)
    c.on('close', (code) => {
      if (code !== 0) return reject(new Error(`worker "${label}" exited ${code}`))
      resolve(JSON.parse(out.trim().split('\n').pop()))
    })
  })
}

run(async () => {
  const edits = Number(arg('edits', QUICK ? 200 : 10_000))
  const burst = process.argv.includes('--burst')
  const only = arg('worker')
  if (only) {
    const r = await measure(only, edits, burst)
    await cleanup()
    console.log(JSON.stringify(r))
    return
  }
  console.log(`sidecar-size: ${edits} single-field edits of the 10 KB todos file through Space.onLocalFile${burst ? ' (burst: meta by timer)' : ' (meta written per save)'}`)
  const results = await Promise.all(Object.keys(DISTS).map((label) => worker(label, edits, burst)))
  const full = edits === 10_000
  const rows = []
  for (const r of results) {
    const ratio = (n) => n / r.yaml
    rows.push(
      { figure: `${r.label}: after final compaction`, value: ratio(r.compacted), digits: 2, target: full ? { op: '<=', value: 1.2 } : undefined, note: `${kib(r.compacted)} ÷ ${kib(r.yaml)} YAML${full ? '' : '; target is for 10,000 edits'}` },
      { figure: `${r.label}: at rest, before it`, value: ratio(r.atRest), digits: 2, note: `${kib(r.atRest)}: snapshot + log tail after ${r.compactions} compactions by the space` },
      { figure: `${r.label}: never compacted`, value: ratio(r.neverCompacted), digits: 2, note: `${kib(r.neverCompacted)}: every log record, the enrollment included (${((r.neverCompacted - r.afterInit) / edits).toFixed(0)} B per edit)` },
      { figure: `${r.label}: Yjs state, uncompressed`, value: ratio(r.yjsState), digits: 2, note: `${kib(r.yjsState)} (encodeStateAsUpdate)` },
    )
  }
  const r0 = results[0]
  rows.push({ figure: 'right after `ctxsync init` (no edit yet)', value: r0.afterInit / r0.yaml0, digits: 2, note: `${kib(r0.afterInit)} ÷ ${kib(r0.yaml0)}` })
  report(`sidecar bytes ÷ YAML bytes after ${edits} single-field edits`, rows, {
    speed: results.map((r) => `${r.label} ${r.msPerEdit.toFixed(1)} ms per save (ingest + fsynced append)`).join('; '),
  })
})
