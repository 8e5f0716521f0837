/**
 * Issue 3 benchmark: merging 5,000 offline edits from a peer. Peer B, offline, saves 5,000 single-field
 * edits of the todos file (each through the real path: `FileModel.ingest`); peer A, which holds the file as
 * enrolled, then receives what it lacks as one update — what the sync protocol sends (SyncStep2:
 * `encodeStateAsUpdate(B, stateVector(A))`) — applies it (`applyRemote`) and renders the file.
 *
 * The file is the 10 KB Rhema todos fixture (the live-sync file of issue 2) unless `--kb N` asks for a
 * generated one. Also shown: applying the same edits as 5,000 separate live updates, then one render.
 *
 *   node bench/crdt-merge.mjs [--quick] [--edits N] [--runs N] [--kb N] [--per-save N]
 *     --per-save N: B saves after every N field edits (default 1). With a big file (`--kb 1024`) one ingest
 *     costs seconds, so 5,000 saves would take hours: `--kb 1024 --per-save 50` makes the same 5,000 field
 *     writes in 100 saves.
 */
import fs from 'node:fs'
import * as Y from 'yjs'
import { FileModel } from '../dist/crdt/model.js'
import { DOC, FieldEditor, QUICK, TODOS_10K, arg, author, kib, median, mulberry32, report, run, timed, todosFileOfSize } from './lib.mjs'

run(async () => {
  const edits = Number(arg('edits', QUICK ? 300 : 5000))
  const runs = Number(arg('runs', QUICK ? 3 : 7))
  const perSave = Number(arg('per-save', 1))
  const text = arg('kb') ? todosFileOfSize(Number(arg('kb')) * 1024).text : fs.readFileSync(TODOS_10K, 'utf8')
  console.log(`crdt-merge: ${kib(Buffer.byteLength(text))} todos file, ${edits} offline single-field edits on B${perSave > 1 ? ` (saved every ${perSave})` : ''}, merged into A ${runs}×`)

  const enrollment = FileModel.enrollment(DOC, text)
  const receiver = (i) => {
    const m = new FileModel({ name: DOC, author: author(`a${i}`) })
    m.load([enrollment])
    m.setBase(m.render())
    return m
  }

  const b = new FileModel({ name: DOC, author: author('b') })
  b.load([enrollment])
  b.setBase(b.render())
  const svBefore = Y.encodeStateVector(b.doc)
  const live = []
  b.doc.on('update', (u) => live.push(u))
  const ed = new FieldEditor(text)
  const rng = mulberry32(11)
  let cur = text
  const [genMs] = timed(() => {
    for (let i = 0; i < edits; i++) {
      cur = ed.edit(cur, Math.floor(rng() * ed.count))
      if ((i + 1) % perSave === 0 || i === edits - 1) b.ingest(cur)
    }
  })
  const diff = Y.encodeStateAsUpdate(b.doc, svBefore)

  let wrong = 0
  const applyMs = []
  const renderMs = []
  const totalMs = []
  for (let r = 0; r < runs; r++) {
    const a = receiver(r)
    const t0 = performance.now()
    a.applyRemote(diff, 'p-benchb')
    const t1 = performance.now()
    const out = a.render()
    const t2 = performance.now()
    if (out.text !== cur) wrong++
    applyMs.push(t1 - t0)
    renderMs.push(t2 - t1)
    totalMs.push(t2 - t0)
    a.destroy()
  }

  const a = receiver('live')
  const [streamApply] = timed(() => { for (const u of live) a.applyRemote(u, 'p-benchb') })
  const [streamRender, streamed] = timed(() => a.render())
  if (streamed.text !== cur) wrong++
  const liveBytes = live.reduce((n, u) => n + u.length, 0)
  const ok = edits === 5000
  report(`crdt: merge ${edits} offline edits from a peer`, [
    { figure: `apply ${edits} edits as one update + render (median)`, value: median(totalMs), unit: 'ms', target: ok ? { op: '<=', value: 300 } : undefined, note: ok ? `max ${Math.max(...totalMs).toFixed(1)} ms` : 'target is for 5,000 edits' },
    { figure: '  applyRemote of the diff', value: median(applyMs), unit: 'ms', note: `${kib(diff.length)} update` },
    { figure: '  render after it', value: median(renderMs), unit: 'ms' },
    { figure: `same edits as ${live.length} live updates, applied one by one`, value: streamApply, unit: 'ms', note: `${kib(liveBytes)} in all` },
    { figure: '  then one render', value: streamRender, unit: 'ms' },
    { figure: `B: ${Math.ceil(edits / perSave)} ingests to make the edits (per ingest)`, value: genMs / Math.ceil(edits / perSave), unit: 'ms', digits: 2, note: 'context: FileModel.ingest on this file' },
  ], { sanity: wrong ? `${wrong} merge(s) did not render B's file` : "every merge rendered exactly B's file" })
})
