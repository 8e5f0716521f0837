/**
 * Joining from a commit older than ctxsync.yaml, through the built CLI (black-box tester finding 5, issue 13
 * item 4): the context files were committed and edited before ctxsync was set up; a new teammate clones
 * and checks out such a commit (no ctxsync.yaml in the tree) and runs `init --join`, then `sync` or
 * `watch`. Init took the checkout for a repository without a space: it enrolled the old texts as the
 * space's first state, so every value the live context changed since was a conflict on every peer
 * (`status --check` 4) and the old value showed. Now: the team's ctxsync.yaml (from the later commit), no
 * conflict anywhere, nothing rolled back, a file the space deleted stays deleted, the teammate's own
 * edit lands, and git can still check out the later commit.
 */
import fs from 'node:fs/promises'
import path from 'node:path'
import { afterAll, afterEach, describe, expect, it } from 'vitest'

import { ctx, expectOk, freePort, killAll, readFile, removeTmpDirs, startWatch, stopWatch, TODOS, waitFileEquals, waitLog, waitSame, type Peer } from './helpers.js'
import { bareRemote, cloneAs, CONTEXT_TODOS, founder, gitIn, joiner, read, replaceIn } from './gitHelpers.js'

afterEach(killAll)
afterAll(removeTmpDirs)

const OLD = '.rhema/knowledge.yaml'
const OLD_TEXT = 'knowledge:\n  - id: k1\n    text: "an old fact"\n'
/** Deleted, and renamed, live once the space exists. */
const GONE = '.rhema/decisions.yaml'
const MOVED = ['.rhema/patterns.yaml', '.rhema/patterns-old.yaml'] as const

/** Ann's team before ctxsync (two commits), then with it (ann founds, bob joins), then live edits. */
async function history(): Promise<{ a: Peer; remote: string; code: string; first: string; live: string; down: Peer }> {
  const remote = await bareRemote({
    [TODOS]: CONTEXT_TODOS, [OLD]: OLD_TEXT,
    [GONE]: 'decisions:\n  - id: d1\n    title: "use YAML"\n', [MOVED[0]]: 'patterns:\n  - id: p1\n    name: "small files"\n',
  })
  const gus = await cloneAs(remote, 'gus')
  const first = (await gitIn(gus, ['rev-parse', 'HEAD'])).stdout.trim()
  // Edited and deleted with plain git before the space existed: the space's first state is the later text.
  await replaceIn(gus, TODOS, 'title: "Fix the renderer"', 'title: "Fix the renderer (HTML)"')
  await replaceIn(gus, TODOS, 'title: "Ship it"', 'title: "Ship it soon"')
  await gitIn(gus, ['rm', '-q', OLD])
  await gitIn(gus, ['commit', '-qam', 'before ctxsync'])
  await gitIn(gus, ['push', '-q', 'origin', 'main'])
  const [pa, pb] = [await freePort(), await freePort()]
  const f = await founder(remote, 'ann', pa)
  const a: Peer = { name: 'ann', dir: f.dir, port: pa, url: `ws://127.0.0.1:${pa}` }
  const b: Peer = { name: 'bob', dir: await joiner(remote, 'bob', f.code, pb, { peers: [a.url] }), port: pb, url: `ws://127.0.0.1:${pb}` }
  const [da, db] = await Promise.all([startWatch(a), startWatch(b)])
  await waitLog(db, /connected to ann/)
  for (const [p, from, to] of [
    [a, 'status: open\n    tags: [core, parser]', 'status: doing\n    tags: [core, parser]'],
    [b, 'title: "Ship it soon"', 'title: "Ship it now"'],
  ] as const) {
    await replaceIn(p.dir, TODOS, from, to)
    await waitFileEquals(p === a ? b : a, readFile(p))
  }
  await fs.rm(path.join(a.dir, GONE))
  await fs.rename(path.join(a.dir, MOVED[0]), path.join(a.dir, MOVED[1]))
  await waitFileEquals(b, null, GONE)
  await waitFileEquals(b, null, MOVED[0])
  await waitFileEquals(b, readFile(a, MOVED[1]), MOVED[1])
  const live = await waitSame([a, b])
  expect(await stopWatch(db)).toBe(0)
  void da
  return { a, remote, code: f.code, first, live, down: b }
}

async function checkAll(peers: Array<{ dir: string }>): Promise<void> {
  for (const p of peers) {
    const r = await ctx(p.dir, ['status', '--check'])
    expect(r.exitCode, `${p.dir}: status --check\n${r.stdout}\n${r.stderr}`).toBe(0)
  }
}

describe('e2e: joining from a commit older than ctxsync.yaml (finding 5)', { timeout: 240_000 }, () => {
  for (const how of ['sync', 'watch'] as const) {
    it(`init --join then ${how}: the team's ctxsync.yaml, 0 conflicts, nothing rolled back, a deleted file stays deleted, its own edit kept`, async () => {
      const { a, remote, code, first, live, down } = await history()
      // ann commits the live context: the renamed file is tracked at main, not at carl's older commit.
      await gitIn(a.dir, ['add', '-A', '.rhema'])
      await gitIn(a.dir, ['commit', '-qm', 'ann: the live context'])
      await gitIn(a.dir, ['push', '-q', 'origin', 'HEAD:main'])
      const dir = await cloneAs(remote, 'carl')
      await gitIn(dir, ['checkout', '-q', first])
      const port = await freePort()
      const c: Peer = { name: 'carl', dir, port, url: `ws://127.0.0.1:${port}` }
      const init = await expectOk(ctx(dir, ['init', '--join', code, '--name', 'carl', '--port', String(port), '--peer', a.url]))
      expect(await read(dir, 'ctxsync.yaml')).toBe((await gitIn(dir, ['show', 'origin/main:ctxsync.yaml'])).stdout + '\n')
      // The file deleted before the space existed is gone (no peer has it to say so), and said.
      expect(init.stderr).toContain(`${OLD}: removed`)
      // Nothing else of this clone's is new to git: it can check the later commit out over it.
      expect((await gitIn(dir, ['status', '--porcelain'])).stdout).toBe(` D ${OLD}`)
      await replaceIn(dir, TODOS, '      - first note\n', '      - first note (carl)\n')
      let want = live.replace('      - first note\n', '      - first note (carl)\n')
      if (how === 'sync') {
        const r = await ctx(dir, ['sync'])
        expect(r.exitCode, `${r.stdout}\n${r.stderr}`).toBe(0)
      } else {
        const d = await startWatch(c)
        await waitFileEquals(c, want, TODOS, 30_000).catch((e: Error) => {
          throw new Error(`${e.message}\n--- carl:\n${d.log()}`)
        })
        expect(await stopWatch(d)).toBe(0)
        // Started again, joined: nothing comes back (it was enrolled as new at this start, before the fix).
        // An edit after it reaches ann over the same connection after anything the start sent.
        const d2 = await startWatch(c)
        await waitLog(d2, /connected to ann/)
        await replaceIn(dir, TODOS, '      - second note\n', '      - second note (carl)\n')
        want = want.replace('      - second note\n', '      - second note (carl)\n')
        await waitFileEquals(a, want, TODOS, 30_000)
        expect(await stopWatch(d2)).toBe(0)
      }
      // Deleted before the space, deleted and renamed in it: none comes back, in the clone either.
      for (const f of [OLD, GONE, MOVED[0]]) expect(readFile(c, f), f).toBeNull()
      expect(readFile(c, MOVED[1])).toBe(readFile(a, MOVED[1]))
      expect(readFile(c)).toBe(want)
      await waitFileEquals(a, want)
      const db = await startWatch(down)
      await waitFileEquals(down, want, TODOS, 30_000)
      expect(await stopWatch(db)).toBe(0)
      for (const p of [a, down]) for (const f of [OLD, GONE, MOVED[0]]) expect(readFile(p, f), `${p.name}: ${f}`).toBeNull()
      await checkAll([a, down, c])
      // The later commit checks out over the clone's ctxsync.yaml and .ctxsync/ (untracked, git refused), and
      // over the file the join wrote that main tracks, untracked after `sync` (finding 10: "untracked working
      // tree files would be overwritten by checkout: .rhema/patterns-old.yaml"; the daemon stages it). After
      // `sync`, with the join's edits still in the tree, as the daemon advises for a tracked file: `checkout -m`.
      if (how === 'watch') await gitIn(dir, ['reset', '-q', '--hard'])
      const co = await gitIn(dir, ['checkout', '-q', ...(how === 'sync' ? ['-m'] : []), 'main'], { reject: false })
      expect(co.exitCode, co.stdout + co.stderr).toBe(0)
      expect((await gitIn(dir, ['status', '--porcelain', 'ctxsync.yaml'])).stdout).toBe('')
      if (how === 'sync') {
        // Nothing of the live context lost: the next sync writes it over what git checked out.
        await expectOk(ctx(dir, ['sync']))
        expect(readFile(c)).toBe(want)
        expect(readFile(c, MOVED[1])).toBe(readFile(a, MOVED[1]))
      }
    })
  }

  it('init without a code at a commit from before ctxsync.yaml: the team\'s space, not a new one; it asks for a code', async () => {
    const remote = await bareRemote({ [TODOS]: CONTEXT_TODOS })
    const first = (await gitIn(await cloneAs(remote, 'gus'), ['rev-parse', 'HEAD'])).stdout.trim()
    const f = await founder(remote, 'ann', await freePort())
    const space = (await ctx(f.dir, ['status', '--json'])).stdout.match(/"space":\s*"(s-[^"]+)"/)?.[1]
    const dir = await cloneAs(remote, 'dan')
    await gitIn(dir, ['checkout', '-q', first])
    // `sync` (or `watch`) before any init, as in CI: it said "no ctxsync space … run `ctxsync init` first", and
    // that init then asked for a code. Now it says the checkout predates the space, and both ways out.
    const s = await ctx(dir, ['sync'], { env: { CTXSYNC_SECRET: 'a'.repeat(43) } })
    expect(s.exitCode, s.stderr).toBe(1)
    expect(s.stderr).toContain(`is older than ctxsync.yaml: space ${space} was set up in a later commit`)
    expect(s.stderr).toContain('`ctxsync init --join CODE`')
    expect(s.stderr).toContain('`git checkout main`')
    expect(await gitIn(dir, ['status', '--porcelain', '--ignored']).then((x) => x.stdout)).toBe('')
    const r = await ctx(dir, ['init', '--name', 'dan'])
    expect(r.exitCode, r.stderr).toBe(0)
    expect(r.stdout.split('\n')[0]).toBe(`not yet a member of space ${space} in ${dir}: this machine has no secret for it (see next)`)
    expect(r.stdout).toMatch(/ask a teammate to run `ctxsync invite`/)
    expect(await read(dir, 'ctxsync.yaml')).toBe((await gitIn(dir, ['show', 'origin/main:ctxsync.yaml'])).stdout + '\n')
  })

  it('a member checks out a commit from before ctxsync.yaml while its daemon runs: the live context stays, on every peer', async () => {
    const { a, first, live, down } = await history()
    // Taken in as new git content, the old text rolled every peer back (values, a todo added since, files).
    await gitIn(a.dir, ['checkout', '-q', '-f', first])
    await waitFileEquals(a, live, TODOS, 30_000)
    const db = await startWatch(down)
    await waitFileEquals(down, live, TODOS, 30_000)
    // An edit after the checkout reaches bob after anything ann took in from it.
    await replaceIn(a.dir, TODOS, 'title: "Ship it now"', 'title: "Ship it today"')
    await waitFileEquals(down, live.replace('title: "Ship it now"', 'title: "Ship it today"'), TODOS, 30_000)
    for (const f of [OLD, GONE, MOVED[0]]) expect(readFile(down, f), f).toBeNull()
    await checkAll([down])
    expect(await stopWatch(db)).toBe(0)
  })
})
