/**
 * An undo brings values back with their writers (issue 16, black-box tester): bob truncates a file and undoes
 * it; the restored fields were blamed on bob — the undoer — on ann, with the truncation's time, while bob's own
 * blame named ann: the peers disagreed. Every field must name the same writer on both peers as before.
 */
import { afterAll, afterEach, describe, expect, it } from 'vitest'
import {
  connectedPair, ctx, ctxJson, edit, expectOk, killAll, readFile, removeTmpDirs, SMALL_TODOS, TODOS, waitChange, waitFileEquals, waitFor,
  writeFile, type Peer,
} from './helpers.js'

afterEach(killAll)
afterAll(removeTmpDirs)

type Line = { path: string; authors: { name: string }[] }
const blameNames = async (p: Peer): Promise<Record<string, string>> => {
  const out: Record<string, string> = {}
  for (const l of (await ctxJson(p.dir, ['blame', TODOS])).fields as Line[]) out[l.path] = l.authors.map((a) => a.name).join(',')
  return out
}

describe('e2e: blame after an undo', { timeout: 120_000 }, () => {
  it('a truncation undone by the other peer: each field keeps its writer, the same on both peers', async () => {
    const { a, b } = await connectedPair({ [TODOS]: SMALL_TODOS })
    const text = await edit(a, '"First task"', '"First task by a"')
    await waitFileEquals(b, text)
    await waitChange(b, (c) => c.fields.some((f: any) => f.path === 'todos[id=t1].title'), 'a\'s edit')
    const before = await blameNames(a)
    expect(before['todos[id=t1].title']).toBe('a')
    await waitFor(async () => JSON.stringify(await blameNames(b)) === JSON.stringify(before), 15_000, 'b\'s blame as a\'s', async () => JSON.stringify(await blameNames(b)))

    await writeFile(b, TODOS, '')
    await waitFileEquals(a, '')
    await waitChange(b, (c) => c.via === 'local' && c.fields.some((f: any) => f.kind === 'removed'), 'the truncation')
    await expectOk(ctx(b.dir, ['undo']))
    await waitFileEquals(a, text)
    expect(readFile(b)).toBe(text)
    await waitChange(a, (c) => c.fields.some((f: any) => f.kind === 'added'), 'the undo on a')
    await waitChange(b, (c) => c.via === 'undo', 'the undo on b')
    expect(await blameNames(b)).toEqual(before)
    expect(await blameNames(a)).toEqual(before)

    // b's value taken back by a's `restore --to HEAD`, then brought back by a's undo of it: b's, not a's.
    const withB = await edit(b, '"Third task"', '"Third task (b)"')
    await waitFileEquals(a, withB)
    await waitChange(a, (c) => c.fields.some((f: any) => f.after === '"Third task (b)"'), 'b\'s edit on a')
    await ctxJson(a.dir, ['restore', TODOS, '--to', 'HEAD', '--json'])
    await waitFileEquals(b, SMALL_TODOS)
    await waitChange(a, (c) => c.via === 'restore', 'the restore')
    await waitChange(b, (c) => c.fields.some((f: any) => f.before === '"Third task (b)"'), 'the restore on b')
    await expectOk(ctx(a.dir, ['undo']))
    await waitFileEquals(b, withB)
    await waitChange(a, (c) => c.via === 'undo', 'the undo of the restore')
    await waitChange(b, (c) => c.fields.some((f: any) => f.after === '"Third task (b)"' && f.before === '"Third task"'), 'the undo on b')
    expect((await blameNames(a))['todos[id=t3].title']).toBe('b')
    // On b too, which only received a's undo: b's value, recorded as an undo (issue 16: b blamed a).
    await waitChange(b, (c) => c.via === 'undo' && c.authors.map((x: any) => x.name).join() === 'a', 'a\'s undo recorded as an undo on b')
    expect((await blameNames(b))['todos[id=t3].title']).toBe('b')
  })
})
