/**
 * Issue 13 item 1 through the built CLI: turning a one-line value into a block scalar (every header) keeps
 * the lines just typed, on a clone alone with its daemon and across two live daemons.
 */
import { afterAll, afterEach, describe, expect, it } from 'vitest'
import { edit, fileState, killAll, readFile, removeTmpDirs, setupSpace, SMALL_TODOS, startWatch, stopWatch, TODOS, waitFileEquals, waitFor, waitLog } from './helpers.js'

afterEach(killAll)
afterAll(removeTmpDirs)

const HEADERS = ['|', '>', '|-', '>-']

describe('e2e: a value turned block scalar keeps what was typed', { timeout: 120_000 }, () => {
  it('alone with its daemon: the file stays as saved, taken in (pending: no peer to send it to)', async () => {
    const { peers } = await setupSpace(['a'], { files: { [TODOS]: SMALL_TODOS } })
    const [a] = peers as [typeof peers[0]]
    const d = await startWatch(a)
    let prev = '    title: "First task"   # inline comment'
    for (const h of HEADERS) {
      const next = `    title: ${h}\n      typed on line one (${h})\n      typed on line two`
      const want = await edit(a, prev, next)
      // Taken in once the state leaves `synced` for `pending` (a peerless daemon cannot send it anywhere).
      await waitFor(async () => (await fileState(a)).state === 'pending', 15_000, `a took in ${h}`)
      expect(readFile(a)).toBe(want)
      prev = next
    }
    const last = readFile(a)
    expect(await stopWatch(d)).toBe(0)
    expect(readFile(a)).toBe(last)
    expect(last).toContain('typed on line two')
  })

  it('two daemons: the block scalar arrives byte for byte, and back', async () => {
    const { peers } = await setupSpace(['a', 'b'], { files: { [TODOS]: SMALL_TODOS } })
    const [a, b] = peers as [typeof peers[0], typeof peers[0]]
    const [da, db] = [await startWatch(a), await startWatch(b)]
    await waitLog(da, /connected to b/)
    await waitLog(db, /connected to a/)
    let prev = '    title: "First task"   # inline comment'
    for (const [i, h] of HEADERS.entries()) {
      const [from, to] = i % 2 === 0 ? [a, b] : [b, a]
      const next = `    title: ${h}\n      typed by ${from.name} (${h})\n      and a second line`
      const want = await edit(from, prev, next)
      await waitFileEquals(to, want)
      expect(readFile(from)).toBe(want)
      prev = next
    }
  })
})
