/**
 * Blame on a clone that joins a space after others edited (issue 16 tester): it takes in the whole file as
 * one change, named after every peer whose edits it held (`b, a` on every field) or after no one (`?`).
 * Each field names the peer who set it, from the CRDT's authorship; a field whose author is not known says
 * so in words. Through the built CLI, with three daemons.
 */
import { afterAll, afterEach, describe, expect, it } from 'vitest'
import {
  clone, ctx, ctxJson, edit, expectOk, freePort, killAll, removeTmpDirs, setupSpace, SMALL_TODOS, startWatch, stopWatch, TODOS,
  waitFor, waitLog, waitSame, type Peer,
} from './helpers.js'

afterEach(killAll)
afterAll(removeTmpDirs)

describe('e2e: blame on a joining clone', { timeout: 180_000 }, () => {
  it('names who set each field before the clone joined, and never prints ?', async () => {
    const { peers, code } = await setupSpace(['a', 'b'], { files: { [TODOS]: SMALL_TODOS } })
    const [a, b] = peers as [Peer, Peer]
    const da = await startWatch(a)
    const db = await startWatch(b)
    await waitLog(da, /connected to b/)
    await edit(a, '"First task"', '"First task, by a"')
    await waitSame([a, b], TODOS, (t) => t.includes('by a'))
    await edit(b, '"Second task"', '"Second task, by b"')
    const text = await waitSame([a, b], TODOS, (t) => t.includes('by b'))

    const port = await freePort()
    const c: Peer = { name: 'c', dir: await clone(a.dir, 'c'), port, url: `ws://127.0.0.1:${port}` }
    await expectOk(ctx(c.dir, ['init', '--join', code, '--name', 'c', '--port', String(port), '--peer', a.url]))
    const dc = await startWatch(c)
    await waitSame([a, c], TODOS, (t) => t === text)
    let fields: any[] = []
    await waitFor(async () => {
      fields = (await ctxJson(c.dir, ['blame', TODOS, '--json'])).fields
      return fields.every((f) => f.via !== 'unrecorded')
    }, 15_000, 'c to record the joined file')
    const of = (p: string) => fields.find((f) => f.path === p)
    expect(of('todos[id=t1].title').authors.map((x: any) => x.name)).toEqual(['a'])
    expect(of('todos[id=t2].title').authors.map((x: any) => x.name)).toEqual(['b'])
    // Untouched since the space began: its enroller, or said in words.
    for (const f of fields) {
      expect(f.authors.length === 1 || (f.authors.length === 0 && f.note === 'set before this clone joined'), JSON.stringify(f)).toBe(true)
    }
    const plain = (await expectOk(ctx(c.dir, ['blame', TODOS]))).stdout
    expect(plain).not.toMatch(/\s\?\s/)
    expect((await expectOk(ctx(c.dir, ['history']))).stdout).not.toMatch(/\s\?\s/)
    await Promise.all([stopWatch(da), stopWatch(db), stopWatch(dc)])
  })
})
