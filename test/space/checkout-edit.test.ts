/**
 * An edit saved right after a checkout that left the file alone (`git switch -c x`, `git checkout -b x`, a
 * switch between commits that agree on the file) is the person's, not git's merge (black-box tester, stop 31,
 * finding 3: an agent's `git switch -c feature && sed -i …`). It fell in the git watch's quiet period and was
 * read as what `checkout -m` leaves — the commit's version merged with changes the live context holds — so
 * the live text was written over it: the edit was lost on every peer, and the log said git rewrote the file.
 */
import fs from 'node:fs/promises'
import path from 'node:path'
import { afterAll, expect, it } from 'vitest'
import { idle, removeSpaceDirs, TODOS, type Node } from './harness.js'
import { gitAs, gitAsDaemon, pushedWorld, removeGitWorlds } from './gitworld.js'

afterAll(async () => {
  await removeGitWorlds()
  await removeSpaceDirs()
})

/** `args` run as the daemon sees a git command, with `edit` saved before its quiet period ended. */
async function gitThenEdit(n: Node, args: string[], edit: (text: string) => string): Promise<void> {
  const file = path.join(n.root, TODOS)
  expect(await gitAsDaemon(n, args, 'ann', async () => fs.writeFile(file, edit(await fs.readFile(file, 'utf8'))))).toBe('move')
}

it.each([
  ['switch -c', ['switch', '-q', '-c', 'feature']],
  ['checkout -b', ['checkout', '-q', '-b', 'feature']],
])('an edit saved right after `git %s` is kept: the model holds it (what the peers get) and the file stays as saved', async (_what, args) => {
  const { node: a } = await pushedWorld('ann', 'mate')
  await gitThenEdit(a, args, (t) => t.replace(/title: ([^\n]*)/, 'title: edited right after the switch'))
  const text = (await a.file())!
  expect(text).toContain('edited right after the switch')
  expect(await fs.readFile(path.join(a.root, TODOS), 'utf8')).toBe(text)
  await a.close()
})

it('a switch to a commit that agrees on the file: the edit saved right after it is kept', async () => {
  const { node: a } = await pushedWorld('ann', 'mate')
  gitAs(a.root, ['switch', '-q', '-c', 'other'], 'ann')
  await fs.writeFile(path.join(a.root, 'NOTES.md'), 'not tracked by the space\n')
  gitAs(a.root, ['add', 'NOTES.md'], 'ann')
  gitAs(a.root, ['commit', '-qm', 'notes'], 'ann')
  await a.s.scan()
  await idle(a.s)
  await gitThenEdit(a, ['switch', '-q', 'main'], (t) => t.replace(/title: ([^\n]*)/, 'title: edited after switching back'))
  expect((await a.file())!).toContain('edited after switching back')
  await a.close()
})
