/**
 * The merge driver's conflict records beside running daemons (issue 15): a value a teammate committed and the
 * live context changed meet in one clone's `git pull`; the record the driver keeps there reaches the other
 * peer like a conflict the live CRDT found (listed on both, resolved on either, cleared on both), with each
 * value's real author and time — the stashed side's from the live context, not "this peer at the pop". A
 * merge made while no daemon ran is taken over at the daemon's start; a record whose value changed since is
 * dropped with the reason (in the daemon's log, or by `resolve`), never left listed and unresolvable.
 */
import fsp from 'node:fs/promises'
import path from 'node:path'
import { afterAll, afterEach, describe, expect, it } from 'vitest'
import { ctx, ctxJson, freePort, killAll, readFile, removeTmpDirs, startWatch, stopWatch, TODOS, waitFileEquals, waitFor, waitLog, type Daemon, type Peer } from './helpers.js'
import { bareRemote, cloneAs, CONTEXT_TODOS, founder, gitIn, joiner, read, replaceIn, twoLivePeers } from './gitHelpers.js'

afterEach(killAll)
afterAll(removeTmpDirs)

const logs = (ds: Daemon[]) => ds.map((d) => `--- ${d.peer.name}:\n${d.log()}`).join('\n')

interface Listed { id: string; file: string; display: string; winner: number; values: Array<{ raw: string; at: string | null; author: { id: string; name: string } }> }
const listed = async (p: Peer): Promise<Listed[]> => (await ctxJson(p.dir, ['resolve', '--list'])).conflicts.filter((c: Listed) => c.file === TODOS)

/** carl, who runs no ctxsync, commits t1's status (dated `at`) and pushes. */
async function carlCommits(remote: string, status: string, at: string): Promise<void> {
  const c = await cloneAs(remote, `carl-${status}`)
  await fsp.writeFile(path.join(c, TODOS), (await read(c, TODOS)).replace(/status: \w+\n {4}tags: \[core/, `status: ${status}\n    tags: [core`))
  await gitIn(c, ['commit', '-qam', `t1 ${status}`], { env: { GIT_AUTHOR_NAME: 'carl', GIT_AUTHOR_EMAIL: 'carl@example.invalid', GIT_AUTHOR_DATE: at } })
  await gitIn(c, ['push', '-q', 'origin', 'HEAD:main'])
}

/** Both peers list the same one conflict on t1's status (the merge record, moved into the live context). */
async function listedOnBoth(a: Peer, b: Peer, raws: string[]): Promise<Listed> {
  let seen: Listed[][] = []
  await waitFor(async () => {
    seen = [await listed(a), await listed(b)]
    return seen.every((l) => l.length === 1 && l[0]!.values.map((v) => v.raw).sort().join() === [...raws].sort().join()) && seen[0]![0]!.id === seen[1]![0]!.id
  }, 20_000, `the merge conflict listed on both peers`, () => JSON.stringify(seen, null, 1))
  return seen[0]![0]!
}

describe('e2e: merge-driver conflicts reach the peers', { timeout: 240_000 }, () => {
  it('git pull over live context: the record is listed on both peers with real authors; resolve on either clears it on both', async () => {
    const { remote, a, b, da, db } = await twoLivePeers()
    try {
      for (const [round, [carl, live, resolver]] of ([['done', 'blocked', b], ['waiting', 'started', a]] as const).entries()) {
        // carl commits first (an hour ago); bob then changes the same value live, and ann pulls.
        const before = Date.now()
        await carlCommits(remote, carl, new Date(Date.now() - 3600_000).toISOString())
        await fsp.writeFile(path.join(b.dir, TODOS), (await read(b.dir, TODOS)).replace(/status: \w+\n {4}tags: \[core/, `status: ${live}\n    tags: [core`))
        await waitFileEquals(a, readFile(b)!)
        const p = await gitIn(a.dir, ['-c', 'pull.rebase=false', 'pull'], { reject: false })
        expect(p.exitCode, p.stdout + p.stderr).toBe(0)
        // What ann lists at once (maybe still her clone's record, under its own id): that id still works on her clone.
        const early = (await listed(a))[0]?.id

        const c = await listedOnBoth(a, b, [carl, live])
        const by = Object.fromEntries(c.values.map((v) => [v.raw, v]))
        expect(by[carl]!.author).toEqual({ id: 'git:carl@example.invalid', name: 'carl', kind: 'human' })
        // The live value is bob's edit, made just now — not ann's, and not the time of the pull's stash pop.
        expect(by[live]!.author.name, JSON.stringify(c)).toBe('bob')
        expect(Date.parse(by[live]!.at!)).toBeGreaterThanOrEqual(Math.floor(before / 1000) * 1000)
        expect(c.values[c.winner - 1]!.raw).toBe(live)
        expect(await read(a.dir, TODOS)).toContain(`status: ${live}\n`)

        // Resolved on one peer (bob the first time, ann the second): carl's value on both, no conflict anywhere.
        const take = c.values.findIndex((v) => v.raw === carl) + 1
        const r = await ctx(resolver.dir, ['resolve', resolver === a && early ? early : c.id, '--take', String(take)])
        expect(r.exitCode, r.stdout + r.stderr).toBe(0)
        for (const peer of [a, b]) {
          await waitFor(async () => (await read(peer.dir, TODOS)).includes(`status: ${carl}\n    tags: [core`), 15_000, `${peer.name} shows carl's ${carl}`)
          await waitFor(async () => (await listed(peer)).length === 0, 15_000, `no conflict left on ${peer.name} (round ${round + 1})`)
        }
      }
    } catch (e) {
      throw new Error(`${(e as Error).message}\n${logs([da, db])}`)
    }
    expect(await stopWatch(da)).toBe(0)
    expect(await stopWatch(db)).toBe(0)
  })

  it('git stash, git pull, git stash pop: the stashed value is credited to the peer who wrote it, at its time', async () => {
    const { remote, a, b, da, db } = await twoLivePeers()
    try {
      await carlCommits(remote, 'done', new Date(Date.now() - 3600_000).toISOString())
      const before = Date.now()
      await fsp.writeFile(path.join(b.dir, TODOS), (await read(b.dir, TODOS)).replace('status: open\n    tags: [core', 'status: blocked\n    tags: [core'))
      await waitFileEquals(a, readFile(b)!)
      const after = Date.now()
      await gitIn(a.dir, ['stash'])
      await gitIn(a.dir, ['-c', 'pull.rebase=false', 'pull', '-q'])
      const pop = await gitIn(a.dir, ['stash', 'pop'], { reject: false })
      expect(pop.exitCode, pop.stdout + pop.stderr).toBe(0)
      const c = await listedOnBoth(a, b, ['done', 'blocked'])
      const by = Object.fromEntries(c.values.map((v) => [v.raw, v]))
      expect(by.blocked!.author.name, JSON.stringify(c)).toBe('bob')
      expect(Date.parse(by.blocked!.at!)).toBeGreaterThanOrEqual(Math.floor(before / 1000) * 1000)
      expect(Date.parse(by.blocked!.at!)).toBeLessThanOrEqual(after)
      expect(by.done!.author.name).toBe('carl')
    } catch (e) {
      throw new Error(`${(e as Error).message}\n${logs([da, db])}`)
    }
  })

  it('git pull over a commit of the same value and an uncommitted edit: the record outlives the autostash apply', async () => {
    // Black-box tester (issue 15 item 5): the merge made a record, the autostash's apply merged the file again
    // with no conflict, and that second merge dropped the record: the driver had said "see resolve --list".
    const { remote, a, b, da, db } = await twoLivePeers()
    try {
      for (const [round, pull] of ([['--no-rebase', '--no-edit'], ['--rebase']] as const).entries()) {
        const tina = await cloneAs(remote, `tina-${round}`)
        await fsp.writeFile(path.join(tina, TODOS), (await read(tina, TODOS)).replace(/title: "[^"]*"(\n {4}status: \w+\n {4}tags: \[render)/, `title: "Two by tina ${round}"$1`))
        await replaceIn(tina, TODOS, round ? 'Ship it now' : 'Ship it', round ? 'Ship it today' : 'Ship it now')
        await gitIn(tina, ['commit', '-qam', `tina ${round}`], { env: { GIT_AUTHOR_NAME: 'tina', GIT_AUTHOR_EMAIL: 'tina@example.invalid' } })
        await gitIn(tina, ['push', '-q', 'origin', 'HEAD:main'])
        // ann (pat) sets the same title live and commits it; then edits t1 and leaves that uncommitted.
        await fsp.writeFile(path.join(a.dir, TODOS), (await read(a.dir, TODOS)).replace(/title: "[^"]*"(\n {4}status: \w+\n {4}tags: \[render)/, `title: "Two by pat ${round}"$1`))
        await waitFor(async () => (await read(b.dir, TODOS)).includes(`Two by pat ${round}`), 20_000, 'bob shows pat\'s title')
        await gitIn(a.dir, ['commit', '-qam', `pat ${round}`])
        await fsp.writeFile(path.join(a.dir, TODOS), (await read(a.dir, TODOS)).replace(/title: "Write the parser[^"]*"/, `title: "Write the parser ${round}"`))
        await waitFor(async () => (await read(b.dir, TODOS)).includes(`Write the parser ${round}"`), 20_000, 'bob shows ann\'s t1 edit')
        const p = await gitIn(a.dir, ['pull', ...pull], { reject: false })
        expect(p.exitCode, p.stdout + p.stderr).toBe(0)
        expect(p.stdout + p.stderr).toMatch(/changed on both sides/)
        let seen: Listed[][] = []
        const want = (l: Listed[]) => l.length === 1 && l[0]!.display.endsWith('.title') && l[0]!.values.map((v) => v.raw.replace(/"/g, '')).sort().join() === [`Two by pat ${round}`, `Two by tina ${round}`].join()
        await waitFor(async () => (seen = [await listed(a), await listed(b)]).every(want), 20_000, `the title conflict listed on both peers (${pull.join(' ')})`, () => JSON.stringify(seen, null, 1))
        for (const peer of [a, b]) expect(await read(peer.dir, TODOS)).toContain(`Write the parser ${round}"`)
        const r = await ctx(b.dir, ['resolve', seen[1]![0]!.id, '--take', '1'])
        expect(r.exitCode, r.stdout + r.stderr).toBe(0)
        for (const peer of [a, b]) await waitFor(async () => (await listed(peer)).length === 0, 15_000, `no conflict left on ${peer.name}`)
        await gitIn(a.dir, ['commit', '-qam', `ann ${round}`])
        await gitIn(a.dir, ['push', '-q', 'origin', 'HEAD:main'])
      }
    } catch (e) {
      throw new Error(`${(e as Error).message}\n${logs([da, db])}`)
    }
  })

  it('a merge made while the daemon was stopped: taken over at its start (and reaches the peer), or dropped with the reason when the value changed since', async () => {
    const { remote, a, b, da, db } = await twoLivePeers()
    let dann = da
    try {
      for (const [carl, mine, after] of [['done', 'blocked', null], ['waiting', 'started', 'shipped']] as const) {
        expect(await stopWatch(dann)).toBe(0)
        await carlCommits(remote, carl, new Date(Date.now() - 3600_000).toISOString())
        await fsp.writeFile(path.join(a.dir, TODOS), (await read(a.dir, TODOS)).replace(/status: \w+\n {4}tags: \[core/, `status: ${mine}\n    tags: [core`))
        const p = await gitIn(a.dir, ['-c', 'pull.rebase=false', 'pull'], { reject: false })
        expect(p.exitCode, p.stdout + p.stderr).toBe(0)
        expect((await listed(a)).map((c) => c.values.map((v) => v.raw).sort())).toEqual([[carl, mine].sort()])
        if (after) await fsp.writeFile(path.join(a.dir, TODOS), (await read(a.dir, TODOS)).replace(`status: ${mine}\n`, `status: ${after}\n`))
        dann = await startWatch(a)
        if (!after) {
          const c = await listedOnBoth(a, b, [carl, mine])
          const r = await ctx(b.dir, ['resolve', c.id, '--take', String(c.values.findIndex((v) => v.raw === carl) + 1)])
          expect(r.exitCode, r.stdout + r.stderr).toBe(0)
          await waitFileEquals(a, readFile(b)!)
          for (const peer of [a, b]) await waitFor(async () => (await listed(peer)).length === 0, 15_000, `no conflict left on ${peer.name}`)
        } else {
          await waitLog(dann, /dropped the merge conflict \w+ \(todos\[id=t1\]\.status\): the value was changed since/)
          await waitFor(async () => (await read(b.dir, TODOS)).includes(`status: ${after}\n`), 15_000, `bob has ann's ${after}`)
          for (const peer of [a, b]) expect(await listed(peer)).toEqual([])
        }
      }
    } catch (e) {
      throw new Error(`${(e as Error).message}\n${logs([dann, db])}`)
    }
  })

  it('a merge record whose file changed since is still resolvable, or dropped saying why: never stuck', async () => {
    const remote = await bareRemote({ [TODOS]: CONTEXT_TODOS })
    const f = await founder(remote, 'ann', await freePort())
    const d = await joiner(remote, 'dora', f.code, await freePort())
    const dora: Peer = { name: 'dora', dir: d, port: 0, url: '' }
    // Branches that set t1's status two ways; dora (no daemon) merges them anew each round.
    for (const [branch, value] of [['x', 'done'], ['y', 'blocked']]) {
      await gitIn(f.dir, ['checkout', '-q', '-B', branch, 'origin/main'])
      await replaceIn(f.dir, TODOS, 'status: open\n    tags: [core', `status: ${value}\n    tags: [core`)
      await gitIn(f.dir, ['commit', '-qam', branch])
      await gitIn(f.dir, ['push', '-q', 'origin', branch])
    }
    await gitIn(d, ['fetch', '-q', 'origin'])
    const merge = async (round: string) => {
      await gitIn(d, ['checkout', '-q', '-f', '-B', round, 'origin/x'])
      expect((await gitIn(d, ['merge', '--no-edit', 'origin/y'], { reject: false })).exitCode).toBe(0)
      const [c] = await listed(dora)
      expect(c, 'the merge kept a record').toBeDefined()
      return c!
    }

    // 1. The item's other lines changed since the merge (its title edited): the choice still applies there.
    let c = await merge('m1')
    await replaceIn(d, TODOS, 'title: "Write the parser"', 'title: "Write the parser, fast"')
    const loser = c.values.findIndex((_, i) => i + 1 !== c.winner)
    let r = await ctx(d, ['resolve', c.id, '--take', String(loser + 1)])
    expect(r.exitCode, r.stdout + r.stderr).toBe(0)
    let text = await read(d, TODOS)
    expect(text).toContain(`title: "Write the parser, fast"\n    status: ${c.values[loser]!.raw}\n`)
    expect(await listed(dora)).toEqual([])

    // 2. The value itself edited again: the record is moot. Listed nowhere, dropped with the reason.
    c = await merge('m2')
    await replaceIn(d, TODOS, `status: ${c.values[c.winner - 1]!.raw}\n    tags: [core`, 'status: shipped\n    tags: [core')
    const list = await ctx(d, ['resolve', '--list', '--json'])
    expect(list.exitCode, list.stderr).toBe(0)
    expect(JSON.parse(list.stdout).conflicts).toEqual([])
    expect(list.stderr).toMatch(new RegExp(`dropped the merge conflict ${c.id} \\(todos\\[id=t1\\]\\.status\\): the value was changed since`))
    expect((await ctxJson(d, ['status'])).conflicts).toBe(0)
    r = await ctx(d, ['resolve', c.id, '--take', '1'])
    expect(r.exitCode).not.toBe(0)
    expect(await read(d, TODOS)).toContain('status: shipped\n')

    // 3. Edited again between the listing and the choice: the choice is refused with the reason, and forgotten.
    c = await merge('m3')
    await replaceIn(d, TODOS, `status: ${c.values[c.winner - 1]!.raw}\n    tags: [core`, 'status: shipped\n    tags: [core')
    text = await read(d, TODOS)
    r = await ctx(d, ['resolve', c.id, '--take', '1'])
    expect(r.exitCode, r.stdout + r.stderr).not.toBe(0)
    expect(r.stderr).toMatch(/dropped the merge conflict .*: the value was changed since, so there is nothing left to choose|no conflict/)
    expect(await read(d, TODOS)).toBe(text)
    expect(await listed(dora)).toEqual([])
  })
})
