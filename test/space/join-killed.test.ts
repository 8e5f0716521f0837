/**
 * A joining clone killed between its first complete exchange and its file's join (e2e crash.test.ts › watch,
 * CI at 449ddbc: B's old `tick 0` came back as its edit, a conflict with A's live tick on both peers, and an
 * item A had added since was gone). `finishJoin` removed the `joining` marker before the files that
 * waited were joined; the peer's state was already stored. The next start had state, no marker and a file
 * this machine had never synced, so the committed text was taken in as an offline edit made from nothing.
 * The rule: a file whose state came from peers but which this machine never synced still joins (its base
 * the checkout's version), marker or not.
 */
import fs from 'node:fs/promises'
import path from 'node:path'
import { afterAll, expect, it } from 'vitest'
import { spacePaths } from '../../src/space/paths.js'
import { idle, removeSpaceDirs, TODOS } from './harness.js'
import { exchange, liveWithTemplate, memberCopy, removeCloneDirs } from './joinRig.js'
import { Node } from './harness.js'

afterAll(async () => {
  await removeCloneDirs()
  await removeSpaceDirs()
})

const SEED = `# Todos
todos:
  - id: ticker
    title: "tick 0"
    status: open
`

it('a clone killed after its first exchange but before its file joined: the next start joins it, no conflict, nothing rolled back', async () => {
  const { a, template, parent } = await liveWithTemplate(SEED)
  // The live context moves on past the commit the clone holds.
  const live = SEED.replace('tick 0', 'tick 7') + '  - id: a-8\n    title: "added by a"\n    status: open\n'
  await a.edit(live)
  await idle(a.s)
  const head = (await fs.readFile(path.join(a.root, '.git', 'HEAD'), 'utf8')).trim()
  const c = new Node(await memberCopy(template, path.join(parent, 'c'), head.startsWith('ref:') ? 'origin/HEAD' : head))
  // Its own change, made before it ever ran (as the crash test appends B's todos while B is down).
  const own = (await c.file())! + '  - id: b-0\n    title: "added by b"\n    status: open\n'
  await c.editOffline(own)
  // The peer's state arrived and was stored, and the process died before the file's join, with the marker
  // gone (finishJoin removed it first): what the next start finds.
  await c.mem.append(TODOS, a.host().encodeDiff(TODOS, new Uint8Array([0]))!)
  await fs.rm(path.join(spacePaths(c.root).state, 'joining'))
  await c.start()
  await exchange(a, c)
  await Promise.all([idle(a.s), idle(c.s)])
  const want = live + '  - id: b-0\n    title: "added by b"\n    status: open\n'
  expect(await c.file()).toBe(want)
  expect(await a.file()).toBe(want)
  expect([...a.s.conflicts(), ...c.s.conflicts()]).toEqual([])
  await c.close()
  await a.close()
})
