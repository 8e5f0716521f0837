/**
 * Issue 13 item 1 through the built CLI: turning a one-line value into a block scalar (every header) keeps
 * the lines just typed, on a clone alone with its daemon and across two live daemons — from each source the
 * issue names: a quoted value (with and without a comment), a plain one and an empty `key:`. What a lone
 * daemon took in is checked twice: its own file after it stops, and the file a peer receives from it later.
 */
import { afterAll, afterEach, describe, expect, it } from 'vitest'
import { edit, fileState, killAll, readFile, removeTmpDirs, setupSpace, SMALL_TODOS, startWatch, stopWatch, TODOS, waitFileEquals, waitFor, waitLog } from './helpers.js'

afterEach(killAll)
afterAll(removeTmpDirs)

const HEADERS = ['|', '>', '|-', '>-']

/** SMALL_TODOS with an empty `notes:` on t3, the other source of the loss. */
const WITH_NOTES = SMALL_TODOS.replace('    title: "Third task"\n', '    title: "Third task"\n    notes:\n')
/** One save per source kind of the issue (quoted with a comment, quoted, plain, empty), each header once. */
const FROM_EACH: Array<[string, string]> = [
  ['    title: "First task"   # inline comment', '    title: |\n      was quoted, with a comment\n      and a second line'],
  ['    title: "Second task"', '    title: >\n      was quoted\n      and a second line'],
  ['    status: open\n  - id: t3', '    status: |-\n      was plain\n      and a second line\n  - id: t3'],
  ['    notes:\n', '    notes: >-\n      was empty\n      and a second line\n'],
]

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

  it('alone with its daemon, from a quoted, a plain and an empty value: every save kept, in the file and in what a later peer gets', async () => {
    // b exists but runs nothing while a edits: a is a clone alone with its daemon.
    const { peers } = await setupSpace(['a', 'b'], { files: { [TODOS]: WITH_NOTES } })
    const [a, b] = peers as [typeof peers[0], typeof peers[0]]
    const d = await startWatch(a)
    let want = ''
    for (const [from, to] of FROM_EACH) {
      want = await edit(a, from, to)
      await waitFor(async () => (await fileState(a)).state === 'pending', 15_000, `a took in ${JSON.stringify(to)}`)
      expect(readFile(a)).toBe(want)
    }
    // Stopping saves everything taken in; the file is still what was saved last.
    expect(await stopWatch(d)).toBe(0)
    expect(readFile(a)).toBe(want)
    // What a's model took in is what b receives: every typed line, byte for byte, and a's file unchanged.
    const [da, db] = [await startWatch(a), await startWatch(b)]
    await waitLog(db, /connected to a/)
    await waitFileEquals(b, want)
    expect(readFile(a)).toBe(want)
    await Promise.all([stopWatch(da), stopWatch(db)])
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

  it('two daemons, from a quoted, a plain and an empty value, saved on alternate sides: byte for byte on both', async () => {
    const { peers } = await setupSpace(['a', 'b'], { files: { [TODOS]: WITH_NOTES } })
    const [a, b] = peers as [typeof peers[0], typeof peers[0]]
    const [da, db] = [await startWatch(a), await startWatch(b)]
    await waitLog(da, /connected to b/)
    await waitLog(db, /connected to a/)
    for (const [i, [from, to]] of FROM_EACH.entries()) {
      const [writer, other] = i % 2 === 0 ? [b, a] : [a, b]
      const want = await edit(writer, from, to)
      await waitFileEquals(other, want)
      expect(readFile(writer)).toBe(want)
    }
    await Promise.all([stopWatch(da), stopWatch(db)])
  })
})
