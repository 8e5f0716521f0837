/**
 * The per-document worker (space/worker.ts): turns run one at a time in the order asked, write-backs
 * asked for while one waits are joined into one, a turn's meta changes are written once at its end, and
 * `untilIdle` names the documents still busy instead of giving up silently. In memory (MemoryDocStore).
 */
import { describe, expect, test } from 'vitest'
import { ioCounts } from '../../src/fs/atomic.js'
import { defaultRules } from '../../src/crdt/rules.js'
import { MemoryDocStore } from '../../src/fs/memoryStore.js'
import { asDocName, sha256hex } from '../../src/ids.js'
import { DocWorker, untilIdle } from '../../src/space/worker.js'

const NAME = asDocName('.rhema/todos.yaml')
const TEXT = 'todos:\n  - id: t1\n    title: one\n'

function worker(store = new MemoryDocStore()): DocWorker {
  return new DocWorker(NAME, {
    author: { id: 'p1', name: 'a', kind: 'human' },
    rules: defaultRules,
    store,
    announce: () => {},
    onStoreError: (e) => {
      throw e
    },
    onStoreRecovered: () => {},
  })
}

describe('DocWorker', () => {
  test('turns run one at a time, in the order asked', async () => {
    const w = worker()
    const log: string[] = []
    const turn = (name: string, ms: number) => w.run(async () => {
      log.push(`start ${name}`)
      await new Promise((r) => setTimeout(r, ms))
      log.push(`end ${name}`)
    })
    await Promise.all([turn('a', 20), turn('b', 0), turn('c', 5)])
    expect(log).toEqual(['start a', 'end a', 'start b', 'end b', 'start c', 'end c'])
    expect(w.idle).toBe(true)
  })

  test('write-backs asked for while one waits are one turn', async () => {
    const w = worker()
    let runs = 0
    const wb = () => w.writeBack(async () => void runs++)
    const block = w.run(() => new Promise((r) => setTimeout(r, 20)))
    const ps = [wb(), wb(), wb()]
    expect(w.idle).toBe(false)
    await Promise.all([block, ...ps])
    expect(runs).toBe(1)
    // One asked for after that one started is a new turn.
    await wb()
    expect(runs).toBe(2)
  })

  test("a turn's meta changes are written once, at its end", async () => {
    const store = new MemoryDocStore()
    const w = worker(store)
    w.model.enroll(TEXT)
    const before = ioCounts.metaWrites
    await w.run(async () => {
      w.file.sawOnDisk(sha256hex(TEXT))
      w.file.tookIn()
      w.file.finishedWrite()
      w.file.noteSeen(sha256hex(TEXT))
      w.file.noteSeen(sha256hex('other'))
    })
    await w.close()
    expect(ioCounts.metaWrites - before).toBe(1)
    expect((await store.load(NAME))!.meta).toMatchObject({ baseHash: sha256hex(TEXT) })
  })

  test('a write that must precede the next step is written at once, in order with the updates', async () => {
    const store = new MemoryDocStore()
    const w = worker(store)
    w.model.enroll(TEXT)
    w.file.sawOnDisk(sha256hex(TEXT))
    await w.persist(w.file.keepBaseBeforeRemote())
    expect((await store.load(NAME))!.meta).toMatchObject({ baseText: TEXT })
    await w.close()
  })

  test('untilIdle names the documents that stay busy', async () => {
    const w = worker()
    let stop = false
    // A document that keeps getting work (a peer streaming updates) never becomes idle within the bound.
    const again = (): Promise<void> => w.run(async () => {
      if (!stop) void again()
    })
    void again()
    expect(await untilIdle(() => [w])).toEqual([NAME])
    stop = true
    expect(await untilIdle(() => [w])).toEqual([])
  })
})
