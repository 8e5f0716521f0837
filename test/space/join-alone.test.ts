/**
 * A new member that has met no peer yet, after any git command (black-box tester stop 33, N1: `init --join` on
 * an old checkout, `watch` with every peer unreachable; the daemon's log said "deleted .rhema/todos.yaml (deleted
 * by a peer)" after a `git status`, and the offline edit in the file was gone). The file awaits the live state
 * with nothing in its model; the git watch's write-back after git is done wrote that empty model — no file — and
 * removed it. A document with no state at all has nothing to write.
 */
import fs from 'node:fs/promises'
import path from 'node:path'
import { afterAll, expect, it } from 'vitest'
import { isJoining } from '../../src/space/join.js'
import { Node, removeSpaceDirs, TODOS } from './harness.js'
import { git, liveWithTemplate, memberCopy, removeCloneDirs } from './joinRig.js'
import { gitAsDaemon } from './gitworld.js'

afterAll(async () => {
  await removeCloneDirs()
  await removeSpaceDirs()
})

it('a joining clone that met no peer keeps its file, and its offline edit, through git commands', async () => {
  const { a, template, parent } = await liveWithTemplate('todos:\n  - id: T-1\n    title: Set up CI\n    status: todo\n')
  const c = new Node(await memberCopy(template, path.join(parent, 'gil'), git(a.root, ['rev-parse', 'HEAD']).trim()))
  await a.close() // every peer unreachable
  const edited = (await c.file())!.replace('title: Set up CI', 'title: Set up CI, gil offline')
  await c.editOffline(edited)
  await c.start()
  expect(await isJoining(c.root)).toBe(true)
  for (const args of [['status', '--short'], ['fetch', '-q', 'origin']]) {
    await gitAsDaemon(c, args, 'gil')
    expect(await c.file(), `after git ${args[0]}`).toBe(edited)
  }
  expect(await fs.stat(path.join(c.root, TODOS)).then(() => true)).toBe(true)
  await c.close()
})
