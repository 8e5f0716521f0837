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
import { idle, removeSpaceDirs, SEED, TODOS, type Node } from './harness.js'
import { gitAs, gitAsDaemon, mateCommits, pushedWorld, removeGitWorlds } from './gitworld.js'

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

/**
 * A checkout to a commit that *differs* in the file, then at once an edit (within the quiet period): git's
 * part is exactly the target commit's version (or, for `-m`, the merge of the uncommitted changes into it);
 * what the disk holds over that is the person's. Read as git's merge whole, the edit was lost (stop 31, open).
 */
it('a checkout back to an older commit (known content), then at once an edit: the edit is kept, the live context too', async () => {
  const { node: a } = await pushedWorld('ann', 'mate')
  const file = path.join(a.root, TODOS)
  await a.edit((await fs.readFile(file, 'utf8')).replace('title: second', 'title: second, committed later'))
  await idle(a.s)
  expect(await gitAsDaemon(a, ['commit', '-qam', 'later'], 'ann')).toBe('move')
  await gitThenEdit(a, ['checkout', '-q', 'HEAD~1'], (t) => t.replace(/title: first/, 'title: first, edited right after the checkout'))
  const text = (await a.file())!
  expect(text).toContain('first, edited right after the checkout')
  expect(text).toContain('second, committed later')
  await a.close()
})

it('a checkout of a teammate\'s commit (new content), then at once an edit: both are taken in', async () => {
  const { node: a, mate } = await pushedWorld('ann', 'mate')
  await mateCommits(mate, (t) => t.replace('title: second', 'title: second by mate'), 'mate')
  gitAs(a.root, ['fetch', '-q', 'origin'], 'ann')
  await gitThenEdit(a, ['checkout', '-q', '--detach', 'origin/main'], (t) => t.replace(/title: first/, 'title: first, edited right after the checkout'))
  const text = (await a.file())!
  expect(text).toContain('first, edited right after the checkout')
  expect(text).toContain('second by mate')
  await a.close()
})

const THREE = `${SEED}  - id: t2
    title: third
    status: todo
`

it('`checkout -m` back to an older commit over an uncommitted value, then at once an edit: the edit is kept, no older value comes back', async () => {
  const { node: a } = await pushedWorld('ann', 'mate', THREE)
  const file = path.join(a.root, TODOS)
  await a.edit((await fs.readFile(file, 'utf8')).replace('title: third', 'title: third, committed later'))
  await idle(a.s)
  expect(await gitAsDaemon(a, ['commit', '-qam', 'later'], 'ann')).toBe('move')
  await a.edit((await fs.readFile(file, 'utf8')).replace(/(id: t0\n\s+title: [^\n]*\n\s+status: )todo/, '$1doing'))
  await idle(a.s)
  await gitThenEdit(a, ['checkout', '-q', '-m', 'HEAD~1'], (t) => t.replace(/title: second/, 'title: second, edited right after the checkout'))
  const text = (await a.file())!
  expect(text).toContain('second, edited right after the checkout')
  expect(text).toContain('third, committed later')
  expect(text).toMatch(/id: t0\n\s+title: [^\n]*\n\s+status: doing/)
  await a.close()
})

// Black-box tester stop 32, finding 1: the edit changes the very value the checkout took back. The person
// had seen the newer value (it was on disk before the checkout): their edit is the later write, no race.
it('a checkout back to an older commit, then at once an edit of the value the checkout changed: the edit wins, no record', async () => {
  const { node: a } = await pushedWorld('ann', 'mate')
  const file = path.join(a.root, TODOS)
  await a.edit((await fs.readFile(file, 'utf8')).replace('title: second', 'title: second v2'))
  await idle(a.s)
  expect(await gitAsDaemon(a, ['commit', '-qam', 'v2'], 'ann')).toBe('move')
  await gitThenEdit(a, ['checkout', '-q', 'HEAD~1'], (t) => t.replace(/title: second\n/, 'title: second OLD-EDIT\n'))
  const text = (await a.file())!
  expect(text).toContain('title: second OLD-EDIT\n')
  expect(text).not.toContain('second v2')
  expect(a.s.conflicts()).toEqual([])
  await a.close()
})
