/**
 * Joining from an older checkout through the built CLI, with real git (issue 13 item 4): two live peers
 * change the context after a commit; a new teammate clones that older commit, runs `init --join` and
 * `sync` (or `watch`): no conflict anywhere (`status --check` exit 0 on every peer), no live value rolled
 * back, and the teammate's own edit, made on top of the commit, lands on every peer.
 */
import { afterAll, afterEach, describe, expect, it } from 'vitest'

// The join's wait for the live state is behind a switch for now (src/commands/init.ts).
import { ctx, ctxJson, expectOk, freePort, killAll, readFile, removeTmpDirs, startWatch, stopWatch, TODOS, waitFileEquals, waitLog, waitSame, type Peer } from './helpers.js'
import { bareRemote, cloneAs, CONTEXT_TODOS, founder, gitIn, joiner, read, replaceIn, twoLivePeers } from './gitHelpers.js'

afterEach(killAll)
afterAll(removeTmpDirs)

/** Live changes after the commit, alternating between the two peers: values, an item, a line, tags. */
const LIVE: Array<[from: string, to: string]> = [
  ['title: "Write the parser"', 'title: "Write the parser (lossless)"'],
  ['  - id: t2\n    title: "Fix the renderer"\n    status: open', '  - id: t2\n    title: "Fix the renderer"\n    status: done'],
  ['      - second note\n', '      - second note\n      - a live note\n'],
  ['tags: [render]', 'tags: [render, urgent]'],
  ['      Report errors with line and column.\n', '      Report errors with line and column.\n      Keep it fast.\n'],
  ['  - id: t1\n    title: "Write the parser (lossless)"\n    status: open', '  - id: t1\n    title: "Write the parser (lossless)"\n    status: doing'],
]

async function history(): Promise<{ a: Peer; b: Peer; old: string; live: string; code: string; remote: string }> {
  const { remote, a, b, da, db, code } = await twoLivePeers()
  // The commit the teammate will clone: made while ctxsync runs (the hook records its sync point).
  await replaceIn(a.dir, TODOS, 'title: "Ship it"', 'title: "Ship it soon"')
  await waitFileEquals(b, readFile(a))
  await gitIn(a.dir, ['commit', '-qam', 'ship it soon'])
  await gitIn(a.dir, ['push', '-q', 'origin', 'main'])
  const old = (await gitIn(a.dir, ['rev-parse', 'HEAD'])).stdout.trim()
  // The live context moves on; part of it is committed again (without a sync point), part not.
  for (const [i, [from, to]] of LIVE.entries()) {
    const p = i % 2 === 0 ? a : b
    await replaceIn(p.dir, TODOS, from, to)
    await waitFileEquals(i % 2 === 0 ? b : a, readFile(p))
    if (i === 2) {
      await gitIn(a.dir, ['-c', 'core.hooksPath=/dev/null', 'commit', '-qam', 'more'])
      await gitIn(a.dir, ['push', '-q', 'origin', 'main'])
    }
  }
  const live = await waitSame([a, b])
  expect(await stopWatch(db)).toBe(0)
  // Ann stays up: the teammate's sync reaches her.
  void da
  return { a, b, old, live, code, remote }
}

async function checkAll(peers: Array<{ dir: string }>): Promise<void> {
  for (const p of peers) {
    const r = await ctx(p.dir, ['status', '--check'])
    expect(r.exitCode, `${p.dir}: status --check\n${r.stdout}\n${r.stderr}`).toBe(0)
  }
}

describe('e2e: joining from an older checkout', { timeout: 240_000 }, () => {
  for (const how of ['sync', 'watch'] as const) {
    it(`a clone of an older commit joins (init --join, ${how}): 0 conflicts, 0 values rolled back, its own edit kept`, async () => {
      const { a, b, old, live, code, remote } = await history()
      const dir = await cloneAs(remote, 'carl')
      await gitIn(dir, ['reset', '-q', '--hard', old])
      const port = await freePort()
      const c: Peer = { name: 'carl', dir, port, url: `ws://127.0.0.1:${port}` }
      await expectOk(ctx(dir, ['init', '--join', code, '--name', 'carl', '--port', String(port), '--peer', a.url]))
      // Nothing is enrolled before the live state came: the committed file is untouched.
      expect(await read(dir, TODOS)).toBe((await gitIn(dir, ['show', `${old}:${TODOS}`])).stdout + '\n')
      // The teammate's own edit, on top of the commit, of a value nobody changed live.
      await replaceIn(dir, TODOS, '      - first note\n', '      - first note (carl)\n')
      const want = live.replace('      - first note\n', '      - first note (carl)\n')
      if (how === 'sync') {
        const r = await ctx(dir, ['sync'])
        expect(r.exitCode, `${r.stdout}\n${r.stderr}`).toBe(0)
      } else {
        const d = await startWatch(c)
        // Its file awaits the join but is watched (it said "watching 0 file(s)": black-box tester round 2).
        expect(d.log()).toMatch(/watching [1-9]\d* file\(s\)/)
        await waitFileEquals(c, want, TODOS, 30_000).catch((e: Error) => {
          throw new Error(`${e.message}\n--- carl:\n${d.log()}`)
        })
        await waitFileEquals(a, want)
        expect(await stopWatch(d)).toBe(0)
      }
      expect(readFile(c)).toBe(want)
      await waitFileEquals(a, want)
      // Bob was down: he meets the others afterwards.
      const db = await startWatch(b)
      await waitFileEquals(b, want, TODOS, 30_000)
      expect(await stopWatch(db)).toBe(0)
      await checkAll([a, b, c])
    })
  }

  // CI as the README says to run it: a fresh checkout, the secret in the environment, `sync` without `init`
  // (issue 13: only `init` started the join, so the checkout's older text was enrolled as an edit).
  it('a clone of an older commit syncs without init (CTXSYNC_SECRET, as CI does): 0 conflicts, 0 values rolled back, its file the live one', async () => {
    const { a, b, old, live, remote } = await history()
    const dir = await cloneAs(remote, 'ci')
    await gitIn(dir, ['reset', '-q', '--hard', old])
    const secret = (await read(a.dir, '.ctxsync/secret')).trim()
    const r = await ctx(dir, ['sync', '--peer', a.url, '--json'], { env: { CTXSYNC_SECRET: secret } })
    expect(r.exitCode, `${r.stdout}\n${r.stderr}`).toBe(0)
    expect(await read(dir, TODOS)).toBe(live)
    await waitFileEquals(a, live)
    const db = await startWatch(b)
    await waitFileEquals(b, live, TODOS, 30_000)
    expect(await stopWatch(db)).toBe(0)
    for (const p of [a.dir, b.dir, dir]) {
      expect((await ctxJson(p, ['resolve', '--list'], 0, { env: { CTXSYNC_SECRET: secret } })).conflicts, p).toEqual([])
    }
    await checkAll([a, b])
    expect((await ctx(dir, ['status', '--check'], { env: { CTXSYNC_SECRET: secret } })).exitCode).toBe(0)
  })
})
