/**
 * Issue 3 benchmark: rendering a 1 MB todos file from its CRDT state (`FileModel.render`), with the
 * breakdown of its phases: Y.Map → IR (`tree.toIR`), IR → text (`renderDoc`), and the re-parse + annotate
 * that gives the caller the base for the next local edit.
 *
 *   node bench/crdt-render.mjs [--quick] [--runs N] [--kb N]   (--quick: 256 KiB file, 2 runs; --quick --kb 1024: the real size, fast)
 */
import { annotate } from '../dist/crdt/annotate.js'
import { FileModel } from '../dist/crdt/model.js'
import { parseYaml } from '../dist/crdt/parse.js'
import { renderDoc } from '../dist/crdt/render.js'
import { defaultRules } from '../dist/crdt/rules.js'
import { DOC, MiB, QUICK, arg, author, kib, median, pct, report, run, sample, timed, todosFileOfSize } from './lib.mjs'

run(async () => {
  const runs = Number(arg('runs', QUICK ? 2 : 10))
  // --quick is a smoke run: a 256 KiB file unless --kb says otherwise (the target is for 1 MiB).
  const bytes = Number(arg('kb', QUICK ? 256 : 1024)) * 1024
  const { text, todos } = todosFileOfSize(bytes)
  const size = Buffer.byteLength(text)
  console.log(`crdt-render: ${kib(size)} todos file (${todos} todos), ${runs} renders`)

  // A peer that received the file (loads the enrollment, as a second clone or a restart does).
  const m = new FileModel({ name: DOC, author: author('a') })
  const [enrollMs, update] = timed(() => FileModel.enrollment(DOC, text))
  const [loadMs] = timed(() => m.load([update]))
  let bad = 0
  const [coldMs] = timed(() => { if (m.render().text !== text) bad++ })
  const times = sample(runs, () => { if (m.render().text !== text) bad++ })

  const n = QUICK ? 1 : 5
  const toIR = median(sample(n, () => m.tree.toIR()))
  const ir = m.tree.toIR()
  const renderDocMs = median(sample(n, () => renderDoc(ir)))
  const reparse = median(sample(n, () => parseYaml(text)))
  const parsed = parseYaml(text)
  const annotateMs = median(sample(n, () => annotate(parsed, ir, defaultRules))) // it (re)writes ids: repeatable
  const full = bytes === MiB
  report(`crdt: render a ${kib(size)} file`, [
    { figure: `render ${kib(size)} (median)`, value: median(times), unit: 'ms', target: full ? { op: '<=', value: 100 } : undefined, note: `${full ? '' : 'target is for 1 MiB; '}p90 ${pct(times, 90).toFixed(1)} ms, min ${Math.min(...times).toFixed(1)}, first (cold JIT) ${coldMs.toFixed(1)}` },
    { figure: '  tree.toIR (Y.Map → IR)', value: toIR, unit: 'ms' },
    { figure: '  renderDoc (IR → text)', value: renderDocMs, unit: 'ms' },
    { figure: '  parseYaml of the output (base for next edit)', value: reparse, unit: 'ms' },
    { figure: '  annotate (node ids onto the parse)', value: annotateMs, unit: 'ms' },
    { figure: 'enrollment update (FileModel.enrollment)', value: enrollMs, unit: 'ms', note: `${kib(update.length)} Yjs update` },
    { figure: 'load the enrollment into a fresh doc', value: loadMs, unit: 'ms' },
  ], { sanity: bad ? `${bad} render(s) differed from the file` : 'every render was byte-identical to the file' })
})
