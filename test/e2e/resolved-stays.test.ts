/**
 * A resolved conflict stays resolved across git (black-box tester, stop 25, findings 2 and 3b): a commit made
 * before a resolution and merged afterwards (pull, merge) holds history the live context already superseded.
 * It must neither bring back what the resolution removed nor open the conflict again, on any peer.
 */
import fsp from 'node:fs/promises'
import path from 'node:path'
import { afterAll, afterEach, describe, expect, it } from 'vitest'
import { ctx, ctxJson, freePort, killAll, removeTmpDirs, startWatch, stopWatch, TODOS, waitChange, waitFor, waitLog, type Daemon, type Peer } from './helpers.js'
import { cloneAs, gitIn, joiner, read, replaceIn, twoLivePeers } from './gitHelpers.js'

afterEach(killAll)
afterAll(removeTmpDirs)

const logs = (ds: Daemon[]) => ds.map((d) => `--- ${d.peer.name}:\n${d.log()}`).join('\n')
const listed = async (p: Peer): Promise<any[]> => (await ctxJson(p.dir, ['resolve', '--list'])).conflicts.filter((c: any) => c.file === TODOS)

const T2 = '  - id: t2\n    title: "Fix the renderer"\n    status: open\n    tags: [render]\n'
const BOB_TITLE = 'title: "Fix the renderer, bob"'

/**
 * The conflict every test starts from: bob, apart (his daemon stopped), deletes t2 or retitles it; ann
 * retitles it and commits that (pushed when `push`), before any resolution. bob's daemon starts again and he
 * resolves, keeping his side; every peer in `peers` then shows it with no conflict listed. Bob's new daemon.
 */
async function resolvedApart(a: Peer, b: Peer, db: Daemon, o: { bob: 'delete' | 'retitle'; push: boolean; peers: Peer[] }): Promise<Daemon> {
  expect(await stopWatch(db)).toBe(0)
  await (o.bob === 'delete' ? replaceIn(b.dir, TODOS, T2, '') : replaceIn(b.dir, TODOS, 'title: "Fix the renderer"', BOB_TITLE))
  await replaceIn(a.dir, TODOS, 'title: "Fix the renderer"', 'title: "Fix the renderer, ann"')
  await waitChange(a, (ch) => ch.fields.some((f: any) => f.path === 'todos[id=t2].title'), 'ann took her edit in')
  await gitIn(a.dir, ['commit', '-qam', 'ann: t2 title'])
  if (o.push) await gitIn(a.dir, ['push', '-q', 'origin', 'main'])
  const started = await startWatch(b)
  const mine = o.bob === 'delete' ? (c: any) => c.kind === 'delete' : (c: any) => c.display === 'todos[id=t2].title'
  let c: any
  await waitFor(async () => ((c = (await listed(b)).find(mine)) !== undefined), 20_000, `the ${o.bob === 'delete' ? 'delete' : 'title'} conflict on bob`)
  const take = c.values.findIndex((v: any) => (o.bob === 'delete' ? v.author.name === 'bob' : v.raw.includes('bob'))) + 1
  expect(take, JSON.stringify(c)).toBeGreaterThan(0)
  const r = await ctx(b.dir, ['resolve', c.id, '--take', String(take)])
  expect(r.exitCode, r.stdout + r.stderr).toBe(0)
  for (const p of o.peers) {
    if (o.bob === 'delete') await waitFor(async () => !(await read(p.dir, TODOS)).includes('id: t2'), 15_000, `t2 gone on ${p.name}`)
    else await waitFor(async () => (await read(p.dir, TODOS)).includes('Fix the renderer, bob'), 15_000, `bob's title on ${p.name}`)
    await waitFor(async () => (await listed(p)).length === 0, 15_000, `no conflict on ${p.name}`)
  }
  return started
}

/** A later edit on `from` reaches every peer: whatever the pull did has been taken in everywhere by then. */
async function laterEdit(from: Peer, peers: Peer[]): Promise<void> {
  const marker = 'title: "Write the parser, after"'
  await replaceIn(from.dir, TODOS, 'title: "Write the parser"', marker)
  for (const q of peers) await waitFor(async () => (await read(q.dir, TODOS)).includes(marker), 15_000, `${q.name} has the later edit`)
}

describe('e2e: a resolved conflict stays resolved across git', { timeout: 240_000 }, () => {
  it.each([['pull', false], ['commit, then pull (a merge commit)', true]] as const)('a deletion kept by resolve survives a %s of a commit made before it that still had the item', async (_what, commitFirst) => {
    const { a, b, da, db: db0 } = await twoLivePeers()
    let db = db0
    try {
      db = await resolvedApart(a, b, db, { bob: 'delete', push: true, peers: [a, b] })
      // bob (after committing the resolution, or not) pulls ann's commit, made before it: it still has t2 (ann's title).
      if (commitFirst) await gitIn(b.dir, ['commit', '-qam', 'bob: the resolution'])
      const p = await gitIn(b.dir, ['pull', '--no-rebase'], { reject: false })
      expect(p.exitCode, p.stdout + p.stderr).toBe(0)
      await waitFor(async () => (await ctx(b.dir, ['sync'])).exitCode === 0, 15_000, 'bob synced')
      // The deletion stays on both; no conflict anywhere.
      await laterEdit(a, [a, b])
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
      db = await resolvedApart(a, b, db, { bob: 'retitle', push: true, peers: [a, b] })
      const p = await gitIn(b.dir, ['pull', '--no-rebase'], { reject: false })
      expect(p.exitCode, p.stdout + p.stderr).toBe(0)
      await waitFor(async () => (await ctx(b.dir, ['sync'])).exitCode === 0, 15_000, 'bob synced')
      await laterEdit(a, [a, b])
      for (const q of [a, b]) {
        expect(await read(q.dir, TODOS), q.name).toContain(BOB_TITLE)
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
      db = await resolvedApart(a, b, db, { bob: 'retitle', push: true, peers: [a, b, c] })
      // cat installs the hooks again, pulls ann's commit (made before the resolution) and commits.
      const from = dc.log().length
      await ctx(c.dir, ['hooks', 'install'])
      const p = await gitIn(c.dir, ['pull', '--no-rebase'], { reject: false })
      expect(p.exitCode, p.stdout + p.stderr).toBe(0)
      await gitIn(c.dir, ['commit', '-qam', 'cat: after the pull'], { reject: false })
      await laterEdit(c, [a, b, c])
      for (const q of [a, b, c]) {
        expect(await read(q.dir, TODOS), q.name).toContain(BOB_TITLE)
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

  // Black-box tester, stop 29, finding 4: gus (plain git) retitles t2 and pushes; bob deletes it live, pulls
  // (the autostash's pop lists the conflict) and keeps the deletion; ann commits the live context, bob edits on,
  // and ann pulls gus's commit: ann's commit and gus's are both versions her live context holds, their merge
  // kept gus's edit and the autostash's pop put the later edit over it — t2 came back on every peer, unrecorded.
  // Its variant with a value: the conflict opened again on every peer ("gus and you changed it").
  // bob resolves at once, as the tester did, and his daemon waits a longer quiet period after git (1.5 s), so
  // that the resolve comes before his daemon has taken in what the pull wrote. Resolved then by the CLI's write
  // of the file alone, gus's version never reached the live context and was marked known nowhere: ann's later
  // merge brought t2 back (before the fix, stop 30: 6 of 7 runs at load 10-19, and every idle run) or listed
  // the value again (6 of 10). `resolve` now waits for the daemon's take-in (commands/resolve.ts).
  // With bob's daemon stopped over the pull and the resolve (started again after it), the same: the record
  // resolved in the file was removed, gus's version known nowhere (both forms failed every run before the
  // record was kept, all done, until the daemon's next take-in marks its sides: mergestore.ts markDone).
  // CI runs the two diagonal cases of the 2×2 (deletion or value × daemon running or not: each factor both ways,
  // ~15 CPU-seconds less, stop 33); CTXSYNC_E2E_FULL=1 runs all four.
  const matrix = [['deletion', '', 'delete'], ['value', ' with no daemon running', 'retitle'], ['value', '', 'retitle'], ['deletion', ' with no daemon running', 'delete']] as const
  it.each(process.env.CTXSYNC_E2E_FULL ? matrix : matrix.slice(0, 2))('a %s kept by resolve%s survives a pull that merges the live context\'s commit with the older edit, over a later edit', async (_what, apart, bob) => {
    const { a, b, da, db: db0, remote } = await twoLivePeers()
    expect(await stopWatch(db0)).toBe(0)
    let db = await startWatch(b, [], { CTXSYNC_GIT_QUIET_MS: '1500' })
    await waitLog(db, /connected to ann/)
    const kept = async (q: Peer) => (bob === 'delete' ? !(await read(q.dir, TODOS)).includes('id: t2') : (await read(q.dir, TODOS)).includes(BOB_TITLE))
    try {
      const gus = await cloneAs(remote, 'gus')
      await replaceIn(gus, TODOS, 'title: "Fix the renderer"', 'title: "Fix the renderer, gus"')
      await gitIn(gus, ['commit', '-qam', 'gus: t2'])
      await gitIn(gus, ['push', '-q', 'origin', 'main'])
      await (bob === 'delete' ? replaceIn(b.dir, TODOS, T2, '') : replaceIn(b.dir, TODOS, 'title: "Fix the renderer"', BOB_TITLE))
      for (const q of [a, b]) await waitFor(() => kept(q), 15_000, `bob's ${bob} on ${q.name}`)
      if (apart) expect(await stopWatch(db)).toBe(0)
      const pb = await gitIn(b.dir, ['pull', '--no-rebase', '--no-edit'], { reject: false })
      expect(pb.exitCode, pb.stdout + pb.stderr).toBe(0)
      const mine = bob === 'delete' ? (c: any) => c.kind === 'delete' : (c: any) => c.display === 'todos[id=t2].title'
      let c: any
      await waitFor(async () => ((c = (await listed(b)).find(mine)) !== undefined), 20_000, 'the conflict on bob')
      const take = c.values.findIndex((v: any) => (bob === 'delete' ? v.author.name === 'bob' : v.raw.includes('bob'))) + 1
      expect(take, JSON.stringify(c)).toBeGreaterThan(0)
      const r = await ctx(b.dir, ['resolve', c.id, '--take', String(take)])
      expect(r.exitCode, r.stdout + r.stderr).toBe(0)
      if (apart) {
        db = await startWatch(b)
        await waitLog(db, /connected to ann/)
      }
      for (const q of [a, b]) {
        await waitFor(() => kept(q), 15_000, `bob's ${bob} on ${q.name} after the resolve`)
        await waitFor(async () => (await listed(q)).length === 0, 15_000, `no conflict on ${q.name}`)
      }
      await gitIn(a.dir, ['commit', '-qam', 'ann: the live context'])
      await laterEdit(b, [a, b])
      const p = await gitIn(a.dir, ['pull', '--no-rebase', '--no-edit'], { reject: false })
      expect(p.exitCode, p.stdout + p.stderr).toBe(0)
      await waitFor(async () => (await ctx(a.dir, ['sync'])).exitCode === 0, 15_000, 'ann synced')
      const marker = 'title: "Ship it, after"'
      await replaceIn(a.dir, TODOS, 'title: "Ship it"', marker)
      for (const q of [a, b]) await waitFor(async () => (await read(q.dir, TODOS)).includes(marker), 15_000, `${q.name} has the edit after the pull`)
      for (const q of [a, b]) {
        expect(await kept(q), `${q.name}: ${await read(q.dir, TODOS)}`).toBe(true)
        expect(await listed(q), `${q.name}: ${JSON.stringify(await listed(q))}\n${p.stdout}${p.stderr}`).toEqual([])
        expect((await ctx(q.dir, ['status', '--check'])).exitCode, `status --check on ${q.name}`).toBe(0)
      }
      // The merge commit holds the live context's choice too: a teammate who pulls it with plain git gets it.
      const merged = (await gitIn(a.dir, ['show', `HEAD:${TODOS}`])).stdout
      expect(merged, 'the merge commit').not.toContain('gus')
    } catch (e) {
      throw new Error(`${(e as Error).message}\n${logs([da, db])}`)
    }
    expect(await stopWatch(da)).toBe(0)
    expect(await stopWatch(db)).toBe(0)
  })

  // Black-box tester, stop 30, finding 2: `(git pull) & ctxsync resolve ID --take N` at once. The pull fast-forwards
  // over uncommitted live context (autostash) and the resolve reaches bob's daemon before it has taken in what the
  // pull wrote (its quiet period after git, 3 s here). The autostash held the text from before the resolve; its
  // merge with gus's commit was taken in as bob's save made from gus's version, so the stashed value came back over
  // the resolution on every peer ("you changed it at once") and gus's title was credited to bob. The driver now
  // notes what the autostash held (space/mergestash.ts): the file's own last text, so nothing of bob's to take in.
  it('a resolve at the same moment as a fast-forward pull over uncommitted work: the choice stays, the pulled change is its author\'s', async () => {
    const { a, b, da, db: db0, remote } = await twoLivePeers()
    expect(await stopWatch(db0)).toBe(0)
    let db = db0
    try {
      await replaceIn(b.dir, TODOS, 'title: "Fix the renderer"', BOB_TITLE)
      await replaceIn(a.dir, TODOS, 'title: "Fix the renderer"', 'title: "Fix the renderer, ann"')
      await waitChange(a, (ch) => ch.fields.some((f: any) => f.path === 'todos[id=t2].title'), 'ann took her edit in')
      const gus = await cloneAs(remote, 'gus')
      await replaceIn(gus, TODOS, 'title: "Ship it"', 'title: "Ship it, gus"')
      await gitIn(gus, ['commit', '-qam', 'gus: t3'])
      await gitIn(gus, ['push', '-q', 'origin', 'main'])
      db = await startWatch(b, [], { CTXSYNC_GIT_QUIET_MS: '3000' })
      let c: any
      await waitFor(async () => ((c = (await listed(b)).find((x: any) => x.display === 'todos[id=t2].title')) !== undefined), 20_000, 'the title conflict on bob')
      const take = c.winner === 1 ? 2 : 1
      const chosen: string = c.values[take - 1].raw
      const p = await gitIn(b.dir, ['pull', '--no-rebase', '--no-edit'], { reject: false })
      const r = await ctx(b.dir, ['resolve', c.id, '--take', String(take)])
      expect(p.exitCode, p.stdout + p.stderr).toBe(0)
      expect(r.exitCode, r.stdout + r.stderr).toBe(0)
      for (const q of [a, b]) await waitFor(async () => (await read(q.dir, TODOS)).includes('Ship it, gus'), 20_000, `gus's title on ${q.name}`)
      await laterEdit(b, [a, b])
      for (const q of [a, b]) {
        const t = await read(q.dir, TODOS)
        expect(t, q.name).toContain(`title: ${chosen}`)
        expect(t, q.name).toContain('Ship it, gus')
        expect(await listed(q), `${q.name}: ${JSON.stringify(await listed(q))}`).toEqual([])
        const bl = await ctx(q.dir, ['blame', TODOS])
        const line = bl.stdout.split('\n').find((l) => l.includes('Ship it, gus')) ?? ''
        expect(line, `${q.name}: ${bl.stdout}${bl.stderr}`).toMatch(/"\s+gus\b/)
      }
    } catch (e) {
      throw new Error(`${(e as Error).message}\n${logs([da, db])}`)
    }
    expect(await stopWatch(da)).toBe(0)
    expect(await stopWatch(db)).toBe(0)
  })

  // Left open at stop 30: `resolve` of a merge-driver record while `git stash` holds the file's live context waited
  // its 15 s for a take-in that comes only after the pop, then wrote the choice into git's version on disk: the
  // plain `git stash pop` refused over it ("Your local changes … would be overwritten"), the stashed edit stayed in
  // the stash, and the record came back. Now refused at once, saying to pop first.
  it('resolve of a merge record while git stash holds the file: refused at once; the pop works, then the resolve', async () => {
    const { a, b, da, db, remote } = await twoLivePeers()
    try {
      const gus = await cloneAs(remote, 'gus')
      await replaceIn(gus, TODOS, 'title: "Fix the renderer"', 'title: "Fix the renderer, gus"')
      await gitIn(gus, ['commit', '-qam', 'gus: t2'])
      await gitIn(gus, ['push', '-q', 'origin', 'main'])
      await replaceIn(b.dir, TODOS, T2, '')
      for (const q of [a, b]) await waitFor(async () => !(await read(q.dir, TODOS)).includes('id: t2'), 15_000, `t2 gone on ${q.name}`)
      const pb = await gitIn(b.dir, ['pull', '--no-rebase', '--no-edit'], { reject: false })
      expect(pb.exitCode, pb.stdout + pb.stderr).toBe(0)
      let c: any
      await waitFor(async () => ((c = (await listed(b)).find((x: any) => x.kind === 'delete')) !== undefined), 20_000, 'the delete record on bob')
      const take = c.values.findIndex((v: any) => v.author.name === 'bob') + 1
      expect(take, JSON.stringify(c)).toBeGreaterThan(0)
      const marker = 'title: "Ship it, stashed"'
      await replaceIn(b.dir, TODOS, 'title: "Ship it"', marker)
      await waitFor(async () => (await read(a.dir, TODOS)).includes(marker), 15_000, 'bob\'s edit on ann')
      const from = db.log().length
      await gitIn(b.dir, ['stash', '-q'])
      await waitFor(async () => /git stash holds the live context/.test(db.log().slice(from)), 15_000, 'the stash hold')
      const r = await ctx(b.dir, ['resolve', c.id, '--take', String(take)])
      expect(r.exitCode, r.stdout + r.stderr).toBe(1)
      expect(r.stderr).toContain('`git stash pop` first')
      const pop = await gitIn(b.dir, ['stash', 'pop'], { reject: false })
      expect(pop.exitCode, pop.stdout + pop.stderr).toBe(0)
      const r2 = await ctx(b.dir, ['resolve', c.id, '--take', String(take)])
      expect(r2.exitCode, r2.stdout + r2.stderr).toBe(0)
      for (const q of [a, b]) {
        await waitFor(async () => { const t = await read(q.dir, TODOS); return !t.includes('id: t2') && t.includes(marker) }, 15_000, `the deletion and the stashed edit on ${q.name}`)
        await waitFor(async () => (await listed(q)).length === 0, 15_000, `no conflict on ${q.name}`)
      }
    } catch (e) {
      throw new Error(`${(e as Error).message}\n${logs([da, db])}`)
    }
    expect(await stopWatch(da)).toBe(0)
    expect(await stopWatch(db)).toBe(0)
  })

  // Finding 4's variant: the item was deleted live after a peer committed it, and the puller's HEAD never had it.
  // The fast-forward's autostash pop merged the stashed live text over the commit that still had it: both
  // versions the live context held, but neither its present, and the pop's text was read as an edit adding it.
  it('an item deleted live stays deleted when a fast-forward pull brings a commit that still had it over uncommitted work', async () => {
    const { a, b, da, db } = await twoLivePeers()
    try {
      const T5 = '  - id: t5\n    title: "Five"\n    status: open\n'
      const t = await read(b.dir, TODOS)
      await fsp.writeFile(path.join(b.dir, TODOS), t + T5)
      for (const q of [a, b]) await waitFor(async () => (await read(q.dir, TODOS)).includes('id: t5'), 15_000, `t5 on ${q.name}`)
      await gitIn(a.dir, ['commit', '-qam', 'ann: t5'])
      await gitIn(a.dir, ['push', '-q', 'origin', 'main'])
      await replaceIn(a.dir, TODOS, T5, '')
      for (const q of [a, b]) await waitFor(async () => !(await read(q.dir, TODOS)).includes('id: t5'), 15_000, `t5 gone on ${q.name}`)
      await laterEdit(a, [a, b])
      const p = await gitIn(b.dir, ['pull', '--no-rebase', '--no-edit'], { reject: false })
      expect(p.exitCode, p.stdout + p.stderr).toBe(0)
      await waitFor(async () => (await ctx(b.dir, ['sync'])).exitCode === 0, 15_000, 'bob synced')
      const marker = 'title: "Ship it, after"'
      await replaceIn(b.dir, TODOS, 'title: "Ship it"', marker)
      for (const q of [a, b]) await waitFor(async () => (await read(q.dir, TODOS)).includes(marker), 15_000, `${q.name} has the edit after the pull`)
      for (const q of [a, b]) {
        expect(await read(q.dir, TODOS), q.name).not.toContain('id: t5')
        expect(await listed(q), `${q.name}: ${JSON.stringify(await listed(q))}\n${p.stdout}${p.stderr}`).toEqual([])
      }
    } catch (e) {
      throw new Error(`${(e as Error).message}\n${logs([da, db])}`)
    }
    expect(await stopWatch(da)).toBe(0)
    expect(await stopWatch(db)).toBe(0)
  })

  it('a deletion kept by resolve survives a pull of a merge commit made before it with a teammate\'s change no CRDT saw', async () => {
    const { a, b, da: da0, db: db0, remote } = await twoLivePeers()
    let [da, db] = [da0, db0]
    try {
      db = await resolvedApart(a, b, db, { bob: 'delete', push: false, peers: [a, b] })
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
      await laterEdit(a, [a, b])
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
