/**
 * The stale-save story through the built CLI (issue 13 item 3), two clones with daemons: A's editor holds
 * the file; B adds a todo, A's daemon writes it into A's file; A's editor saves its old text (with an own
 * edit) anyway. B's todo stays on both, A's edit lands on both, A's daemon says what it kept. Then the
 * person on A, seeing the todo back, deletes it again: that goes through on both.
 */
import { afterAll, afterEach, describe, expect, it } from 'vitest'
import { connectedPair, ctx, ctxJson, expectOk, killAll, readFile, removeTmpDirs, SMALL_TODOS, stopWatch, TODOS, waitFor, waitLog, waitSame, writeFile } from './helpers.js'
import type { StatusData } from '../../src/space/statusdata.js'

afterEach(killAll)
afterAll(removeTmpDirs)

const B_TODO = '  - id: b-new\n    title: "Added on B"\n    status: open\n'

describe('e2e: stale editor save', { timeout: 120_000 }, () => {
  it('a save made from the text before a peer’s addition keeps the addition on both; saving the removal again removes it', async () => {
    const { a, b, da, db } = await connectedPair({ [TODOS]: SMALL_TODOS })
    const buffer = readFile(a)! // A's editor reads the file
    await writeFile(b, TODOS, readFile(b)! + B_TODO)
    await waitSame([a, b], TODOS, (t) => t.includes('b-new'), 30_000)

    // A's editor writes its old buffer, with its own edit: made before b-new arrived.
    const mine = buffer.replace('title: "Second task"', 'title: "Second task, edited on A"')
    await writeFile(a, TODOS, mine)
    const text = await waitSame([a, b], TODOS, (t) => t.includes('edited on A') && t.includes('b-new'), 30_000)
    expect(text).toBe(mine + B_TODO)
    await waitLog(da, /\.rhema\/todos\.yaml: your save was made from an older version; kept 1 change from peers/)

    // Seen back, deleted again on purpose: gone on both.
    await writeFile(a, TODOS, mine)
    const after = await waitSame([a, b], TODOS, (t) => !t.includes('b-new'), 30_000)
    expect(after).toBe(mine)
    await Promise.all([stopWatch(da), stopWatch(db)])
  })

  // Black-box tester finding 3: a buffer read before more than the 8 texts the ring keeps was diffed
  // against a newer text, and read as undoing what bob did between (crdt/recentolder.ts).
  it('a buffer read before 12 of a peer’s edits, saved with one change: all 12 kept on both, the change in', async () => {
    const tasks = 'todos:\n' + Array.from({ length: 14 }, (_, i) => `  - id: t${i + 1}\n    title: "Task ${i + 1}"\n    status: open\n`).join('')
    const { a, b, da, db } = await connectedPair({ [TODOS]: tasks })
    const buffer = readFile(a)!
    for (let i = 1; i <= 12; i++) {
      // One at a time: each is a write into ann's file (a text of her file's history), as a person's edits are.
      await writeFile(b, TODOS, readFile(b)!.replace(`title: "Task ${i}"`, `title: "Task ${i} by bob"`))
      await waitSame([a, b], TODOS, (t) => t.includes(`Task ${i} by bob`), 30_000)
    }
    await writeFile(a, TODOS, buffer.replace('title: "Task 14"', 'title: "Task 14 by ann"'))
    const text = await waitSame([a, b], TODOS, (t) => t.includes('Task 14 by ann'), 30_000)
    let want = tasks.replace('title: "Task 14"', 'title: "Task 14 by ann"')
    for (let i = 1; i <= 12; i++) want = want.replace(`title: "Task ${i}"`, `title: "Task ${i} by bob"`)
    expect(text).toBe(want)
    // Finding 8 (stop 30): bob's 12 titles, which ann's buffer simply lacked, are counted, not each named.
    await waitLog(da, /\.rhema\/todos\.yaml: your save was made from an older version; kept \d+ changes? from peers; 12 values peers changed since the version your save was made from stay theirs/)
    expect(da.log()).not.toMatch(/stays Task/)

    // Finding 7 (stop 30): the old copy written back unchanged takes bob's 12 back (and ann's own change), said
    // plainly with how to bring them back; that command brings them back on both.
    await writeFile(a, TODOS, buffer)
    await waitSame([a, b], TODOS, (t) => t === buffer, 30_000)
    await waitLog(da, /\.rhema\/todos\.yaml: your save is exactly the file as it was before at least the peers' last \d+ writes, taken in as an undo of 12 values the peers changed since: todos\[t1\]\.title back to "Task 1" from "Task 1 by bob", .*, and 7 more\. If it was an old copy written back, `ctxsync undo --file \.rhema\/todos\.yaml` brings them back/)
    // Said in `status` too (a person runs `status`, not `tail log`), until the undo.
    const notice = async () => (await ctxJson<StatusData>(a.dir, ['status'])).files.find((f) => f.path === TODOS)?.lastSave?.message
    expect(await notice()).toMatch(/^your save is exactly the file as it was .* taken in as an undo of 12 values the peers changed since.*`ctxsync undo --file \.rhema\/todos\.yaml` brings them back$/)
    expect((await expectOk(ctx(a.dir, ['status']))).stdout).toMatch(/last save \(.*\): your save is exactly the file/)
    await expectOk(ctx(a.dir, ['undo', '--file', TODOS]))
    expect(await waitSame([a, b], TODOS, (t) => t === want, 30_000)).toBe(want)
    await waitFor(async () => (await notice()) === undefined, 30_000, 'the notice ended by the undo')
    await Promise.all([stopWatch(da), stopWatch(db)])
  })

  // Black-box tester finding 1: a fresh save putting an earlier value back, with another change, reads like a
  // stale buffer (the peer's value is kept); the daemon says which value it kept, and setting it again works.
  it('a save that puts todo back over a peer’s done, with a retitle: done kept and said; todo set again reaches both', async () => {
    const v0 = '# Todos\ntodos:\n  - id: T-1\n    title: Set up CI\n    status: todo   # owner: ann\n  - id: T-2\n    title: Write docs\n    status: todo\n'
    const { a, b, da, db } = await connectedPair({ [TODOS]: v0 })
    await writeFile(b, TODOS, v0.replace('status: todo   #', 'status: done   #'))
    const v1 = await waitSame([a, b], TODOS, (t) => t.includes('status: done'), 30_000)
    await writeFile(a, TODOS, v1.replace('status: done   #', 'status: todo   #').replace('Write docs', 'Write the docs'))
    const merged = await waitSame([a, b], TODOS, (t) => t.includes('Write the docs'), 30_000)
    expect(merged).toBe(v1.replace('Write docs', 'Write the docs'))
    await waitLog(da, /\.rhema\/todos\.yaml: your save was made from an older version; kept 1 change from peers; todos\[T-1\]\.status stays done \(a peer's\), your save had todo: set it again if you meant it/)
    await writeFile(a, TODOS, merged.replace('status: done   #', 'status: todo   #'))
    const cur = v0.replace('Write docs', 'Write the docs')
    expect(await waitSame([a, b], TODOS, (t) => t.includes('status: todo   #'), 30_000)).toBe(cur)

    // Finding 1 (stop 30): ann saves S1 (an item T-B), then S2 (T-B gone, a note on T-2); bob changes the note;
    // ann's editor undoes back to S1 and adds T-C. Read as an edit of her own S2 (not a stale S1 with her S2
    // kept over it as a peer's): T-B back, T-C in, bob's note kept, on both.
    const s1 = cur + '  - id: T-B\n    title: Beta\n'
    await writeFile(a, TODOS, s1)
    await waitSame([a, b], TODOS, (t) => t.includes('T-B'), 30_000)
    await writeFile(a, TODOS, cur.replace('    status: todo\n', '    status: todo\n    note: x\n'))
    await waitSame([a, b], TODOS, (t) => t.includes('note: x') && !t.includes('T-B'), 30_000)
    await writeFile(b, TODOS, readFile(b)!.replace('note: x', 'note: y'))
    await waitSame([a, b], TODOS, (t) => t.includes('note: y'), 30_000)
    await writeFile(a, TODOS, s1 + '  - id: T-C\n    title: Gamma\n')
    const undone = await waitSame([a, b], TODOS, (t) => t.includes('T-C'), 30_000)
    expect(undone).toBe(cur.replace('    status: todo\n', '    status: todo\n    note: y\n') + '  - id: T-B\n    title: Beta\n  - id: T-C\n    title: Gamma\n')
    await waitLog(da, /your save was made from an older version; read as an edit of your own later save/)

    // (Finding 5 of stop 31, two editors of the file on ann's machine, is open again: test/crdt/own-editors.test.ts.)
    await Promise.all([stopWatch(da), stopWatch(db)])
  })
})
