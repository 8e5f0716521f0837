/**
 * An edit made while no daemon ran is timed when it was saved (the file's mtime), not when the daemon
 * started again: an older offline value beat a newer live one on every peer (black-box tester: the agent's
 * offline 'agent-offline', saved before ann's live 'ann-live', showed everywhere once its daemon restarted).
 * The later edit shows; the earlier is kept in the conflict record.
 */
import fs from 'node:fs'
import path from 'node:path'
import { afterAll, expect, it } from 'vitest'
import { idle, removeSpaceDirs, SEED, seededPair, TODOS } from './harness.js'
import { exchange } from './joinRig.js'

afterAll(removeSpaceDirs)

it('an offline save older than a live edit of the same field: the live one shows, the offline one is recorded', async () => {
  const { a, b } = await seededPair()
  await b.close()
  // b's edit, saved a minute ago while its daemon was down
  const offline = SEED.replace('title: first\n    status: todo', 'title: first\n    status: b-offline')
  await b.editOffline(offline)
  const minuteAgo = new Date(Date.now() - 60_000)
  fs.utimesSync(path.join(b.root, TODOS), minuteAgo, minuteAgo)
  // a's live edit of the same field, now
  const live = SEED.replace('title: first\n    status: todo', 'title: first\n    status: a-live')
  await a.edit(live)
  await idle(a.s)
  await b.start()
  await exchange(a, b)
  await exchange(b, a)
  expect(await a.file()).toBe(live)
  expect(await b.file()).toBe(live)
  for (const n of [a, b]) expect(n.s.conflicts().map((c) => c.values.map((v) => v.raw))).toEqual([['b-offline', 'a-live']])
  for (const n of [a, b]) await n.close()
})
