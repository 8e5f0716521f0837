/**
 * A BOM removed from (or added to) a synced file is an edit like any other (black-box tester finding 9b: its
 * removal was read as a stale save and not taken in).
 */
import { afterAll, afterEach, describe, expect, it } from 'vitest'
import { connectedPair, killAll, readFile, removeTmpDirs, SMALL_TODOS, stopWatch, TODOS, waitSame, writeFile } from './helpers.js'

afterEach(killAll)
afterAll(removeTmpDirs)

describe('e2e: BOM', { timeout: 120_000 }, () => {
  it('removing the BOM, after a peer’s edit was written into the file, reaches the peer; adding it back too', async () => {
    const { a, b, da, db } = await connectedPair({ [TODOS]: '\uFEFF' + SMALL_TODOS })
    await writeFile(b, TODOS, readFile(b)!.replace('title: "Third task"', 'title: "Third task, by bob"'))
    await waitSame([a, b], TODOS, (t) => t.includes('by bob'), 30_000)
    const shown = readFile(a)!
    expect(shown.startsWith('\uFEFF')).toBe(true)
    await writeFile(a, TODOS, shown.slice(1))
    expect(await waitSame([a, b], TODOS, (t) => !t.startsWith('\uFEFF'), 30_000)).toBe(shown.slice(1))
    await writeFile(b, TODOS, '\uFEFF' + readFile(b)!)
    expect(await waitSame([a, b], TODOS, (t) => t.startsWith('\uFEFF'), 30_000)).toBe(shown)
    await Promise.all([stopWatch(da), stopWatch(db)])
  })

  // Finding 9b: ann's buffer is the one her BOM-adding save wrote; bob's change was written in since.
  it('a BOM added by a save, removed by a save of that same buffer after a peer’s change: removed on both, the change kept', async () => {
    const { a, b, da, db } = await connectedPair({ [TODOS]: SMALL_TODOS })
    await writeFile(a, TODOS, '\uFEFF' + SMALL_TODOS)
    await waitSame([a, b], TODOS, (t) => t.startsWith('\uFEFF'), 30_000)
    await writeFile(b, TODOS, readFile(b)!.replace('title: "Third task"', 'title: "Third task, by bob"'))
    await waitSame([a, b], TODOS, (t) => t.includes('by bob'), 30_000)
    const mine = SMALL_TODOS.replace('title: "Second task"', 'title: "Second task, by ann"')
    await writeFile(a, TODOS, mine)
    const text = await waitSame([a, b], TODOS, (t) => t.includes('by ann'), 30_000)
    expect(text).toBe(mine.replace('title: "Third task"', 'title: "Third task, by bob"'))
    await Promise.all([stopWatch(da), stopWatch(db)])
  })
})
