/**
 * Issue 16 benchmark: the version store (src/space/versions/).
 *
 *  1. Size: 10,000 single-field edits of the 10 KB Rhema todos file, spread over 30 simulated days, go
 *     through the real `VersionBook` writer (delta, deflate, append; thinning by the default policy and
 *     compaction into brotli frames of line deltas every 256 appends, with the clock moved along by
 *     CTXSYNC_TEST_CLOCK). Each edit changes the field next to the one before, so an hourly version kept
 *     (about 14 edits) changes 14 fields: the figure is the cost of thinned versions, not of single edits. Printed: the store's bytes at the end,
 *     the versions it keeps, and bytes per 1,000 kept versions ÷ the YAML's size (target ≤ 2). The same
 *     edits with the policy keeping everything show the store's cost per version without thinning.
 *  2. Live-path cost: what `DocVersions.afterTurn` adds to each turn (the only part on the live path: a
 *     string comparison, the authors, a queue push), p50 and p99 over 10,000 changes (target p50 ≤ 1 ms);
 *     and the writer's cost per change, off the live path (later macrotasks), for the record.
 *
 *   node bench/history.mjs [--quick] [--edits N]
 */
import fs from 'node:fs'
import path from 'node:path'
import * as Y from 'yjs'
import { VersionBook } from '../dist/space/versions/recorder.js'
import { FieldEditor, QUICK, TODOS_10K, arg, cleanup, fmt, kib, median, pct, report, run, tempDir } from './lib.mjs'

const DOC = '.rhema/todos.yaml'
const DAY = 86_400_000
const me = { id: 'p-benchme', name: 'bench', kind: 'human' }
const peer = ['p-benchpeer', 'claude', 'agent']

async function sizeRun(edits, keepAll) {
  const dir = await tempDir('history')
  const clock = path.join(dir, 'clock')
  const config = path.join(dir, 'ctxsync.yaml')
  fs.writeFileSync(config, keepAll ? 'history:\n  all: forever\n  max-size: 1GiB\n' : 'space: bench\n')
  process.env.CTXSYNC_TEST_CLOCK = clock
  const book = new VersionBook({ dir: path.join(dir, 'versions'), config, author: me, say: (m) => console.error(m), guardFile: path.join(dir, 'guard.json') })
  let text = fs.readFileSync(TODOS_10K, 'utf8')
  const ed = new FieldEditor(text)
  const start = Date.now() - 30 * DAY
  const step = (30 * DAY) / edits
  const t0 = performance.now()
  for (let i = 0; i < edits; i++) {
    const t = Math.round(start + i * step)
    // The writer thins by the clock: it moves with the simulated time.
    if (i % 256 === 0) fs.writeFileSync(clock, String(t - Date.now()))
    text = ed.edit(text, (i * 7919) % ed.count)
    book.push({ doc: DOC, text, t, by: i % 3 ? [[me.id, me.name, me.kind]] : [peer], via: i % 3 ? 'local' : 'remote' })
    if (i % 64 === 63) await book.flushed()
  }
  await book.flushed()
  fs.writeFileSync(clock, '0')
  await book.thinLog(DOC)
  const writerMs = performance.now() - t0
  const file = fs.readdirSync(path.join(dir, 'versions')).find((f) => f.endsWith('.vlog'))
  const bytes = fs.statSync(path.join(dir, 'versions', file)).size
  const { readVersionsOf } = await import('../dist/space/versions/store.js')
  const kept = (await readVersionsOf(path.join(dir, 'versions'), DOC))
  // Every kept version reads back as a whole text: the last is exactly the last edit.
  if (kept.at(-1).text !== text) throw new Error('the newest version does not read back as the last text')
  delete process.env.CTXSYNC_TEST_CLOCK
  return { bytes, kept: kept.length, yaml: Buffer.byteLength(text), writerMs }
}

function liveCost(edits) {
  const book = new VersionBook({ dir: '/nonexistent-never-written', config: '/nonexistent', author: me, say: () => {}, guardFile: '/nonexistent' })
  // Nothing is written: the queue is dropped before the writer's macrotask runs (only the live part is timed).
  book.push = () => {}
  const doc = new Y.Doc()
  const dv = book.forDoc(DOC, { doc })
  let text = fs.readFileSync(TODOS_10K, 'utf8')
  const ed = new FieldEditor(text)
  const file = { disk: { kind: 'file' }, model: { baseText: text } }
  const times = []
  for (let i = 0; i < edits; i++) {
    text = ed.edit(text, (i * 7919) % ed.count)
    doc.getMap('x').set('k', i) // an update, as a save's operations would be
    file.model.baseText = text
    const t = performance.now()
    dv.afterTurn(file)
    times.push(performance.now() - t)
  }
  return times
}

run(async () => {
  const edits = Number(arg('edits', QUICK ? 2000 : 10_000))
  const thinned = await sizeRun(edits, false)
  const all = await sizeRun(edits, true)
  const times = liveCost(edits)
  const per1000 = (r) => r.bytes / (r.kept / 1000) / r.yaml
  report(`version store (issue 16): ${edits} edits of the 10 KB todos file over 30 simulated days`, [
    { figure: 'store size, default policy', value: thinned.bytes / 1024, unit: 'KiB', note: `${thinned.kept} versions kept of ${edits}` },
    { figure: 'per 1,000 kept versions ÷ YAML size', value: per1000(thinned), digits: 2, target: { op: '<=', value: 2 } },
    { figure: 'store size, every version kept', value: all.bytes / 1024, unit: 'KiB', note: `${all.kept} versions` },
    { figure: 'per 1,000 versions ÷ YAML size, none dropped', value: per1000(all), digits: 2, target: { op: '<=', value: 2 } },
    { figure: 'live path: afterTurn p50', value: median(times), unit: 'ms', digits: 4, target: { op: '<=', value: 1 } },
    { figure: 'live path: afterTurn p99', value: pct(times, 99), unit: 'ms', digits: 4 },
    { figure: 'writer per change (off the live path)', value: thinned.writerMs / edits, unit: 'ms', digits: 3, note: 'delta, deflate, append, thinning, compaction' },
  ], { yaml: kib(thinned.yaml), 'bytes per kept version': fmt(thinned.bytes / thinned.kept, 0) })
  await cleanup()
})
