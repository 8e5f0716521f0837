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
import { idle, removeSpaceDirs, SEED, seededPair, TODOS } from './harness.js'

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
