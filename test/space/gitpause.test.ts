/**
 * A peer's update that arrives while git works waits in the CRDT (the space is paused) and is written once git
 * is done; a race with what git did is recorded with the live competitors only. A pull over an uncommitted edit (git's autostash) took the disk's merge as an edit of the file
 * "before the pull" — read from the live context, which by then held the peer's update the disk never had — so
 * the update was read as undone by the person and rolled back on every peer (git schedule generator, seeds 1, 8).
 */
import { afterAll, expect, it } from 'vitest'
import { idle, pass, removeSpaceDirs, TODOS } from './harness.js'
import { gitAsDaemon, joinedPeer, mateCommits, pushedWorld, removeGitWorlds } from './gitworld.js'

afterAll(async () => {
  await removeSpaceDirs()
  await removeGitWorlds()
})

it('a peer\'s update arriving while a pull (autostash over an uncommitted edit) runs is kept, with the pulled and the uncommitted value', async () => {
  const { node: pat, mate: tina } = await pushedWorld('pat', 'tina')
  const bob = await joinedPeer(pat)
  await mateCommits(tina, (t) => t.replace('title: second', 'title: second by tina'), 'tina')
  await pat.edit((await pat.file())!.replace('status: todo', 'status: doing'))
  await bob.edit((await bob.file())!.replace('title: first', 'title: first by bob'))
  await idle(bob.s)
  await gitAsDaemon(pat, ['-c', 'merge.autoStash=true', 'pull', '-q', '--no-rebase', '--no-edit', 'origin', 'main'], 'pat', () => pass(bob, pat))
  await pass(pat, bob)
  const text = (await pat.file())!
  for (const v of ['first by bob', 'second by tina', 'status: doing']) expect(text).toContain(v)
  expect(await bob.file()).toBe(text)
  expect(pat.s.conflicts()).toEqual([])
  await pat.close()
  await bob.close()
})

// KNOWN OPEN (black-box retest stop 32, N3): the record also lists P4-7, which bob's own P4-8 replaced. The
// revert's stale-save record names P4-7 by an `s` id, which the rule "a write has seen its client's earlier
// writes" (heads.ts plainId) leaves out; counting `s` ids there collapsed a merge-driver record of the puller's
// own client (resolve-adopt-credit). Red once fixed: make it `it`.
it.fails('`git checkout -- FILE` while a peer edits the value twice (the first arriving while git works): the record lists the revert and the peer\'s last value, not the one it replaced itself', async () => {
  const { node: pat, mate: tina } = await pushedWorld('pat', 'tina')
  const bob = await joinedPeer(pat)
  await mateCommits(tina, (t) => t.replace('title: first', 'title: dan-p3'), 'dan')
  await gitAsDaemon(pat, ['pull', '-q', '--no-rebase', 'origin', 'main'], 'pat')
  await pass(pat, bob)
  const bobSets = async (from: string, to: string) => {
    await bob.edit((await bob.file())!.replace(`title: ${from}`, `title: ${to}`))
    await idle(bob.s)
  }
  await bobSets('dan-p3', 'P4-6')
  await pass(bob, pat)
  await bobSets('P4-6', 'P4-7')
  await gitAsDaemon(pat, ['checkout', '--', TODOS], 'pat', async () => {
    await pass(bob, pat) // P4-7 reaches pat while git works: the revert never showed it
    await new Promise((r) => setTimeout(r, 15)) // (ms times: P4-8 is the later write)
    await bobSets('P4-7', 'P4-8')
  })
  await pass(bob, pat)
  await pass(pat, bob)
  expect(await bob.file()).toBe(await pat.file())
  for (const n of [pat, bob]) expect(n.s.conflicts().map((c) => c.values.map((v) => v.raw).sort())).toEqual([['P4-8', 'dan-p3']])
  await pat.close()
  await bob.close()
})
