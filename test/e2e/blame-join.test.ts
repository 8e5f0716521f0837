/**
 * Blame on a clone that joins a space after others edited (issue 16 tester): it takes in the whole file as
 * one change, named after every peer whose edits it held (`b, a` on every field) or after no one (`?`).
 * Each field names the peer who set it, from the CRDT's authorship; a field whose author is not known says
 * so in words. Through the built CLI, with three daemons.
 */
import { afterAll, afterEach, describe, expect, it } from 'vitest'
import path from 'node:path'
import {
  clone, ctx, ctxJson, edit, expectOk, freePort, git, killAll, removeTmpDirs, setupSpace, SMALL_TODOS, startWatch, stopWatch, TODOS,
  waitChange, waitFor, waitLog, waitSame, writeText, type Peer,
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
    // Untouched since the space began: its writer (the commit's author: the enrolled text is git's), or said in words.
    for (const f of fields) {
      expect(f.authors.length === 1 || (f.authors.length === 0 && f.note === 'set before this clone joined'), JSON.stringify(f)).toBe(true)
    }
    const plain = (await expectOk(ctx(c.dir, ['blame', TODOS]))).stdout
    expect(plain).not.toMatch(/\s\?\s/)
    expect((await expectOk(ctx(c.dir, ['history']))).stdout).not.toMatch(/\s\?\s/)

    // b changes its title again and a undoes that change: b's value is back, still b's on c, whose version
    // of it (the joined file) named everyone (it named a, the undoer: black-box tester stop 30, finding 9).
    await edit(b, '"Second task, by b"', '"Second task, by b again"')
    await waitSame([a, b, c], TODOS, (t) => t.includes('by b again'))
    const again = await waitChange(a, (ch) => ch.fields?.some((f: any) => f.path === 'todos[id=t2].title' && /by b again/.test(f.after ?? '')), "b's second change on a")
    await expectOk(ctx(a.dir, ['undo', again.id]))
    await waitSame([a, b, c], TODOS, (t) => t === text)
    await waitChange(c, (ch) => ch.via === 'undo', 'the undo on c')
    for (const p of [a, b, c]) {
      const t2 = (await ctxJson(p.dir, ['blame', TODOS, '--json'])).fields.find((f: any) => f.path === 'todos[id=t2].title')
      expect({ peer: p.name, by: t2.authors.map((x: any) => x.name) }).toEqual({ peer: p.name, by: ['b'] })
    }
    await Promise.all([stopWatch(da), stopWatch(db), stopWatch(dc)])
  })

  // A file new to the space that git brought (dan committed it; he runs no ctxsync): each member enrolls
  // the same committed text, and each wrote itself in as its creator, so blame named whichever member's
  // entry won (issue 16). The commit's author wrote it.
  it("a committed file two members enroll is blamed on the commit's author, not on either member", async () => {
    const { peers } = await setupSpace(['a', 'b'], { files: { [TODOS]: SMALL_TODOS } })
    const [a, b] = peers as [Peer, Peer]
    let [da, db] = [await startWatch(a), await startWatch(b)]
    await waitLog(db, /connected to a/)
    await waitFor(async () => !(await ctxJson(b.dir, ['status'])).joining, 15_000, 'b to finish its join')
    await Promise.all([stopWatch(da), stopWatch(db)])
    await writeText(path.join(a.dir, DECISIONS), DECISIONS_TEXT)
    await git(a.dir, ['add', DECISIONS])
    await git(a.dir, ['-c', 'user.name=dan', '-c', 'user.email=dan@example.invalid', 'commit', '-qm', 'decisions'])
    await git(b.dir, ['pull', '-q'])
    const blamedOn = async (p: Peer, when: string) => {
      let fields: any[] = []
      await waitFor(async () => {
        fields = (await ctxJson(p.dir, ['blame', DECISIONS, '--json'])).fields
        return fields.length > 0 && fields.every((f) => f.via !== 'unrecorded')
      }, 15_000, `${p.name} to record ${DECISIONS}`)
      for (const f of fields) expect(f.authors.map((x: any) => x.name), `${p.name} ${when}: ${JSON.stringify(f)}`).toEqual(['dan'])
    }
    // Each enrolls it on its own first (a sync that reaches nobody takes the files in), then they meet.
    const nobody = `ws://127.0.0.1:${await freePort()}`
    for (const p of [a, b]) {
      expect((await ctx(p.dir, ['sync', '--peer', nobody, '--timeout', '5'])).exitCode).toBe(3)
      await blamedOn(p, 'alone')
    }
    ;[da, db] = [await startWatch(a), await startWatch(b)]
    await waitLog(db, /connected to a/)
    await waitSame([a, b], DECISIONS, (t) => t === DECISIONS_TEXT)
    for (const p of [a, b]) await blamedOn(p, 'after meeting')
    await Promise.all([stopWatch(da), stopWatch(db)])
  })
})

const DECISIONS = '.rhema/decisions.yaml'
const DECISIONS_TEXT = `decisions:
  - id: d1
    title: "Use YAML"
    status: accepted
  - id: d2
    title: "Sync with a CRDT"
    status: proposed
`
