/**
 * Prints the fs layer's figures (not asserted; DEVELOPERS.md keeps speed out of assertions): append
 * latency, compaction and load speed, snapshot compression ratio, and enumeration/resume cost at 1,000 files.
 */
import fs from 'node:fs/promises'
import path from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import * as Y from 'yjs'
import { asDocName } from '../../src/ids.js'
import { DEFAULT_INCLUDE, listTracked } from '../../src/fs/globs.js'
import { FileDocStore, fileKey } from '../../src/fs/sidecar.js'
import { Watcher } from '../../src/fs/watcher.js'
import { prng, removeTmpDirs, tmpDir } from './helpers.js'

afterAll(removeTmpDirs)

const DOC = asDocName('.rhema/todos.yaml')
const ms = (t0: number): number => performance.now() - t0
const pct = (xs: number[], p: number): string => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor(p * xs.length))]!.toFixed(2)

/** A Rhema-like todos document built by many small edits, as a live session would produce it. */
function sampleDoc(items: number, edits: number): { doc: Y.Doc; updates: Uint8Array[] } {
  const rand = prng(42)
  const words = 'sync peer file yaml merge conflict watcher sidecar snapshot relay token scope rule agent commit'.split(' ')
  const phrase = (n: number): string => Array.from({ length: n }, () => words[Math.floor(rand() * words.length)]).join(' ')
  const doc = new Y.Doc()
  const updates: Uint8Array[] = []
  doc.on('update', (u: Uint8Array) => updates.push(u))
  const todos = doc.getMap('root').set('todos', new Y.Array<Y.Map<unknown>>())
  for (let i = 0; i < items; i++) {
    const m = new Y.Map<unknown>()
    m.set('id', `TODO-${1000 + i}`)
    m.set('title', new Y.Text(phrase(6)))
    m.set('description', new Y.Text(phrase(25)))
    m.set('status', 'todo')
    m.set('priority', ['low', 'medium', 'high'][i % 3])
    m.set('created_at', new Date(1_700_000_000_000 + i * 3_600_000).toISOString())
    todos.push([m])
  }
  for (let i = 0; i < edits; i++) {
    const m = todos.get(Math.floor(rand() * items))
    if (rand() < 0.4) m.set('status', ['todo', 'in_progress', 'done'][Math.floor(rand() * 3)])
    else {
      const t = m.get('description') as Y.Text
      t.insert(Math.floor(rand() * t.length), ` ${phrase(2)}`)
    }
  }
  return { doc, updates }
}

describe('fs figures', () => {
  it('sidecar: append latency, compaction, load and snapshot ratio', async () => {
    const dir = path.join(await tmpDir(), 'docs')
    const store = new FileDocStore({ dir })
    const { doc, updates } = sampleDoc(300, 3000)
    const lat: number[] = []
    for (const u of updates.slice(0, 1000)) {
      const t0 = performance.now()
      await store.append(DOC, u)
      lat.push(ms(t0))
    }
    const avgUpdate = updates.slice(0, 1000).reduce((a, u) => a + u.length, 0) / 1000
    console.log(`append (write + fdatasync), ${avgUpdate.toFixed(0)}-byte updates, one at a time: p50 ${pct(lat, 0.5)} ms, p90 ${pct(lat, 0.9)} ms, p99 ${pct(lat, 0.99)} ms`)
    let t0 = performance.now()
    await Promise.all(updates.slice(1000, 2000).map((u) => store.append(DOC, u)))
    console.log(`append, 1000 issued at once (serialised per doc): ${(1000 / (ms(t0) / 1000)).toFixed(0)} appends/s`)

    const state = Y.encodeStateAsUpdate(doc)
    const todos = (doc.getMap('root').toJSON() as { todos: Record<string, string>[] }).todos
    const baseText = 'todos:\n' + todos.map((t) => Object.entries(t).map(([k, v], i) => `${i ? '   ' : '  -'} ${k}: ${JSON.stringify(v)}\n`).join('')).join('')
    for (const codec of ['brotli', 'deflate', 'none'] as const) {
      const s = new FileDocStore({ dir: path.join(dir, codec), codec })
      const times: number[] = []
      for (let i = 0; i < 5; i++) {
        t0 = performance.now()
        await s.compact(DOC, state, { baseHash: 'f'.repeat(64) })
        times.push(ms(t0))
      }
      const snapBytes = (await fs.stat(path.join(dir, codec, `${fileKey(DOC)}.snap`))).size
      await s.compact(DOC, state, { baseHash: 'f'.repeat(64), baseText })
      const withText = (await fs.stat(path.join(dir, codec, `${fileKey(DOC)}.snap`))).size
      const loads: number[] = []
      for (let i = 0; i < 5; i++) {
        t0 = performance.now()
        await s.load(DOC)
        loads.push(ms(t0))
      }
      console.log(`compact [${codec}] ${(state.length / 1024).toFixed(0)} KiB Yjs state: median ${pct(times, 0.5)} ms ` +
        `(${(state.length / 1048576 / (Number(pct(times, 0.5)) / 1000)).toFixed(0)} MB/s incl. 2 fsyncs + renames); snapshot ` +
        `${(snapBytes / 1024).toFixed(1)} KiB = ${(snapBytes / state.length).toFixed(3)} of raw; with ${(baseText.length / 1024).toFixed(0)} KiB ` +
        `baseText ${(withText / (state.length + baseText.length)).toFixed(3)}; load median ${pct(loads, 0.5)} ms`)
      await s.close()
    }
    const full = await store.load(DOC)
    console.log(`log of 2000 single-edit updates: ${(full!.bytes / 1024).toFixed(0)} KiB on disk (the whole doc after 3300 edits merges to ${(state.length / 1024).toFixed(0)} KiB)`)
    await store.close()
    expect(full!.updates).toHaveLength(2000)
  })

  it('enumeration and watcher resume at 1,000 tracked files', async () => {
    const root = await tmpDir()
    await Promise.all(Array.from({ length: 100 }, async (_, d) => {
      const dir = path.join(root, `pkg${d}`, '.rhema')
      await fs.mkdir(dir, { recursive: true })
      await fs.mkdir(path.join(root, `pkg${d}`, 'src', 'lib'), { recursive: true })
      for (let f = 0; f < 10; f++) await fs.writeFile(path.join(dir, `f${f}.yaml`), `k: ${d}-${f}\n`.repeat(50))
      for (let f = 0; f < 10; f++) await fs.writeFile(path.join(root, `pkg${d}`, 'src', 'lib', `m${f}.ts`), 'x')
    }))
    await fs.mkdir(path.join(root, 'node_modules', 'big', 'deep'), { recursive: true })
    let t0 = performance.now()
    const listing = await listTracked(root, DEFAULT_INCLUDE)
    console.log(`listTracked: ${listing.files.length} tracked among ~2,000 files in 400 dirs: ${ms(t0).toFixed(1)} ms`)
    expect(listing.files).toHaveLength(1000)
    t0 = performance.now()
    const w = new Watcher({ root, include: DEFAULT_INCLUDE })
    await w.ready()
    const ready = ms(t0)
    let n = 0
    w.on('file', () => n++)
    w.pause()
    t0 = performance.now()
    await w.resume()
    console.log(`watcher: ready in ${ready.toFixed(0)} ms; resume re-check of 1,000 files (${n} file events): ${ms(t0).toFixed(0)} ms`)
    await w.close()
    expect(n).toBe(1000)
  }, 20_000)
})
