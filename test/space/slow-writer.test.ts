/**
 * A save written in place in several writes (an editor writing a large buffer in chunks, an agent
 * streaming its output) while a peer's change arrives: the watcher reports the first part alone, which
 * parses, and the peer's change makes the daemon write the merge. Renaming over the file then would send
 * the writer's remaining bytes to the replaced inode: the rest of the save lost, on every peer. Found by the
 * live edit generator (test/e2e/edits-live.test.ts, CTXSYNC_LIVE_SEED=5151, a "chunked" save): the daemon
 * waits until a save that shrank the file has been left alone a moment before renaming over it (bounded:
 * see space/midsave.ts).
 */
import fs from 'node:fs'
import path from 'node:path'
import { afterAll, expect, it } from 'vitest'
import { sha256hex } from '../../src/ids.js'
import { idle, pass, removeSpaceDirs, SEED, seededPair, team, TODOS } from './harness.js'

afterAll(removeSpaceDirs)

const A_EDIT = SEED.replace('title: first\n    status: todo', 'title: first\n    status: done')
const HALF = SEED.replace('title: second\n    status: todo\n', 'title: second, edited\n')
const FULL = SEED.replace('title: second', 'title: second, edited') + '  - id: t3\n    title: added by b\n    status: todo\n'
const MERGED = FULL.replace('title: first\n    status: todo', 'title: first\n    status: done')

// A save that shrank the file and is still being written holds the write-back until it has been left alone
// a moment (space/midsave.ts, bounded): a ticker that writes again and again never waits (it does not shrink
// the file), which an earlier wait on every save starved (the crash test's ticker).
it('a peer change arriving mid-save waits for the writer: the whole save and the change both kept', async () => {
  const { a, b } = await seededPair()
  expect(await b.file()).toBe(SEED)
  await a.edit(A_EDIT)
  await idle(a.s)

  // b's writer: the first part written, the watcher reports it; the rest follows a moment later.
  const abs = path.join(b.root, TODOS)
  expect(FULL.startsWith(HALF)).toBe(true)
  const fd = fs.openSync(abs, 'w')
  fs.writeSync(fd, HALF)
  await b.s.onLocalFile(TODOS, HALF, sha256hex(HALF))
  const halfAt = fs.fstatSync(fd).mtimeMs
  const arrived = b.s.applyRemote(TODOS, a.host().encodeDiff(TODOS, b.host().stateVector(TODOS))!, a.id)
  // The writer's pace, not a wait for state: its second write comes 20 ms after the first.
  await new Promise((r) => setTimeout(r, 20))
  fs.writeSync(fd, FULL.slice(HALF.length))
  fs.closeSync(fd)
  await arrived
  // What the watcher reports next (the whole save), taken in as it would be.
  const now = fs.readFileSync(abs, 'utf8')
  await b.s.onLocalFile(TODOS, now, sha256hex(now))
  await idle(b.s)
  expect(await b.file()).toBe(MERGED)
  expect(fs.statSync(abs).mtimeMs - halfAt).toBeGreaterThanOrEqual(100)
  await Promise.all([a.close(), b.close()])
})

// Black-box tester (stop 29): `(head -n 5 new; sleep 2.5; tail -n +6 new) > F` while a peer edited left the file 5
// lines long on every peer ("this save removed 16 of 17 entries"). The first part held the writer's change, so it
// was no cut of the text before and was taken in, sent, and the peer's change renamed over the writer's file after
// midsave's bounded wait. A save that leaves less than half of the file is held like a cut (cuthold.ts): never
// sent while the writer may still be at it, nothing renamed over it, taken in once left alone CUT_SETTLE_MS.
it('a first part under half the file whose writer pauses for seconds (an agent streaming): never sent, nothing written over it; the whole save and a peer change both kept', { timeout: 20_000 }, async () => {
  const [a, b] = await team(['a', 'b'])
  const BIG = 'todos:\n' + Array.from({ length: 8 }, (_, i) => `  - id: t${i}\n    title: item ${i}\n    status: todo\n`).join('')
  await a.edit(BIG)
  await idle(a.s)
  await pass(a, b)
  await idle(b.s)
  expect(await b.file()).toBe(BIG)
  const FULL = BIG.replace('title: item 0', 'title: item 0, streamed')
  const PART = FULL.slice(0, FULL.indexOf('  - id: t2'))
  expect(PART.length * 2).toBeLessThan(BIG.length)
  const abs = path.join(b.root, TODOS)
  const fd = fs.openSync(abs, 'w')
  fs.writeSync(fd, PART)
  await b.s.onLocalFile(TODOS, PART, sha256hex(PART))
  await a.edit(BIG.replace('title: item 5\n    status: todo', 'title: item 5\n    status: done'))
  await idle(a.s)
  // (b is not waited idle here: its hold's look-again is a turn it would wait for.)
  await b.s.applyRemote(TODOS, a.host().encodeDiff(TODOS, b.host().stateVector(TODOS))!, a.id)
  // The part was not sent: ann still has every todo.
  await pass(b, a)
  await idle(a.s)
  expect((await a.file())!.match(/- id: /g), (await a.file())!).toHaveLength(8)
  // The writer's pace, not a wait for state: the rest comes 2.5 s later, into the same open file.
  await new Promise((r) => setTimeout(r, 2500))
  fs.writeSync(fd, FULL.slice(PART.length))
  fs.closeSync(fd)
  const now = fs.readFileSync(abs, 'utf8')
  expect(now).toBe(FULL)
  await b.s.onLocalFile(TODOS, now, sha256hex(now))
  await idle(b.s)
  const MERGED = FULL.replace('title: item 5\n    status: todo', 'title: item 5\n    status: done')
  expect(await b.file()).toBe(MERGED)
  await pass(b, a)
  await idle(a.s)
  expect(await a.file()).toBe(MERGED)
  await Promise.all([a.close(), b.close()])
})
