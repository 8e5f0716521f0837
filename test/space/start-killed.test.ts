/**
 * A peer's update applied at a start before the file's reconcile turn, then a kill before the write-back, then
 * an offline edit (crash-join.test.ts, seed 811475: the clone's `tick 71` raced A's tick on every peer and A's
 * `a-72` was deleted). At a start the daemon connects while its scan runs: an update can land while the file is
 * not looked at yet, and the text it held was not kept (only its hash was, from the last completed write). The
 * next start found the file changed (the user's append), no base text, and the model ahead: the edit was
 * diffed against nothing — every value re-authored, peers' items deleted. Now the rendering is kept as the base
 * before such an update when it is the last synced text (trackedfile.ts `keepBaseBeforeRemote`).
 */
import { afterAll, expect, it } from 'vitest'
import { idle, Node, pass, removeSpaceDirs, seededPair, SEED, TODOS } from './harness.js'

afterAll(removeSpaceDirs)

it("a peer's update stored before the start's reconcile, a kill, an offline append: the append is the only edit", async () => {
  const { a, b } = await seededPair()
  await b.close()
  const live = SEED.replace('title: first', 'title: first, by a') + '  - id: t2\n    title: from a\n    status: todo\n'
  await a.edit(live)
  await idle(a.s)
  // B starts and A's update arrives before any look at the file; B dies at its first write after the update.
  let stored = false
  await b.open((op) => stored || ((stored = op.op === 'append'), false))
  await b.s.applyRemote(TODOS, a.host().encodeDiff(TODOS, b.host().stateVector(TODOS))!, a.id).catch(() => undefined)
  await b.kill()
  expect(await b.file()).toBe(SEED)
  // The user appends to the file while no ctxsync runs.
  const own = '  - id: t3\n    title: from b\n    status: todo\n'
  await b.editOffline(SEED + own)
  await b.start()
  await pass(b, a)
  await pass(a, b)
  expect(await b.file()).toBe(live + own)
  expect(await a.file()).toBe(live + own)
  expect([...a.s.conflicts(), ...b.s.conflicts()]).toEqual([])
  await a.close()
  await b.close()
})
