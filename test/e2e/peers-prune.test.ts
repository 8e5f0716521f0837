/**
 * `ctxsync peers --prune [DAYS]` through the built CLI (issue 17 item 5: every one-shot clone stayed in the
 * list): without a daemon it edits the peer book itself; with one, the daemon does (it holds the book and
 * would write a forgotten peer back when it saves). It says what it removed, never removes a peer connected
 * now, and refuses a bad age as a usage error.
 */
import fs from 'node:fs'
import path from 'node:path'
import { afterAll, afterEach, describe, expect, it } from 'vitest'
import { ctx, ctxJson, killAll, removeTmpDirs, setupSpace, SMALL_TODOS, startWatch, stopWatch, TODOS, waitLog, type Peer } from './helpers.js'

afterEach(killAll)
afterAll(removeTmpDirs)

const DAY = 86_400_000
const bookOf = (p: Peer) => path.join(p.dir, '.ctxsync', 'peers.json')
const namesIn = (p: Peer) => (JSON.parse(fs.readFileSync(bookOf(p), 'utf8')).peers as { name: string }[]).map((r) => r.name).sort()

/** Adds records to a peer's book as if met `days` ago. */
function met(p: Peer, records: Array<{ name: string; days: number; kind?: string }>): void {
  const book = fs.existsSync(bookOf(p)) ? JSON.parse(fs.readFileSync(bookOf(p), 'utf8')) : { peers: [] }
  for (const r of records) {
    book.peers.push({ id: `p-${r.name}`, name: r.name, kind: r.kind ?? 'agent', url: 'ws://127.0.0.1:9', connected: false, lastSeen: new Date(Date.now() - r.days * DAY).toISOString() })
  }
  fs.writeFileSync(bookOf(p), JSON.stringify(book))
}

describe('e2e: peers --prune', { timeout: 60_000 }, () => {
  it('without a daemon: forgets peers unseen for DAYS (30 by default), says which, and keeps the rest', async () => {
    const { peers } = await setupSpace(['a'], { files: { [TODOS]: SMALL_TODOS } })
    const a = peers[0]!
    met(a, [{ name: 'ci-run-1', days: 45 }, { name: 'ci-run-2', days: 10 }, { name: 'bob', days: 1, kind: 'human' }])

    // 45 days: the list left it out already, but the file still held it; the prune says so and removes it.
    const r = await ctx(a.dir, ['peers', '--prune'])
    expect(r.exitCode, r.stderr).toBe(0)
    expect(r.stdout).toMatch(/^forgot 1 peer\(s\) not seen for 30 days or more:\n {2}ci-run-1 \(agent\) {2}last seen \d{4}-\d\d-\d\d \d\d:\d\d {2}ws:\/\/127\.0\.0\.1:9\n2 peer\(s\) still known/)
    expect(namesIn(a)).toEqual(['bob', 'ci-run-2'])

    const week = await ctxJson(a.dir, ['peers', '--prune', '7'])
    expect(week).toMatchObject({ days: 7, forgotten: [expect.objectContaining({ name: 'ci-run-2', kind: 'agent' })], known: [expect.objectContaining({ name: 'bob' })] })
    expect(namesIn(a)).toEqual(['bob'])

    const none = await ctx(a.dir, ['peers', '--prune', '7'])
    expect(none.exitCode, none.stderr).toBe(0)
    expect(none.stdout.trim()).toBe('nothing to forget: no peer has gone unseen for 7 days or more; 1 peer(s) still known (`ctxsync peers` lists them)')

    for (const bad of [['--prune', 'week'], ['--prune', '-1'], ['--prune', '7', '--registry', 'ws://127.0.0.1:9']]) {
      const u = await ctx(a.dir, ['peers', ...bad])
      expect(u.exitCode, `${bad.join(' ')}: ${u.stderr}`).toBe(2)
      expect(u.stderr).toMatch(/--prune/)
    }
    expect(namesIn(a)).toEqual(['bob'])
  })

  it('with a daemon: the daemon forgets them (its next save does not bring them back), never a peer connected now', async () => {
    const { peers } = await setupSpace(['a', 'b'], { files: { [TODOS]: SMALL_TODOS } })
    const [a, b] = peers as [Peer, Peer]
    met(a, [{ name: 'ci-run-3', days: 12 }])
    const da = await startWatch(a)
    const db = await startWatch(b)
    await waitLog(da, /connected to b/)

    // 0 days: everyone not connected now. b is connected, so b stays.
    const r = await ctxJson(a.dir, ['peers', '--prune', '0'])
    expect(r.forgotten.map((p: { name: string }) => p.name)).toEqual(['ci-run-3'])
    expect(r.known).toEqual([expect.objectContaining({ name: 'b', connected: true })])
    const list = await ctxJson(a.dir, ['peers'])
    expect(list.known.map((p: { name: string }) => p.name)).toEqual(['b'])

    // The daemon saves its book when it stops: the forgotten peer stays forgotten.
    expect(await stopWatch(da)).toBe(0)
    expect(namesIn(a)).toEqual(['b'])
    await stopWatch(db)
  })
})
