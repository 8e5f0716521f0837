/**
 * A conflict that came from git, resolved live, is credited as a live one (issue 16, black-box tester 3):
 * carl's offline commit and bob's live edit of one value, the merge driver's record adopted as a live
 * conflict, resolved on ann keeping carl's value. blame said `ann` on both peers and history said nothing of
 * the resolution; a live conflict says `carl (kept by ann)`.
 */
import fsp from 'node:fs/promises'
import path from 'node:path'
import { afterAll, afterEach, describe, expect, it } from 'vitest'
import { ctx, ctxJson, killAll, readFile, removeTmpDirs, TODOS, waitFileEquals, waitFor, type Peer } from './helpers.js'
import { cloneAs, gitIn, read, twoLivePeers } from './gitHelpers.js'

afterEach(killAll)
afterAll(removeTmpDirs)

interface Listed { id: string; file: string; values: Array<{ raw: string }> }
const listed = async (p: Peer): Promise<Listed[]> => (await ctxJson(p.dir, ['resolve', '--list'])).conflicts.filter((c: Listed) => c.file === TODOS)
const FIELD = 'todos[id=t1].status'

describe('e2e: a git conflict resolved live', { timeout: 180_000 }, () => {
  it('blame names the kept value\'s writer, kept by the resolver, on both peers; history says it was resolved', async () => {
    const { remote, a, b } = await twoLivePeers()
    const c = await cloneAs(remote, 'carl')
    await fsp.writeFile(path.join(c, TODOS), (await read(c, TODOS)).replace(/status: \w+\n {4}tags: \[core/, 'status: done\n    tags: [core'))
    await gitIn(c, ['commit', '-qam', 't1 done'], { env: { GIT_AUTHOR_NAME: 'carl', GIT_AUTHOR_EMAIL: 'carl@example.invalid', GIT_AUTHOR_DATE: new Date(Date.now() - 3600_000).toISOString() } })
    await gitIn(c, ['push', '-q', 'origin', 'HEAD:main'])
    await fsp.writeFile(path.join(b.dir, TODOS), (await read(b.dir, TODOS)).replace(/status: \w+\n {4}tags: \[core/, 'status: blocked\n    tags: [core'))
    await waitFileEquals(a, readFile(b)!)
    const p = await gitIn(a.dir, ['-c', 'pull.rebase=false', 'pull'], { reject: false })
    expect(p.exitCode, p.stdout + p.stderr).toBe(0)
    let seen: Listed[][] = []
    await waitFor(async () => {
      seen = [await listed(a), await listed(b)]
      return seen.every((l) => l.length === 1) && seen[0]![0]!.id === seen[1]![0]!.id
    }, 20_000, 'the merge conflict listed on both', () => JSON.stringify(seen))
    const conf = seen[0]![0]!
    const take = conf.values.findIndex((v) => v.raw === 'done') + 1
    const r = await ctx(a.dir, ['resolve', conf.id, '--take', String(take)])
    expect(r.exitCode, r.stdout + r.stderr).toBe(0)
    for (const peer of [a, b]) {
      let line: any = null
      await waitFor(async () => {
        line = (await ctxJson(peer.dir, ['blame', TODOS])).fields.find((l: any) => l.path === FIELD)
        return line?.value === '"done"' && (line?.keptBy !== undefined || line?.authors?.[0]?.name !== 'carl')
      }, 15_000, `${peer.name}'s blame of ${FIELD}`, () => JSON.stringify(line))
      expect(line, peer.name).toMatchObject({ authors: [{ name: 'carl' }], keptBy: { name: 'ann' } })
      const { changes } = await ctxJson(peer.dir, ['history', TODOS])
      expect(changes.some((e: any) => e.via === 'resolve' && e.keptBy?.name === 'ann' && e.authors[0]?.name === 'carl'), `${peer.name}: ${JSON.stringify(changes.slice(0, 3), null, 1)}`).toBe(true)
    }
  })
})
