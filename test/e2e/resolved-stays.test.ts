/**
 * A resolved conflict stays resolved across git (black-box tester, stop 25, findings 2 and 3b): a commit made
 * before a resolution and merged afterwards (pull, merge) holds history the live context already superseded.
 * It must neither bring back what the resolution removed nor open the conflict again, on any peer.
 */
import { afterAll, afterEach, describe, expect, it } from 'vitest'
import { ctx, ctxJson, freePort, killAll, removeTmpDirs, startWatch, stopWatch, TODOS, waitChange, waitFor, waitLog, type Daemon, type Peer } from './helpers.js'
import { cloneAs, gitIn, joiner, read, replaceIn, twoLivePeers } from './gitHelpers.js'

afterEach(killAll)
afterAll(removeTmpDirs)

const logs = (ds: Daemon[]) => ds.map((d) => `--- ${d.peer.name}:\n${d.log()}`).join('\n')
const listed = async (p: Peer): Promise<any[]> => (await ctxJson(p.dir, ['resolve', '--list'])).conflicts.filter((c: any) => c.file === TODOS)

describe('e2e: a resolved conflict stays resolved across git', { timeout: 240_000 }, () => {
  it.each([['pull', false], ['commit, then pull (a merge commit)', true]] as const)('a deletion kept by resolve survives a %s of a commit made before it that still had the item', async (_what, commitFirst) => {
    const { a, b, da, db: db0 } = await twoLivePeers()
    let db = db0
    try {
      // bob, apart, deletes t2; ann edits its title and commits that (before any resolution) and pushes.
      expect(await stopWatch(db)).toBe(0)
      await replaceIn(b.dir, TODOS, '  - id: t2\n    title: "Fix the renderer"\n    status: open\n    tags: [render]\n', '')
      await replaceIn(a.dir, TODOS, 'title: "Fix the renderer"', 'title: "Fix the renderer, ann"')
      await waitChange(a, (ch) => ch.fields.some((f: any) => f.path === 'todos[id=t2].title'), 'ann took her edit in')
      await gitIn(a.dir, ['commit', '-qam', 'ann: t2 title'])
      await gitIn(a.dir, ['push', '-q', 'origin', 'main'])
      db = await startWatch(b)
      let c: any
      await waitFor(async () => ((c = (await listed(b)).find((x) => x.kind === 'delete')) !== undefined), 20_000, 'the delete conflict on bob')
      const take = c.values.findIndex((v: any) => v.author.name === 'bob') + 1
      expect(take, JSON.stringify(c)).toBeGreaterThan(0)
      const r = await ctx(b.dir, ['resolve', c.id, '--take', String(take)])
      expect(r.exitCode, r.stdout + r.stderr).toBe(0)
      for (const p of [a, b]) {
        await waitFor(async () => !(await read(p.dir, TODOS)).includes('id: t2'), 15_000, `t2 gone on ${p.name}`)
        await waitFor(async () => (await listed(p)).length === 0, 15_000, `no conflict on ${p.name}`)
      }
      // bob (after committing the resolution, or not) pulls ann's commit, made before it: it still has t2 (ann's title).
      if (commitFirst) await gitIn(b.dir, ['commit', '-qam', 'bob: the resolution'])
      const p = await gitIn(b.dir, ['pull', '--no-rebase'], { reject: false })
      expect(p.exitCode, p.stdout + p.stderr).toBe(0)
      await waitFor(async () => (await ctx(b.dir, ['sync'])).exitCode === 0, 15_000, 'bob synced')
      // The deletion stays on both; no conflict anywhere.
      const marker = 'title: "Write the parser, after"'
      await replaceIn(a.dir, TODOS, 'title: "Write the parser"', marker)
      for (const q of [a, b]) await waitFor(async () => (await read(q.dir, TODOS)).includes(marker), 15_000, `${q.name} has the later edit`)
      for (const q of [a, b]) {
        expect(await read(q.dir, TODOS), q.name).not.toContain('id: t2')
        expect(await listed(q), `${q.name}: ${JSON.stringify(await listed(q))}\n${p.stdout}${p.stderr}`).toEqual([])
      }
    } catch (e) {
      throw new Error(`${(e as Error).message}\n${logs([da, db])}`)
    }
    expect(await stopWatch(da)).toBe(0)
    expect(await stopWatch(db)).toBe(0)
  })

  it('a value chosen by resolve survives a pull of a commit made before it with the other value: no conflict again, anywhere', async () => {
    const { a, b, da, db: db0 } = await twoLivePeers()
    let db = db0
    try {
      // bob, apart, and ann change t2's title; ann commits hers (before any resolution) and pushes.
      expect(await stopWatch(db)).toBe(0)
      await replaceIn(b.dir, TODOS, 'title: "Fix the renderer"', 'title: "Fix the renderer, bob"')
      await replaceIn(a.dir, TODOS, 'title: "Fix the renderer"', 'title: "Fix the renderer, ann"')
      await waitChange(a, (ch) => ch.fields.some((f: any) => f.path === 'todos[id=t2].title'), 'ann took her edit in')
      await gitIn(a.dir, ['commit', '-qam', 'ann: t2 title'])
      await gitIn(a.dir, ['push', '-q', 'origin', 'main'])
      db = await startWatch(b)
      let c: any
      await waitFor(async () => ((c = (await listed(b)).find((x) => x.display === 'todos[id=t2].title')) !== undefined), 20_000, 'the title conflict on bob')
      const take = c.values.findIndex((v: any) => v.raw.includes('bob')) + 1
      expect(take, JSON.stringify(c)).toBeGreaterThan(0)
      const r = await ctx(b.dir, ['resolve', c.id, '--take', String(take)])
      expect(r.exitCode, r.stdout + r.stderr).toBe(0)
      for (const p of [a, b]) {
        await waitFor(async () => (await read(p.dir, TODOS)).includes('Fix the renderer, bob'), 15_000, `bob's title on ${p.name}`)
        await waitFor(async () => (await listed(p)).length === 0, 15_000, `no conflict on ${p.name}`)
      }
      const p = await gitIn(b.dir, ['pull', '--no-rebase'], { reject: false })
      expect(p.exitCode, p.stdout + p.stderr).toBe(0)
      await waitFor(async () => (await ctx(b.dir, ['sync'])).exitCode === 0, 15_000, 'bob synced')
      const marker = 'title: "Write the parser, after"'
      await replaceIn(a.dir, TODOS, 'title: "Write the parser"', marker)
      for (const q of [a, b]) await waitFor(async () => (await read(q.dir, TODOS)).includes(marker), 15_000, `${q.name} has the later edit`)
      for (const q of [a, b]) {
        expect(await read(q.dir, TODOS), q.name).toContain('title: "Fix the renderer, bob"')
        expect(await listed(q), `${q.name}: ${JSON.stringify(await listed(q))}\n${p.stdout}${p.stderr}`).toEqual([])
      }
      // The kept value is still bob's, on both (not the puller's, not the stash's).
      for (const q of [a, b]) {
        const bl = await ctx(q.dir, ['blame', TODOS])
        const line = bl.stdout.split('\n').find((l) => l.includes('Fix the renderer, bob')) ?? ''
        expect(line, `${q.name}: ${bl.stdout}${bl.stderr}`).toMatch(/bob/)
      }
    } catch (e) {
      throw new Error(`${(e as Error).message}\n${logs([da, db])}`)
    }
    expect(await stopWatch(da)).toBe(0)
    expect(await stopWatch(db)).toBe(0)
  })

  it('a third peer that pulls a commit made before a resolution and commits: the conflict stays resolved on every peer, the value its writer\'s', async () => {
    const { a, b, da, db: db0, remote, code } = await twoLivePeers()
    const port = await freePort()
    const c: Peer = { name: 'cat', dir: await joiner(remote, 'cat', code, port, { peers: [a.url] }), port, url: `ws://127.0.0.1:${port}` }
    await gitIn(c.dir, ['pull', '-q'])
    const dc = await startWatch(c)
    let db = db0
    try {
      await waitLog(dc, /connected to ann/)
      expect(await stopWatch(db)).toBe(0)
      await replaceIn(b.dir, TODOS, 'title: "Fix the renderer"', 'title: "Fix the renderer, bob"')
      await replaceIn(a.dir, TODOS, 'title: "Fix the renderer"', 'title: "Fix the renderer, ann"')
      await waitChange(a, (ch) => ch.fields.some((f: any) => f.path === 'todos[id=t2].title'), 'ann took her edit in')
      await gitIn(a.dir, ['commit', '-qam', 'ann: t2 title'])
      await gitIn(a.dir, ['push', '-q', 'origin', 'main'])
      db = await startWatch(b)
      let k: any
      await waitFor(async () => ((k = (await listed(b)).find((x) => x.display === 'todos[id=t2].title')) !== undefined), 20_000, 'the title conflict on bob')
      const r = await ctx(b.dir, ['resolve', k.id, '--take', String(k.values.findIndex((v: any) => v.raw.includes('bob')) + 1)])
      expect(r.exitCode, r.stdout + r.stderr).toBe(0)
      for (const p of [a, b, c]) {
        await waitFor(async () => (await read(p.dir, TODOS)).includes('Fix the renderer, bob'), 15_000, `bob's title on ${p.name}`)
        await waitFor(async () => (await listed(p)).length === 0, 15_000, `no conflict on ${p.name}`)
      }
      // cat installs the hooks again, pulls ann's commit (made before the resolution) and commits.
      const from = dc.log().length
      await ctx(c.dir, ['hooks', 'install'])
      const p = await gitIn(c.dir, ['pull', '--no-rebase'], { reject: false })
      expect(p.exitCode, p.stdout + p.stderr).toBe(0)
      await gitIn(c.dir, ['commit', '-qam', 'cat: after the pull'], { reject: false })
      const marker = 'title: "Write the parser, after"'
      await replaceIn(c.dir, TODOS, 'title: "Write the parser"', marker)
      for (const q of [a, b, c]) await waitFor(async () => (await read(q.dir, TODOS)).includes(marker), 15_000, `${q.name} has the later edit`)
      for (const q of [a, b, c]) {
        expect(await read(q.dir, TODOS), q.name).toContain('title: "Fix the renderer, bob"')
        expect(await listed(q), `${q.name}: ${JSON.stringify(await listed(q))}\n${p.stdout}${p.stderr}`).toEqual([])
        const bl = await ctx(q.dir, ['blame', TODOS])
        const line = bl.stdout.split('\n').find((l) => l.includes('Fix the renderer, bob')) ?? ''
        expect(line, `${q.name}: ${bl.stdout}${bl.stderr}`).toMatch(/bob/)
      }
      expect(dc.log().slice(from)).not.toMatch(/conflict in/)
    } catch (e) {
      throw new Error(`${(e as Error).message}\n${logs([da, db, dc])}`)
    }
  })

  it('a deletion kept by resolve survives a pull of a merge commit made before it with a teammate\'s change no CRDT saw', async () => {
    const { a, b, da: da0, db: db0, remote } = await twoLivePeers()
    let [da, db] = [da0, db0]
    try {
      expect(await stopWatch(db)).toBe(0)
      await replaceIn(b.dir, TODOS, '  - id: t2\n    title: "Fix the renderer"\n    status: open\n    tags: [render]\n', '')
      await replaceIn(a.dir, TODOS, 'title: "Fix the renderer"', 'title: "Fix the renderer, ann"')
      await waitChange(a, (ch) => ch.fields.some((f: any) => f.path === 'todos[id=t2].title'), 'ann took her edit in')
      await gitIn(a.dir, ['commit', '-qam', 'ann: t2 title'])
      db = await startWatch(b)
      let c: any
      await waitFor(async () => ((c = (await listed(b)).find((x) => x.kind === 'delete')) !== undefined), 20_000, 'the delete conflict on bob')
      const r = await ctx(b.dir, ['resolve', c.id, '--take', String(c.values.findIndex((v: any) => v.author.name === 'bob') + 1)])
      expect(r.exitCode, r.stdout + r.stderr).toBe(0)
      for (const p of [a, b]) {
        await waitFor(async () => !(await read(p.dir, TODOS)).includes('id: t2'), 15_000, `t2 gone on ${p.name}`)
        await waitFor(async () => (await listed(p)).length === 0, 15_000, `no conflict on ${p.name}`)
      }
      // carl, without ctxsync, changes t3; ann (her daemon stopped) merges it into her commit made before the
      // resolution and pushes the merge commit: no CRDT has seen its text.
      const carl = await cloneAs(remote, 'carl')
      await replaceIn(carl, TODOS, 'title: "Ship it"', 'title: "Ship it, carl"')
      await gitIn(carl, ['commit', '-qam', 'carl: t3'])
      await gitIn(carl, ['push', '-q', 'origin', 'main'])
      expect(await stopWatch(da)).toBe(0)
      await gitIn(a.dir, ['stash', '-q'])
      const m = await gitIn(a.dir, ['pull', '--no-rebase', '--no-edit'], { reject: false })
      expect(m.exitCode, m.stdout + m.stderr).toBe(0)
      await gitIn(a.dir, ['push', '-q', 'origin', 'main'])
      await gitIn(a.dir, ['stash', 'pop', '-q'], { reject: false })
      const p = await gitIn(b.dir, ['pull', '--no-rebase'], { reject: false })
      expect(p.exitCode, p.stdout + p.stderr).toBe(0)
      da = await startWatch(a)
      const marker = 'title: "Write the parser, after"'
      await replaceIn(a.dir, TODOS, 'title: "Write the parser"', marker)
      for (const q of [a, b]) await waitFor(async () => (await read(q.dir, TODOS)).includes(marker), 15_000, `${q.name} has the later edit`)
      for (const q of [a, b]) {
        const t = await read(q.dir, TODOS)
        expect(t, q.name).toContain('Ship it, carl')
        expect(t, q.name).not.toContain('id: t2')
        expect(await listed(q), `${q.name}: ${JSON.stringify(await listed(q))}\n${p.stdout}${p.stderr}`).toEqual([])
      }
    } catch (e) {
      throw new Error(`${(e as Error).message}\n${logs([da, db])}`)
    }
  })
})
