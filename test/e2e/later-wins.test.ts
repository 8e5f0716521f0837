/**
 * Conflicts people understand, through the built CLI (issue 13 item 6): two peers overwrite one field while
 * apart; the edit taken in later wins on both peers whichever client id Yjs would have preferred, and the
 * earlier value is in the record (`resolve --list`; `status --json` counts it). A conflict resolved while a third peer
 * that had seen the race was away stays resolved when that stale peer syncs.
 */
import { afterAll, afterEach, describe, expect, it } from 'vitest'
import { ctx, ctxJson, edit, fileState, killAll, readFile, removeTmpDirs, setupSpace, SMALL_TODOS, startWatch, stopWatch, TODOS, waitFor, waitSame, type Peer } from './helpers.js'

afterEach(killAll)
afterAll(removeTmpDirs)

const titleOf = (text: string, id: string) => new RegExp(`- id: ${id}\\n    title: "([^"]*)"`).exec(text)?.[1]

describe('e2e: the later edit wins', { timeout: 120_000 }, () => {
  // Both orders: one of them goes against the order Yjs alone would pick.
  for (const first of ['a', 'b'] as const) {
    it(`${first} edits first, the other later: the later value shows on both, the earlier is in the record`, async () => {
      const { peers } = await setupSpace(['a', 'b'], { files: { [TODOS]: SMALL_TODOS } })
      const [early, late] = (first === 'a' ? peers : [...peers].reverse()) as [Peer, Peer]
      // The early peer's daemon takes its edit in now; the late peer's sync takes its own in afterwards.
      await edit(early, 'title: "Second task"', 'title: "Second task, early"')
      const d = await startWatch(early)
      await waitFor(async () => (await fileState(early)).state === 'pending', 10_000, 'early: its edit taken in')
      await new Promise((r) => setTimeout(r, 50)) // a wall-clock gap between the two writes is the point
      await edit(late, 'title: "Second task"', 'title: "Second task, late"')
      const s = await ctx(late.dir, ['sync', '--peer', early.url, '--timeout', '20'])
      expect(s.exitCode, s.stderr).toBe(0)
      const text = await waitSame([early, late], TODOS, (t) => titleOf(t, 't2') === 'Second task, late')
      expect(titleOf(text, 't2')).toBe('Second task, late')
      const lists = await Promise.all([ctxJson(early.dir, ['resolve', '--list']), ctxJson(late.dir, ['resolve', '--list'])])
      expect(lists[0]).toEqual(lists[1])
      const [c] = lists[0].conflicts
      expect(c.values.map((v: any) => v.value)).toEqual(['Second task, early', 'Second task, late'])
      expect(c.values[c.winner - 1].value).toBe('Second task, late')
      // `status` counts it (its values are in `resolve --list`, above).
      for (const p of [early, late]) expect((await fileState(p)).conflicts, p.name).toBe(1)
      await stopWatch(d)
    })
  }

  it('resolved, then a stale peer that had seen the race syncs: the conflict stays resolved', async () => {
    const { peers } = await setupSpace(['a', 'b', 'c'], { files: { [TODOS]: SMALL_TODOS } })
    const [a, b, c] = peers as [Peer, Peer, Peer]
    await edit(a, 'title: "Second task"', 'title: "Second task (A)"')
    const d = await startWatch(a)
    await waitFor(async () => (await fileState(a)).state === 'pending', 10_000, 'a: its edit taken in')
    await edit(b, 'title: "Second task"', 'title: "Second task (B)"')
    expect((await ctx(b.dir, ['sync', '--peer', a.url, '--timeout', '20'])).exitCode).toBe(0)
    // c takes the race in, then goes away with it.
    expect((await ctx(c.dir, ['sync', '--peer', a.url, '--timeout', '20'])).exitCode).toBe(0)
    expect((await ctxJson(c.dir, ['resolve', '--list'])).conflicts).toHaveLength(1)
    const [conf] = (await ctxJson(a.dir, ['resolve', '--list'])).conflicts
    const a1 = conf.values.findIndex((v: any) => v.value === 'Second task (A)') + 1
    expect((await ctx(a.dir, ['resolve', conf.id, '--take', String(a1)])).exitCode).toBe(0)
    await waitFor(() => titleOf(readFile(a)!, 't2') === 'Second task (A)', 10_000, 'a: the choice in its file')
    expect((await ctx(b.dir, ['sync', '--peer', a.url, '--timeout', '20'])).exitCode).toBe(0)
    // The stale peer comes back.
    expect((await ctx(c.dir, ['sync', '--peer', a.url, '--timeout', '20'])).exitCode).toBe(0)
    expect((await ctx(b.dir, ['sync', '--peer', a.url, '--timeout', '20'])).exitCode).toBe(0)
    const text = await waitSame([a, b, c], TODOS, (t) => titleOf(t, 't2') === 'Second task (A)')
    expect(titleOf(text, 't2')).toBe('Second task (A)')
    for (const p of [a, b, c]) {
      expect((await ctxJson(p.dir, ['resolve', '--list'])).conflicts, p.name).toEqual([])
      expect((await ctx(p.dir, ['status', '--check'])).exitCode, p.name).toBe(0)
    }
    await stopWatch(d)
  })
})
