/**
 * A save written in place in several writes (an editor writing a large buffer in chunks, an agent
 * streaming its output) while a peer's change arrives: the watcher reports the first part alone, which
 * parses, and the peer's change makes the daemon write the merge. Renaming over the file then would send
 * the writer's remaining bytes to the replaced inode: the rest of the save lost, on every peer. Found by the
 * live edit generator (test/e2e/edits-live.test.ts, CTXSYNC_LIVE_SEED=5151, a "chunked" save): the daemon
 * waits until a save of someone else's has been left alone a moment before renaming over it
 * (an `untilQuiet` wait in writeText was tried and removed: it starved write-backs, see below).
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

// OPEN (issue 13): waiting for a writer to go quiet before renaming over its save starved write-backs under a
// file written again and again (the crash test's ticker: a sync's changes never reached the file in 10 s). A
// truncation caught mid-save is held (reconcile.ts); a first half that parses is still taken in. Known bug.
it.fails('KNOWN BUG (open): a peer change arriving mid-save waits for the writer: the whole save and the change both kept', async () => {
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
