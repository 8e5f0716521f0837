/**
 * Simultaneous overwrites on live peers (issue 13 item 6; bench/simultaneous.mjs finds them through the CLI).
 * Two people change one value at about the same time; each daemon takes its own save in when its queue gets
 * to it — after a peer's write-back, a sidecar fsync, under load: 100 to 800 ms after the write in the bench.
 * The later *write* must win on every peer, both values stay in the record, and neither person is told
 * their save "was made from an older version": the file they edited was the newest on disk, it just had
 * not shown the peer's value yet.
 */
import fs from 'node:fs'
import path from 'node:path'
import { afterAll, expect, it } from 'vitest'
import { sha256hex } from '../../src/ids.js'
import { idle, removeSpaceDirs, SEED, seededPair, TODOS, writeFile } from './harness.js'

afterAll(removeSpaceDirs)

const A_TEXT = SEED.replace('title: second', 'title: second by a')
const B_TEXT = SEED.replace('title: second', 'title: second by b')

// b saves first; a saves a moment later and a's daemon takes it in at once; b's daemon is slow: a's update
// reaches it before it gets to b's save (its write-back of a's value finds the file changed, or the
// watcher's event comes later). b's save was then taken in as a stale buffer and won, timed by when it
// was taken in: a's later write lost, and b was told its save was made from an older version.
// An in-place writer (truncate, then write) is first seen empty: the file is held a moment as cut short.
for (const order of ['the write-back finds the save', 'the watcher reports the save', 'the save is seen cut short first'] as const) {
  it(`b writes first, a later; a's update reaches b before b's save is taken in (${order}): a's later write wins on both`, async () => {
    const { a, b } = await seededPair()
    const stale: unknown[] = []
    b.s.on('stale-save', (_name: string, s: unknown) => stale.push(s))
    a.s.on('stale-save', (_name: string, s: unknown) => stale.push(s))
    if (order === 'the save is seen cut short first') {
      await writeFile(b.root, TODOS, '')
      await b.s.onLocalFile(TODOS, '', sha256hex(''))
    }
    await writeFile(b.root, TODOS, B_TEXT)
    const bAt = fs.statSync(path.join(b.root, TODOS)).mtimeMs
    // A wall-clock gap between the two writes is the point: each write's own time must decide.
    await new Promise((r) => setTimeout(r, 60))
    await a.edit(A_TEXT)
    await idle(a.s)
    expect(fs.statSync(path.join(a.root, TODOS)).mtimeMs).toBeGreaterThan(bAt)
    await b.s.applyRemote(TODOS, a.host().encodeDiff(TODOS, b.host().stateVector(TODOS))!, a.id)
    if (order !== 'the write-back finds the save') await b.s.onLocalFile(TODOS, B_TEXT, sha256hex(B_TEXT))
    await idle(b.s)
    await a.s.applyRemote(TODOS, b.host().encodeDiff(TODOS, a.host().stateVector(TODOS))!, b.id)
    await idle(a.s)
    for (const n of [a, b]) {
      expect(await n.file(), n === a ? "a" : "b").toBe(A_TEXT)
      const [c, ...more] = n.s.doc(TODOS).model.conflicts()
      expect(more, n === a ? "a" : "b").toEqual([])
      expect(c!.values.map((v) => v.value).sort()).toEqual(['second by a', 'second by b'])
      expect(c!.values[c!.winner - 1]!.value).toBe('second by a')
    }
    expect(stale).toEqual([])
    await Promise.all([a.close(), b.close()])
  })
}
