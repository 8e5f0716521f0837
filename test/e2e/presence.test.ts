/**
 * Presence end to end: two daemons on 127.0.0.1 (peer to peer, `discovery: none`); an edit on A shows in
 * B's `status --json` as A online (name, kind, host) touching that file, and in B's saved status.json for a
 * cold `status`; when A stops, B no longer lists it. Three daemons in a chain (ann ← bob ← cat: each dials only
 * the one before it): the ends see each other through bob, and ann sees cat go when cat stops.
 */
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import {
  ctx, edit, expectOk, killAll, removeTmpDirs, setupSpace, SMALL_TODOS, startWatch, statusJson, stopWatch, TODOS, waitFileEquals,
  waitFor, waitLog,
} from './helpers.js'

afterEach(async () => {
  await killAll()
  await removeTmpDirs()
})

describe('e2e: presence', { timeout: 60_000 }, () => {
  it('B sees A online with its name, kind and the file it just changed; then sees it leave', async () => {
    const { peers } = await setupSpace(['ann', 'bob'], { files: { [TODOS]: SMALL_TODOS } })
    const [a, b] = peers as [typeof peers[0], typeof peers[0]]
    await expectOk(ctx(a.dir, ['init', '--agent']))
    const da = await startWatch(a)
    const db = await startWatch(b)
    await waitLog(db, /connected to ann \(agent\)/)
    const before = await statusJson(b)
    expect(before.online).toEqual([expect.objectContaining({ name: 'ann', kind: 'agent', files: [] })])

    const text = await edit(a, 'status: open', 'status: done')
    await waitFileEquals(b, text)
    let s: any
    await waitFor(async () => {
      s = await statusJson(b)
      return s.online?.[0]?.files?.length === 1
    }, 15_000, "A's presence in B's status", () => JSON.stringify(s?.online))
    const ann = s.online[0]
    expect(ann).toMatchObject({ name: 'ann', kind: 'agent', host: os.hostname(), via: 'direct', files: [{ path: TODOS }] })
    expect(Date.now() - Date.parse(ann.files[0].at)).toBeLessThan(60_000)
    // A sees B online, touching nothing: files written for a peer's change are not B's activity.
    expect((await statusJson(a)).online).toEqual([expect.objectContaining({ name: 'bob', kind: 'human', files: [] })])
    // The human output says it too.
    expect((await expectOk(ctx(b.dir, ['status']))).stdout).toMatch(/online now\n.*ann \(agent\).*editing \.rhema\/todos\.yaml/)
    // Saved for a cold `status`.
    await waitFor(() => {
      const saved = JSON.parse(fs.readFileSync(path.join(b.dir, '.ctxsync/status.json'), 'utf8'))
      return saved.online?.[0]?.files?.[0]?.path === TODOS
    }, 5000, 'presence in status.json')

    expect(await stopWatch(da)).toBe(0)
    await waitFor(async () => (await statusJson(b)).online.length === 0, 15_000, "A's presence to go")
    expect(await stopWatch(db)).toBe(0)
    // No daemon: this machine is offline and shows nobody online.
    expect((await statusJson(b)).online).toEqual([])
  })

  it('in a chain ann ← bob ← cat, ann sees cat (through bob) with the file cat changed, and sees it go', async () => {
    const { peers } = await setupSpace(['ann', 'bob', 'cat'], { files: { [TODOS]: SMALL_TODOS } })
    const [a, b, c] = peers as [typeof peers[0], typeof peers[0], typeof peers[0]]
    const da = await startWatch(a)
    const db = await startWatch(b)
    await waitLog(db, /connected to ann/)
    const dc = await startWatch(c)
    await waitLog(dc, /connected to bob/)
    const text = await edit(c, 'status: open', 'status: done')
    await waitFileEquals(a, text)
    let s: any
    await waitFor(async () => {
      s = await statusJson(a)
      return s.online?.find((p: any) => p.name === 'cat')?.files?.length === 1
    }, 15_000, "cat's presence in ann's status", () => JSON.stringify(s?.online))
    expect(s.online.map((p: any) => [p.name, p.via])).toEqual([['bob', 'direct'], ['cat', 'peer']])
    expect(s.online[1].files).toEqual([expect.objectContaining({ path: TODOS })])
    expect((await statusJson(c)).online.map((p: any) => [p.name, p.via])).toEqual([['ann', 'peer'], ['bob', 'direct']])
    expect((await expectOk(ctx(a.dir, ['status']))).stdout).toMatch(/cat.*via another peer/)

    expect(await stopWatch(dc)).toBe(0)
    await waitFor(async () => (await statusJson(a)).online.map((p: any) => p.name).join() === 'bob', 15_000, 'cat to go from ann\'s status')
    expect(await stopWatch(db)).toBe(0)
    expect(await stopWatch(da)).toBe(0)
  })
})
