/**
 * A peer's update that arrives while git works waits in the CRDT (the space is paused) and is written once git
 * is done. A pull over an uncommitted edit (git's autostash) took the disk's merge as an edit of the file
 * "before the pull" — read from the live context, which by then held the peer's update the disk never had — so
 * the update was read as undone by the person and rolled back on every peer (git schedule generator, seeds 1, 8).
 */
import fs from 'node:fs/promises'
import path from 'node:path'
import { afterAll, expect, it } from 'vitest'
import { idle, joinCode, Node, pass, removeSpaceDirs, TODOS } from './harness.js'
import { gitAs, gitAsDaemon, pushedWorld, removeGitWorlds } from './gitworld.js'

afterAll(async () => {
  await removeSpaceDirs()
  await removeGitWorlds()
})

it('a peer\'s update arriving while a pull (autostash over an uncommitted edit) runs is kept, with the pulled and the uncommitted value', async () => {
  const { node: pat, mate: tina } = await pushedWorld('pat', 'tina')
  const bob = await Node.make({ name: 'bob', join: await joinCode(pat.root) })
  await bob.start()
  await pass(pat, bob)
  const f = path.join(tina, TODOS)
  await fs.writeFile(f, (await fs.readFile(f, 'utf8')).replace('title: second', 'title: second by tina'))
  gitAs(tina, ['commit', '-qam', 'tina'], 'tina')
  gitAs(tina, ['push', '-q', 'origin', 'main'], 'tina')
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
