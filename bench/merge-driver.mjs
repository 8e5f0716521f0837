/**
 * Issue 5 benchmark: the merge driver on a 1 MB todos file.
 *
 * Two branches change the same 1 MiB file (ours: 20 field edits and 2 new todos; theirs: 20 other field
 * edits and 2 new todos; both change one title differently — one conflict). Measured:
 *  - `ctxsync merge-driver O A B P` as git runs it: a fresh process, spawn to exit (the target);
 *  - the merge alone in process: `mergeByRegions` (what the driver does: line merge, the CRDT only for
 *    the todos both sides changed) and, for scale, `merge3` on the whole file (the driver's fallback).
 *
 *   node bench/merge-driver.mjs [--quick] [--runs N] [--kb N]
 */
import fs from 'node:fs'
import fsp from 'node:fs/promises'
import path from 'node:path'
import { compileRules } from '../dist/crdt/rules.js'
import { merge3 } from '../dist/crdt/merge/merge3.js'
import { mergeByRegions } from '../dist/crdt/merge/regionmerge.js'
import { DOC, FieldEditor, MiB, QUICK, arg, ctx, kib, median, mulberry32, pct, report, run, sample, tempDir, todosFileOfSize } from './lib.mjs'

run(async () => {
  const runs = Number(arg('runs', QUICK ? 3 : 15))
  const bytes = Number(arg('kb', QUICK ? 256 : 1024)) * 1024
  const { text: base, todos } = todosFileOfSize(bytes)
  const ed = new FieldEditor(base)
  const rng = mulberry32(5)
  const fields = Array.from({ length: 40 }, () => Math.floor(rng() * ed.count))
  let ours = base
  let theirs = base
  for (const k of fields.slice(0, 20)) ours = ed.edit(ours, k)
  for (const k of fields.slice(20)) theirs = ed.edit(theirs, k)
  // A title both sides change differently: one conflict.
  const title = ed.slots.findIndex((x, k) => x.key === 'title' && !fields.includes(k))
  ours = ed.edit(ours, title)
  theirs = ed.edit(theirs, title)
  const add = (t, who) => t + [1, 2].map((n) => `\n  - id: "bench-${who}-${n}"\n    title: "Added on ${who} ${n}"\n    status: "todo"\n`).join('')
  ours = add(ours, 'ours')
  theirs = add(theirs, 'theirs')
  console.log(`merge-driver: ${kib(Buffer.byteLength(base))} todos file (${todos} todos), ${runs} runs`)

  const rules = compileRules(DOC)
  let conflicts = 0
  let markers = false
  const inProcess = []
  for (let i = 0; i <= runs; i++) {
    const t0 = performance.now()
    const r = await mergeByRegions(base, ours, theirs, () => ({ name: DOC, rules }))
    if (i > 0) inProcess.push(performance.now() - t0)
    if (!r) throw new Error('the region merge handed the file back')
    conflicts = r.conflicts.length
    markers = /^<{7}/m.test(r.text)
    for (const x of r.regions) x.model.destroy()
  }
  const whole = sample(QUICK ? 1 : 3, () => merge3(base, ours, theirs, { name: DOC, rules }).model.destroy())

  const dir = await tempDir('merge')
  const files = { O: path.join(dir, 'O'), B: path.join(dir, 'B') }
  await fsp.writeFile(files.O, base)
  await fsp.writeFile(files.B, theirs)
  const proc = []
  for (let i = 0; i < runs + 1; i++) {
    const A = path.join(dir, `A${i}`)
    await fsp.writeFile(A, ours)
    const r = await ctx(['merge-driver', files.O, A, files.B, DOC], { cwd: dir })
    if (i > 0) proc.push(r.ms) // the first run warms the file cache
    if (i === runs) markers ||= /^<{7}/m.test(fs.readFileSync(A, 'utf8'))
  }
  const full = bytes === MiB
  report(`merge driver on a ${kib(Buffer.byteLength(base))} file`, [
    { figure: '`ctxsync merge-driver` process, spawn to exit (median)', value: median(proc), unit: 'ms', target: full ? { op: '<=', value: 300 } : undefined, note: `${full ? '' : 'target is for 1 MiB; '}p90 ${pct(proc, 90).toFixed(0)} ms, max ${Math.max(...proc).toFixed(0)}` },
    { figure: 'region merge in process (median)', value: median(inProcess), unit: 'ms', note: `p90 ${pct(inProcess, 90).toFixed(0)} ms` },
    { figure: 'whole-file CRDT merge (the fallback), median', value: median(whole), unit: 'ms', note: 'used when the region merge hands the file back' },
  ], { result: `${conflicts} conflict(s) recorded, ${markers ? 'MARKERS LEFT' : 'no conflict markers'}` })
})
