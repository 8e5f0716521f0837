/**
 * "The later edit wins" is timed by the write, not by when a daemon got to it (issue 13 item 6, black-box
 * tester finding 7: two people saving one field 100–300 ms apart, the later *detected* save won 2 rounds of
 * 6). A save was timed by its file's mtime only when taken in 50 ms or more after it; sooner, it was timed
 * when the model took it in — on a loaded machine up to 180 ms after the turn had looked (parsing, diffing),
 * so of two saves both seen at once the one whose daemon was slower won (bench/simultaneous.mjs --apart
 * 20-400: 7 races of 21 won by the earlier write).
 *
 * A restore or undo (a whole-file write on purpose) was timed when taken in whatever its age.
 *
 * The clock is the test's (Date alone is faked; timers and I/O are real), and every save's mtime is set
 * with utimes: the order asserted is the order of the mtimes set, never of how fast anything ran.
 */
import fs from 'node:fs/promises'
import path from 'node:path'
import { afterAll, afterEach, expect, it, vi } from 'vitest'
import { sha256hex } from '../../src/ids.js'
import { leaveIntent } from '../../src/space/versions/intent.js'
import { versionsDirOf } from '../../src/space/versions/index.js'
import { idle, removeSpaceDirs, SEED, seededPair, TODOS, writeFile } from './harness.js'

afterAll(removeSpaceDirs)
afterEach(() => void vi.useRealTimers())

type Node = Awaited<ReturnType<typeof seededPair>>['a']

/** Writes `text` as a save made at `mtimeMs` (this test's clock). */
async function save(n: Node, text: string, mtimeMs: number): Promise<void> {
  await writeFile(n.root, TODOS, text)
  await fs.utimes(path.join(n.root, TODOS), mtimeMs / 1000, mtimeMs / 1000)
}

/** `n`'s daemon takes the save in, as its watcher reports it (text and the mtime read with it). */
async function seen(n: Node, text: string, mtimeMs: number): Promise<void> {
  await n.s.onLocalFile(TODOS, text, sha256hex(text), mtimeMs)
  await idle(n.s)
}

async function exchange(from: Node, to: Node): Promise<void> {
  await to.s.applyRemote(TODOS, from.host().encodeDiff(TODOS, to.host().stateVector(TODOS))!, from.id)
  await idle(to.s)
}

/** On both peers: the file shows `shown`, and one conflict lists exactly `values` with `shown` its winner. */
async function expectRace(a: Node, b: Node, values: string[], shown: string): Promise<void> {
  const fa = await a.file()
  expect(await b.file()).toBe(fa)
  expect(fa).toContain(`title: ${shown}\n`)
  for (const [n, name] of [[a, 'a'], [b, 'b']] as const) {
    const cs = n.s.doc(TODOS).model.conflicts()
    expect(cs, name).toHaveLength(1)
    expect(cs[0]!.values.map((v) => v.value).sort(), name).toEqual([...values].sort())
    expect(cs[0]!.values[cs[0]!.winner - 1]!.value, name).toBe(shown)
  }
}

const titled = (t: string) => SEED.replace('title: second\n', `title: ${t}\n`)

for (const order of ['its watcher reports it before the update lands', 'the update lands first (its write-back finds the save)'] as const) {
  it(`b saves, a saves 20 ms later; both daemons see their save within 50 ms, b's later than a's (${order}): a's later write wins on both`, async () => {
    const { a, b } = await seededPair()
    vi.useFakeTimers({ toFake: ['Date'] })
    // A second on, so that b's write-back of the seed comes well before its save.
    const t0 = Date.now() + 1000
    vi.setSystemTime(t0)
    const [bText, aText] = [titled('second by b'), titled('second by a')]
    await save(b, bText, t0 - 30)
    await save(a, aText, t0 - 10)
    // a's daemon is prompt: a's save is 10 ms old when taken in.
    await seen(a, aText, t0 - 10)
    // b's is slower: its save (the earlier write) is taken in 15 ms after a's, 45 ms after it was written.
    vi.setSystemTime(t0 + 15)
    if (order === 'its watcher reports it before the update lands') {
      await seen(b, bText, t0 - 30)
      await exchange(a, b)
    } else {
      await exchange(a, b)
      await seen(b, bText, t0 - 30)
    }
    await exchange(b, a)
    await expectRace(a, b, ['second by a', 'second by b'], 'second by a')
    await Promise.all([a.close(), b.close()])
  })
}

for (const how of ['an mtime older than our write it replaced (carried by the writer)', 'a file system that keeps whole seconds'] as const) {
  it(`a's value is written into b's file, then b saves an older buffer over it, its file time before a's (${how}): b's later write wins on both`, async () => {
    const { a, b } = await seededPair()
    vi.useFakeTimers({ toFake: ['Date'] })
    const t0 = Math.floor(Date.now() / 1000) * 1000 + 2900
    vi.setSystemTime(t0)
    // a changes the title and t0's status; b's buffer (the seed) changes the title and t1's status, so it
    // reads as made from the seed, not as an edit of a's text: a race of the title, not an overwrite.
    const aText = titled('second by a').replace('title: first\n    status: todo', 'title: first\n    status: a')
    const bText = titled('second by b').replace('title: second by b\n    status: todo', 'title: second by b\n    status: b')
    await save(a, aText, t0 - 600)
    await seen(a, aText, t0 - 600)
    await exchange(a, b)
    expect(await b.file()).toBe(aText)
    // b saves after its daemon wrote a's value (t0), but its file says earlier than a's save.
    vi.setSystemTime(t0 + 50)
    const bAt = how === 'a file system that keeps whole seconds' ? t0 - 900 : t0 - 700.5
    await save(b, bText, bAt)
    await seen(b, bText, bAt)
    await exchange(b, a)
    await expectRace(a, b, ['second by a', 'second by b'], 'second by b')
    const fa = await a.file()
    expect(fa).toContain('title: first\n    status: a\n')
    expect(fa).toContain('title: second by b\n    status: b\n')
    await Promise.all([a.close(), b.close()])
  })
}

it("b restores the file (a whole-file write on purpose), a saves 20 ms later; b's daemon takes the restore in after a's save: a's later write wins on both", async () => {
  const { a, b } = await seededPair()
  vi.useFakeTimers({ toFake: ['Date'] })
  const t0 = Date.now() + 1000
  vi.setSystemTime(t0)
  const [restored, aText] = [titled('second (restored)'), titled('second by a')]
  await leaveIntent(versionsDirOf(b.root), TODOS, { h: sha256hex(restored).slice(0, 16), via: 'restore', at: t0 - 30 })
  await save(b, restored, t0 - 30)
  await save(a, aText, t0 - 10)
  await seen(a, aText, t0 - 10)
  vi.setSystemTime(t0 + 15)
  await seen(b, restored, t0 - 30)
  await exchange(a, b)
  await exchange(b, a)
  await expectRace(a, b, ['second (restored)', 'second by a'], 'second by a')
  await Promise.all([a.close(), b.close()])
})
