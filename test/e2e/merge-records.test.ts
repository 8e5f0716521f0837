/**
 * The merge driver's conflict records beside running daemons (issue 15): a value a teammate committed and the
 * live context changed meet in one clone's `git pull`; the record the driver keeps there reaches the other
 * peer like a conflict the live CRDT found (listed on both, resolved on either, cleared on both), with each
 * value's real author and time — the stashed side's from the live context, not "this peer at the pop".
 */
import fsp from 'node:fs/promises'
import path from 'node:path'
import { afterAll, afterEach, describe, expect, it } from 'vitest'
import { ctx, ctxJson, killAll, readFile, removeTmpDirs, stopWatch, TODOS, waitFileEquals, waitFor, type Daemon, type Peer } from './helpers.js'
import { cloneAs, gitIn, read, twoLivePeers } from './gitHelpers.js'

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
        const r = await ctx(resolver.dir, ['resolve', c.id, '--take', String(take)])
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
})
