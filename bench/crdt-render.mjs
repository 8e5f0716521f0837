/**
 * Issue 3 benchmark: rendering a 1 MB todos file from its CRDT state (`FileModel.render`).
 *
 * Three situations, because they cost very differently:
 *  - after a peer's change (the live case, the target): the tree rebuilds the path to what changed and the
 *    renderer reuses the text of every untouched entry; only the entries rendered afresh are parsed to check;
 *  - cold, right after loading the state (daemon start), when the caller knows the file's text — the
 *    rendering is compared with it, so no parse is needed;
 *  - cold with a full check (no text to compare with): the whole output is parsed once.
 *
 *   node bench/crdt-render.mjs [--quick] [--runs N] [--kb N]
 */
import * as Y from 'yjs'
import { FileModel } from '../dist/crdt/model.js'
import { DOC, FieldEditor, MiB, QUICK, arg, author, kib, median, mulberry32, pct, report, run, timed, todosFileOfSize } from './lib.mjs'

run(async () => {
  const runs = Number(arg('runs', QUICK ? 3 : 15))
  const bytes = Number(arg('kb', QUICK ? 256 : 1024)) * 1024
  const { text, todos } = todosFileOfSize(bytes)
  const size = Buffer.byteLength(text)
  console.log(`crdt-render: ${kib(size)} todos file (${todos} todos), ${runs} renders after a peer's one-field change`)

  const update = FileModel.enrollment(DOC, text)
  const a = new FileModel({ name: DOC, author: author('a') })
  const b = new FileModel({ name: DOC, author: author('b') })
  a.load([update])
  b.load([update])
  const [coldExpectMs, cold] = timed(() => b.render(text))
  const c = new FileModel({ name: DOC, author: author('c') })
  c.load([update])
  const [coldFullMs] = timed(() => c.render())
  a.setBase(a.render(text))
  b.setBase(cold)

  // A edits one field; B applies the update and renders: the live path.
  const ed = new FieldEditor(text)
  const rng = mulberry32(11)
  let cur = text
  let bad = 0
  const times = []
  for (let k = 0; k < runs; k++) {
    cur = ed.edit(cur, Math.floor(rng() * ed.count))
    a.ingest(cur)
    const u = Y.encodeStateAsUpdate(a.doc, Y.encodeStateVector(b.doc))
    b.applyRemote(u, 'a')
    const t0 = performance.now()
    const r = b.render()
    const ms = performance.now() - t0
    if (r.text !== cur) bad++
    b.setBase(r)
    times.push(ms)
  }
  const full = bytes === MiB
  report(`crdt: render a ${kib(size)} file`, [
    { figure: `render after a peer's change (median)`, value: median(times), unit: 'ms', target: full ? { op: '<=', value: 100 } : undefined, note: `${full ? '' : 'target is for 1 MiB; '}p90 ${pct(times, 90).toFixed(1)} ms, max ${Math.max(...times).toFixed(1)}` },
    { figure: 'cold render, compared with the file', value: coldExpectMs, unit: 'ms', note: 'first render after loading the state (daemon start)' },
    { figure: 'cold render, whole output parsed to check', value: coldFullMs, unit: 'ms', note: 'first render with nothing to compare with' },
  ], { sanity: bad ? `${bad} render(s) differed from the editor's text` : 'every render was byte-identical to the editing peer\'s file' })
})
