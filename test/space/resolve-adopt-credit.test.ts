/**
 * A resolution of a record the merge driver made (and this clone's daemon adopted) is a 'resolve' version
 * on the adopting clone too, naming the kept value's writer, kept by the resolver (black-box tester stop 32,
 * finding 8c: after bob's `resolve --take 1`, ann's history said 'bob, ann' with no '(conflict resolved:
 * kept by bob)'). The cause: the adoption (crdt/merge/place.ts adoptConflict) writes the merge's value
 * again under this clone's client in a local transaction that leaves the text as it was; the recorder
 * (versions/recorder.ts) counts it as a local edit (#local) and, the text unchanged, keeps it pending
 * until the next version: the resolution's, then 'local' by [tina, ann]; now such a turn is no edit. The driver is the built CLI's, as git runs it (`npm run build`).
 */
import fs from 'node:fs/promises'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { afterAll, expect, it } from 'vitest'
import { historyOf, versionsDirOf } from '../../src/space/versions/index.js'
import { idle, pass, removeSpaceDirs, SEED, TODOS } from './harness.js'
import { gitAs, gitAsDaemon, joinedPeer, pushedWorld, removeGitWorlds } from './gitworld.js'

afterAll(async () => {
  await removeSpaceDirs()
  await removeGitWorlds()
})

const BIN = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../bin/ctxsync')

it("bob keeps tina's pulled value of a record ann's pull made: ann's history says the resolution, kept by bob", async () => {
  const { node: ann, mate: tina } = await pushedWorld('ann', 'tina')
  gitAs(ann.root, ['config', 'merge.ctxsync.driver', `node ${BIN} merge-driver %O %A %B %P`], 'ann')
  await fs.writeFile(path.join(ann.root, '.git/info/attributes'), '*.yaml merge=ctxsync\n')
  const bob = await joinedPeer(ann)
  const f = path.join(tina, TODOS)
  await fs.writeFile(f, (await fs.readFile(f, 'utf8')).replace('title: first', 'title: B-offline'))
  gitAs(tina, ['commit', '-qam', 'offline title'], 'tina')
  gitAs(tina, ['push', '-q'], 'tina')
  await ann.edit(SEED.replace('title: first', 'title: A-live'))
  await pass(ann, bob)
  // ann pulls over her uncommitted live edit: the driver applies the autostash, a record the daemon adopts.
  await gitAsDaemon(ann, ['-c', 'merge.autoStash=true', 'pull', '-q', '--no-rebase', 'origin', 'main'], 'ann')
  await pass(ann, bob)
  await pass(bob, ann)
  const c = bob.s.conflicts()[0]!
  expect(c.values.map((v) => `${v.value}:${v.author.name}`).sort()).toEqual(['A-live:ann', 'B-offline:tina'])
  await bob.s.resolve(c.id, c.values.findIndex((v) => v.value === 'B-offline') + 1)
  await idle(bob.s)
  await pass(bob, ann)
  await idle(ann.s)
  for (const n of [bob, ann]) {
    await n.s.versions!.flushed()
    const e = (await historyOf(versionsDirOf(n.root), { doc: TODOS }))[0]!
    expect({ at: n.s.author.name, via: e.via, by: e.authors.map((a) => a.name), kept: e.keptBy?.name }).toEqual({ at: n.s.author.name, via: 'resolve', by: ['tina'], kept: 'bob' })
  }
  await ann.close()
  await bob.close()
})
