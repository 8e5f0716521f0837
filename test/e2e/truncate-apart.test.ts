/**
 * A truncation on one peer while the other, apart, edits a field (issue 13/16, black-box tester finding 3),
 * through the built CLI with two real daemons: a empties the file (`: > .rhema/todos.yaml`) while b's
 * daemon is down; b then edits a status while a's is down; they meet. Both files show b's edit (the list
 * that holds it; the rest of the file stays removed), identical, with a delete conflict naming both; a's
 * `undo` of the truncation brings the rest back and keeps b's value. Before, neither file showed the edit
 * and the undo wrote the old value over it.
 */
import { afterAll, afterEach, describe, expect, it } from 'vitest'
import {
  ctx, ctxJson, expectOk, killAll, readFile, removeTmpDirs, setupSpace, startWatch, stopWatch, TODOS,
  waitFileEquals, waitFor, waitLog, writeFile, type Peer,
} from './helpers.js'

afterEach(killAll)
afterAll(removeTmpDirs)

const FILE = `# the team's todos
todos:
  - id: t1
    title: "First task"
    status: open
  - id: t2
    title: "Second task"
    status: open
notes:
  owner: ann
`

describe('e2e: a truncation apart from an edit', { timeout: 180_000 }, () => {
  it('both files show the edit, the conflict lets resolve choose, and undo keeps the edit', async () => {
    const { peers } = await setupSpace(['a', 'b'], { files: { [TODOS]: FILE } })
    const [a, b] = peers as [Peer, Peer]
    // Both joined and in step first (a new member's edits wait for its join).
    let da = await startWatch(a)
    let db = await startWatch(b)
    await waitLog(da, /connected to b/)
    await waitLog(db, /connected to a/)
    expect(await stopWatch(db)).toBe(0)
    // a alone: the accidental truncation, taken in once left alone (CUT_SETTLE_MS).
    await writeFile(a, TODOS, '')
    await waitLog(da, /removed 3 of 3 entries|emptied the file \(3 entries removed\)/)
    expect(await stopWatch(da)).toBe(0)
    // b alone: a status edit.
    db = await startWatch(b)
    const edited = FILE.replace('"Second task"\n    status: open', '"Second task"\n    status: doing')
    await writeFile(b, TODOS, edited)
    await waitLog(db, /todos\.yaml: your edit taken in/)
    // They meet: both show the list with b's edit, not the rest (notes stay removed).
    da = await startWatch(a)
    await waitLog(da, /connected to b/)
    const met = 'todos:\n  - id: t1\n    title: "First task"\n    status: open\n  - id: t2\n    title: "Second task"\n    status: doing\n'
    for (const p of [a, b]) await waitFileEquals(p, met)
    // The delete conflict names both sides on both peers; resolve --list offers the truncation and the edit.
    for (const p of [a, b]) {
      await waitFor(async () => (await ctxJson(p.dir, ['status', '--json'])).conflicts >= 1 || false, 15_000, `${p.name}: the delete conflict in status`, async () => JSON.stringify(await ctxJson(p.dir, ['status', '--json'])))
      const list = (await expectOk(ctx(p.dir, ['resolve', '--list']))).stdout
      expect(list).toMatch(/todos/)
      expect(list).toMatch(/deleted.*— a/)
      expect(list).toMatch(/— b/)
    }
    // a's undo of its truncation brings the rest back and keeps b's value (it wrote `status: open` back).
    await expectOk(ctx(a.dir, ['undo']))
    for (const p of [a, b]) await waitFileEquals(p, edited)
    expect(readFile(b)).toContain('status: doing')
    // The truncation undone by its author is no conflict any more: taking the deletion would empty the file again.
    for (const p of [a, b]) await waitFor(async () => ((await ctxJson(p.dir, ['status', '--json'])).conflicts ?? 0) === 0, 15_000, `${p.name}: no conflict after the undo`)
    expect(await stopWatch(da)).toBe(0)
    expect(await stopWatch(db)).toBe(0)
  })
})
