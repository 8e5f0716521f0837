/**
 * Two members joining at once, who meet each other before either has the live state (a ring of new
 * clones; the network-faults test, seeds 849007/849008 under load). An exchange with a fellow joiner
 * completes but brings nothing: it must not end the join. Ended there, the member enrolled its files as
 * new to the space — a second authorship of every value next to the live one — and once the live state
 * came, one of the two won whole: the member's edits, made on the losing one, were undone ("own edits
 * re-applied": a retitle reverted, a deleted item coming back at every save).
 */
import { afterAll, expect, it } from 'vitest'
import { finishJoin, isJoining } from '../../src/space/join.js'
import { idle, Node, removeSpaceDirs, SEED, TODOS } from './harness.js'
import { exchange, git, liveWithTemplate, memberCopy, removeCloneDirs } from './joinRig.js'
import path from 'node:path'

afterAll(async () => {
  await removeSpaceDirs()
  await removeCloneDirs()
})

it('a member that met only a fellow joiner keeps joining; its edit survives once the live state comes', async () => {
  const { a, template, parent } = await liveWithTemplate(SEED)
  const head = git(a.root, ['rev-parse', 'HEAD']).trim()
  const [c1, c2] = await Promise.all(['c1', 'c2'].map(async (n) => new Node(await memberCopy(template, path.join(parent, n), head))))
  await c1!.start()
  await c2!.start()
  // c1 and c2 meet: nothing to exchange, neither has the live state.
  await exchange(c1!, c2!)
  expect(await finishJoin(c1!.s)).toBe(false)
  expect(await isJoining(c1!.root)).toBe(true)
  expect(c1!.s.doc(TODOS)?.model.isEmpty ?? true).toBe(true)
  // c1's member edits its file, then the live state reaches it.
  const mine = SEED.replace('title: first', 'title: first, retitled by c1')
  await c1!.edit(mine)
  await idle(c1!.s)
  await exchange(a, c1!)
  expect(await finishJoin(c1!.s)).toBe(true)
  await exchange(a, c1!)
  await exchange(c1!, c2!)
  await exchange(a, c2!)
  await finishJoin(c2!.s)
  for (const n of [a, c1!, c2!]) {
    expect(await n.file(), n.root).toBe(mine)
    expect(n.s.conflicts(), n.root).toEqual([])
  }
  for (const n of [a, c1!, c2!]) await n.close()
})
