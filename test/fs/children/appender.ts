/**
 * Child process for the crash tests: loads a doc from a FileDocStore, then keeps pushing integers to a Yjs
 * array, appending each update and compacting now and then, and prints `acked <n>` after each append has
 * resolved. The parent kills it with SIGKILL at a random moment. stdout is a pipe, which Node writes
 * synchronously on Linux, so every printed ack has reached the parent's pipe before the kill.
 *
 * argv: dir doc compactEvery batch
 */
import * as Y from 'yjs'
import { asDocName } from '../../../src/ids.js'
import { FileDocStore } from '../../../src/fs/sidecar.js'

const [dir, name, compactEveryArg, batchArg] = process.argv.slice(2)
const doc = asDocName(name!)
const compactEvery = Number(compactEveryArg)
const batch = Number(batchArg)
const store = new FileDocStore({ dir: dir! })
const ydoc = new Y.Doc()
const loaded = await store.load(doc)
for (const u of loaded?.updates ?? []) Y.applyUpdate(ydoc, u)
const arr = ydoc.getArray<number>('n')
let next = arr.length
process.stdout.write(`start ${next}\n`)
let sinceCompact = 0
for (;;) {
  const pending: Promise<void>[] = []
  for (let i = 0; i < batch; i++) {
    const value = next++
    const sv = Y.encodeStateVector(ydoc)
    arr.push([value])
    const update = Y.encodeStateAsUpdate(ydoc, sv)
    pending.push(store.append(doc, update).then(() => { process.stdout.write(`acked ${value}\n`) }))
  }
  await Promise.all(pending)
  if (++sinceCompact >= compactEvery) {
    sinceCompact = 0
    await store.compact(doc, Y.encodeStateAsUpdate(ydoc), { count: next })
    process.stdout.write(`compacted ${next}\n`)
  } else if (next % 7 === 0) {
    await store.writeMeta(doc, { count: next }, { durable: next % 2 === 0 })
  }
}
