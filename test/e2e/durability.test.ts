/**
 * Losing nothing: a peer killed with -9 while the other sends a stream of edits catches up after a restart;
 * a file broken on one side is held (reported, never overwritten) and merges both sides' edits once fixed.
 */
import { afterAll, afterEach, describe, expect, it } from 'vitest'
import {
  countId, ctx, edit, explained, fileState, kill9, killAll, readFile, removeTmpDirs, setupSpace, SMALL_TODOS, startWatch, statusJson, stopWatch,
  TODOS, waitFileEquals, waitFor, waitLog, waitSame, writeFile, type Peer,
} from './helpers.js'

afterEach(killAll)
afterAll(removeTmpDirs)

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))

describe('e2e: durability', { timeout: 120_000 }, () => {
  it('kill -9 of a watching peer mid-stream; after a restart it catches up and nothing is lost', async () => {
    const { peers } = await setupSpace(['a', 'b'], { files: { [TODOS]: SMALL_TODOS } })
    const [a, b] = peers as [Peer, Peer]
    const da = await startWatch(a)
    let db = await startWatch(b)
    await waitLog(db, /connected to a/)

    // A appends one todo per edit and keeps rewriting one field; every edit leaves a trace in the end state.
    const N = 80
    let text = readFile(a)!
    let i = 0
    const stream = async (until: number) => {
      for (; i < until; i++) {
        text = text.replace(/^( {4}title: "Second task)[^"]*"/m, `$1 v${i}"`) + `  - id: s${i}\n    title: "stream ${i}"\n    status: open\n`
        await writeFile(a, TODOS, text)
        await sleep(15 + (i % 4) * 10)
      }
    }
    await stream(20)
    // B has taken in part of the stream; kill it hard in the middle of receiving.
    await waitFor(() => (readFile(b) ?? '').includes('id: s5'), 15_000, 'b to receive part of the stream')
    await kill9(db)
    // The dead daemon's leftovers (daemon.json, lock) fool neither status nor the restart.
    expect((await statusJson(b)).daemon.running).toBe(false)
    await stream(40)
    // B's writes that were under way may have been cut short; it restarts and must take up where it was.
    db = await startWatch(b)
    await stream(50)
    // A clean stop while B is busy writing what arrives: still exit 0 (a signal during a file write used to
    // kill the daemon), then more edits while it is away, and a restart.
    expect(await stopWatch(db)).toBe(0)
    await stream(65)
    db = await startWatch(b)
    await stream(N)
    await explained(waitFileEquals(b, text, TODOS, 30_000), [a, b], [da, db])
    expect(readFile(a)).toBe(text)
    for (let k = 0; k < N; k++) expect(countId(text, `s${k}`), `s${k}`).toBe(1)
    expect(text).toContain(`title: "Second task v${N - 1}"`)
    expect(text.startsWith(SMALL_TODOS.split('  - id: t2')[0]!)).toBe(true)
    // The restarts left the space healthy on B: no conflicts, no held file, every change acknowledged.
    await waitFor(async () => (await fileState(b)).state === 'synced', 10_000, 'b: todos synced')
    await waitFor(async () => (await fileState(a)).state === 'synced', 10_000, 'a: todos synced')
    expect((await ctx(b.dir, ['status', '--check'])).exitCode).toBe(0)
    await Promise.all([stopWatch(da), stopWatch(db)])
    expect(readFile(b)).toBe(text)
  })

  it('a file that does not parse is held; its later fix merges both sides', async () => {
    const { peers } = await setupSpace(['a', 'b'], { files: { [TODOS]: SMALL_TODOS } })
    const [a, b] = peers as [Peer, Peer]
    const da = await startWatch(a)
    const db = await startWatch(b)
    await waitLog(db, /connected to a/)

    // B breaks the YAML (an unclosed quote) while changing t1.
    const broken = SMALL_TODOS.replace('    title: "First task"   # inline comment', '    title: "First task, from B   # inline comment')
    await writeFile(b, TODOS, broken)
    await waitFor(async () => (await fileState(b)).state === 'held', 10_000, 'b: todos held')
    const held = await fileState(b)
    expect(held.error).toMatchObject({ line: expect.any(Number), col: expect.any(Number), message: expect.any(String) })
    expect(held.error.line).toBeGreaterThanOrEqual(5)
    expect(held.error.col).toBeGreaterThanOrEqual(1)
    expect(held.error.message.length).toBeGreaterThan(3)
    const chk = await ctx(b.dir, ['status', '--check'])
    expect(chk.exitCode).toBe(4)
    const human = await ctx(b.dir, ['status'])
    expect(human.stdout).toMatch(new RegExp(`held\\s+\\.rhema/todos\\.yaml:${held.error.line}:${held.error.col}`))
    // Nothing of the broken file reached A.
    expect(readFile(a)).toBe(SMALL_TODOS)

    // Meanwhile A edits the same file. B receives it but must not touch its broken file.
    const fromA = await edit(a, 'title: "Third task"', 'title: "Third task, from A"')
    await waitFor(async () => (await fileState(a)).state === 'synced', 10_000, 'a: its edit acknowledged by b')
    await sleep(300)
    expect(readFile(b)).toBe(broken)
    expect(fromA).not.toContain('from B')

    // B fixes the quote and makes one more change: both sides' edits end up everywhere.
    const fixed = broken.replace('"First task, from B   # inline comment', '"First task, from B"   # inline comment').replace('title: "Second task"', 'title: "Second task, from B"')
    await writeFile(b, TODOS, fixed)
    const merged = await explained(waitSame([a, b], TODOS, (t) => t.includes('Third task, from A') && t.includes('Second task, from B')), [a, b], [da, db])
    expect(merged).toBe(
      SMALL_TODOS.replace('title: "First task"', 'title: "First task, from B"')
        .replace('title: "Second task"', 'title: "Second task, from B"')
        .replace('title: "Third task"', 'title: "Third task, from A"'),
    )
    await waitFor(async () => (await fileState(b)).state === 'synced', 10_000, 'b: todos synced again')
    expect((await ctx(b.dir, ['status', '--check'])).exitCode).toBe(0)
    expect(db.log()).toMatch(/held/)
    await Promise.all([stopWatch(da), stopWatch(db)])
  })
})
