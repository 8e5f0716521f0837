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

type Node = Awaited<ReturnType<typeof seededPair>>['a']
type Order = 'the write-back finds the save' | 'the watcher reports the save' | 'the save is seen cut short first' | 'the update lands while the save is taken in'

// b saves first; a saves a moment later and a's daemon takes it in at once; b's daemon is slow: a's update
// reaches it before it gets to b's save (its write-back of a's value finds the file changed, or the
// watcher's event comes later). b's save was then taken in as a stale buffer and won, timed by when it
// was taken in: a's later write lost, and b was told its save was made from an older version.
// An in-place writer (truncate, then write) is first seen empty: the file is held a moment as cut short.
async function waitFor(ok: () => boolean): Promise<void> {
  while (!ok()) await new Promise((r) => setImmediate(r))
}

async function race(a: Node, b: Node, title: string, order: Order): Promise<void> {
  const base = (await a.file())!
  expect(await b.file()).toBe(base)
  const [aText, bText] = ['a', 'b'].map((n) => base.replace(`title: ${title}\n`, `title: ${title} by ${n}\n`)) as [string, string]
  const stale: unknown[] = []
  const said = (_name: string, s: unknown) => stale.push(s)
  a.s.on('stale-save', said)
  b.s.on('stale-save', said)
  if (order === 'the save is seen cut short first') {
    await writeFile(b.root, TODOS, '')
    await b.s.onLocalFile(TODOS, '', sha256hex(''))
  }
  await writeFile(b.root, TODOS, bText)
  const bAt = fs.statSync(path.join(b.root, TODOS)).mtimeMs
  const opsBefore = b.store!.ops.length
  // A wall-clock gap between the two writes is the point: each write's own time must decide.
  await new Promise((r) => setTimeout(r, 60))
  await a.edit(aText)
  await idle(a.s)
  expect(fs.statSync(path.join(a.root, TODOS)).mtimeMs).toBeGreaterThan(bAt)
  // Peers' updates are applied as they come, between the steps of a save's turn (its awaits).
  const taking = order === 'the update lands while the save is taken in' ? b.s.onLocalFile(TODOS, bText, sha256hex(bText)) : null
  // Until the save's turn has begun (the state it keeps before taking the save in is being stored).
  if (taking) await waitFor(() => b.store!.ops.length > opsBefore)
  await b.s.applyRemote(TODOS, a.host().encodeDiff(TODOS, b.host().stateVector(TODOS))!, a.id)
  await taking
  if (order === 'the watcher reports the save' || order === 'the save is seen cut short first') await b.s.onLocalFile(TODOS, bText, sha256hex(bText))
  await idle(b.s)
  await a.s.applyRemote(TODOS, b.host().encodeDiff(TODOS, a.host().stateVector(TODOS))!, b.id)
  await idle(a.s)
  for (const [n, name] of [[a, 'a'], [b, 'b']] as const) {
    expect(await n.file(), name).toBe(aText)
    const mine = n.s.doc(TODOS).model.conflicts().filter((c) => c.values.some((v) => v.value === `${title} by a`))
    expect(mine, name).toHaveLength(1)
    const [c] = mine
    expect(c!.values.map((v) => v.value).sort()).toEqual([`${title} by a`, `${title} by b`])
    expect(c!.values[c!.winner - 1]!.value).toBe(`${title} by a`)
  }
  a.s.off('stale-save', said)
  b.s.off('stale-save', said)
  expect(stale).toEqual([])
}

for (const order of ['the write-back finds the save', 'the watcher reports the save', 'the save is seen cut short first', 'the update lands while the save is taken in'] as const) {
  it(`b writes first, a later; a's update reaches b before b's save is taken in (${order}): a's later write wins on both`, async () => {
    const { a, b } = await seededPair()
    await race(a, b, 'second', order)
    await Promise.all([a.close(), b.close()])
  })
}

it('a second race after a first: the same, and still no stale-save wording', async () => {
  const { a, b } = await seededPair()
  await race(a, b, 'second', 'the watcher reports the save')
  await race(a, b, 'first', 'the watcher reports the save')
  await race(a, b, 'second by a', 'the write-back finds the save')
  await Promise.all([a.close(), b.close()])
})
