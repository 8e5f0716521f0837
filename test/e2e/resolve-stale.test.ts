/**
 * Stale delete conflicts through the built CLI and two daemons (issue 16 tester): a peer deletes (a whole
 * file, an item) while the other edits it, then the deleting peer brings the content back itself (undo, the
 * item added again under its id). The delete conflict is over — its own later content supersedes the
 * deletion — so it is no longer listed, and `resolve --all --take ours` no longer deletes what came back
 * (it emptied the file on both clones; it deleted the item added after the deletion). While it is listed,
 * the edit side names the peer who edited, not `enrolled from the file`.
 */
import { afterAll, afterEach, describe, expect, it } from 'vitest'
import {
  ctx, ctxJson, edit, explained, expectOk, killAll, readFile, removeTmpDirs, setupSpace, SMALL_TODOS, startWatch, stopWatch, TODOS,
  waitFor, waitLog, waitSame, writeFile, type Daemon, type Peer, waitChange } from './helpers.js'

afterEach(killAll)
afterAll(removeTmpDirs)


const deletes = async (p: Peer) => (await ctxJson(p.dir, ['resolve', '--list'])).conflicts.filter((c: any) => c.kind === 'delete')
const T2 = '  - id: t2\n    title: "Second task"\n    status: open\n'

/** Two peers that synced once, then apart: a's daemon runs, b's is stopped. */
async function apart(): Promise<{ a: Peer; b: Peer; da: Daemon }> {
  const { peers } = await setupSpace(['a', 'b'], { files: { [TODOS]: SMALL_TODOS } })
  const [a, b] = peers as [Peer, Peer]
  const da = await startWatch(a)
  const db = await startWatch(b)
  await waitLog(da, /connected to b/)
  await edit(a, '"First task"', '"First task, a1"')
  await waitSame([a, b], TODOS, (t) => t.includes('a1'))
  expect(await stopWatch(db)).toBe(0)
  return { a, b, da }
}

/** `resolve --all --take ours` on a, then a change from b that a receives after anything the resolve sent. */
async function resolveAllOurs(a: Peer, b: Peer, marker: string): Promise<string> {
  await expectOk(ctx(a.dir, ['resolve', '--all', '--take', 'ours']))
  await edit(b, '"Third task"', `"Third task, ${marker}"`)
  return waitSame([a, b], TODOS, (t) => t.includes(marker))
}

describe('e2e: stale delete conflicts', { timeout: 180_000 }, () => {
  it('a truncation undone by its author is no conflict any more; resolve --all --take ours keeps the file', async () => {
    const { a, b, da } = await apart()
    await writeFile(a, TODOS, '')
    const trunc = await waitChange(a, (c) => c.via === 'local' && c.fields.some((f: any) => f.kind === 'removed'), 'the truncation')
    await edit(b, '    title: "Second task"\n    status: open', '    title: "Second task"\n    status: doing')
    const db = await startWatch(b)
    await explained(waitSame([a, b], TODOS, () => true), [a, b], [da, db])
    await explained((async () => {
      const [c] = await deletes(a)
      expect(c, 'a delete conflict').toBeDefined()
      expect(c.values.map((v: any) => v.author.name)).toEqual(['a', 'b'])
    })(), [a, b], [da, db])

    await expectOk(ctx(a.dir, ['undo', trunc.id]))
    const back = await waitSame([a, b], TODOS, (t) => t.includes('id: t1') && t.includes('id: t3'))
    expect(await deletes(a)).toEqual([])
    expect(await deletes(b)).toEqual([])
    const text = await resolveAllOurs(a, b, 'after')
    expect(text).toBe(back.replace('"Third task"', '"Third task, after"'))
    await Promise.all([stopWatch(da), stopWatch(db)])
  })

  it('an item its deleter adds again under the same id is kept by resolve --all --take ours', async () => {
    const { a, b, da } = await apart()
    await edit(a, T2, '')
    await edit(b, '    title: "Second task"\n    status: open', '    title: "Second task"\n    status: doing')
    const db = await startWatch(b)
    await explained(waitSame([a, b], TODOS, (t) => t.includes('status: doing')), [a, b], [da, db])
    const [c] = await deletes(a)
    expect(c).toMatchObject({ display: 'todos[id=t2]' })
    expect(c.values.map((v: any) => v.author.name)).toEqual(['a', 'b'])

    // a replaces the todo that came back with a new one of the same id: the same item, written by its deleter
    await edit(a, '  - id: t2\n    title: "Second task"\n    status: doing\n', '  - id: t2\n    title: "A new second task"\n    status: new\n')
    await waitSame([a, b], TODOS, (t) => t.includes('A new second task'))
    await waitChange(b, (ch) => ch.fields.some((f: any) => f.path === 'todos[id=t2].title'), 'the new t2 on b')
    expect(await deletes(a)).toEqual([])
    expect(await deletes(b)).toEqual([])
    const text = await resolveAllOurs(a, b, 'after')
    expect(text).toContain('  - id: t2\n    title: "A new second task"\n    status: new\n')
    expect(readFile(b)).toBe(text)
    await Promise.all([stopWatch(da), stopWatch(db)])
  })
})
