/**
 * A commit's value the live context had held and replaced since is no news to the merge driver applying an
 * autostash (mergesupersede.ts, join-checkout.test.ts), but a teammate's commit that a live edit never saw is
 * a race, whatever their times: 17aab64 judged "superseded" by time alone (the live value written after the
 * commit) and the race's record was lost (e2e history-merge-resolve; reverted in 83460f6). Here, in process,
 * as git runs the driver, with the stash git's autostash holds.
 */
import { afterAll, expect, it } from 'vitest'
import { FileDocStore } from '../../src/fs/sidecar.js'
import { spacePaths } from '../../src/space/paths.js'
import { driverMerge, pass, removeSpaceDirs, TODOS } from './harness.js'
import { gitAs, joinedPeer, mateCommits, pushedWorld, removeGitWorlds } from './gitworld.js'

afterAll(async () => {
  await removeSpaceDirs()
  await removeGitWorlds()
})

it('the merge driver applying an autostash over a teammate\'s commit that the live edit never saw: the race is recorded', async () => {
  const { node: pat, mate: tina } = await pushedWorld('pat', 'tina')
  const bob = await joinedPeer(pat)
  // Committed an hour ago, offline (as in e2e history-merge-resolve): older than bob's live edit.
  await mateCommits(tina, (t) => t.replace('title: first', 'title: first by tina'), 'tina', [`--date=${new Date(Date.now() - 3600_000).toISOString()}`])
  await bob.edit((await bob.file())!.replace('title: first', 'title: first by bob'))
  await pass(bob, pat)
  const live = (await pat.file())!
  expect(live).toContain('first by bob')
  // A daemon's CRDT is on disk, where the driver reads it; the harness keeps it in memory: written there.
  const store = new FileDocStore({ dir: spacePaths(pat.root).docs })
  await store.append(TODOS, pat.host().encodeDiff(TODOS, new Uint8Array([0]))!)
  await store.close()
  await pat.close()
  await bob.close()
  const base = gitAs(pat.root, ['show', `HEAD:${TODOS}`], 'pat')
  gitAs(pat.root, ['stash', '-q'], 'pat')
  gitAs(pat.root, ['pull', '-q', '--ff-only', 'origin', 'main'], 'pat')
  const ours = gitAs(pat.root, ['show', `HEAD:${TODOS}`], 'pat')
  const r = await driverMerge(pat, base, ours, live)
  expect(r.conflicts, r.said.join('\n')).toBe(1)
})
