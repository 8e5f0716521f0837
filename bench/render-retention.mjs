/**
 * Memory a model keeps after scattered edits of a big file: 60 single-field edits of a 1 MiB todos file,
 * each taken in and rendered (`FileModel.ingest`), then the live heap growth after full GCs.
 *
 * Why: the renderer caches each entry's text to reuse it. Cut as a substring of the whole rendering, that
 * text kept the whole rendering alive — one old copy of the file per entry edited at a different time,
 * ~1 MiB per edit here (64.6 MiB after 60 edits before the fix, 6.5 MiB after).
 *
 *   node bench/render-retention.mjs [--edits N] [--kb N]
 */
import { spawnSync } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { FileModel } from '../dist/crdt/model.js'
import { FieldEditor, arg, author, mulberry32, report, run, todosFileOfSize } from './lib.mjs'

if (typeof global.gc !== 'function') {
  // Full collections are needed to see what stays alive.
  const r = spawnSync(process.execPath, ['--expose-gc', fileURLToPath(import.meta.url), ...process.argv.slice(2)], { stdio: 'inherit' })
  process.exit(r.status ?? 1)
}

run(async () => {
  const edits = Number(arg('edits', 60))
  const { text } = todosFileOfSize(Number(arg('kb', 1024)) * 1024)
  const m = new FileModel({ name: '.rhema/todos.yaml', author: author('a') })
  m.enroll(text)
  const ed = new FieldEditor(text)
  const rng = mulberry32(3)
  let cur = text
  global.gc()
  const h0 = process.memoryUsage().heapUsed
  for (let i = 0; i < edits; i++) {
    cur = ed.edit(cur, Math.floor(rng() * ed.count))
    cur = m.ingest(cur).text ?? cur
  }
  global.gc()
  global.gc()
  const grew = (process.memoryUsage().heapUsed - h0) / 2 ** 20
  report(`render retention: ${edits} scattered edits of a ${Math.round(Buffer.byteLength(text) / 1024)} KiB file`, [
    { figure: 'live heap growth after full GC', value: grew, unit: 'MiB', target: { op: '<=', value: 10 }, note: 'CRDT history and caches; an old copy of the file per edit would be ~1 MiB each' },
  ])
})
