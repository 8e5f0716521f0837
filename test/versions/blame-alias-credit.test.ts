/**
 * Blame of a field reached through an alias (`other: *base`, `<<: *base`) names the anchored field's writer,
 * the same on every peer (black-box tester stop 32, finding 8a: after two peers edited an anchored file at
 * once, bob's blame said `other.owner "bobby" bob, ann` and `items[id=K-1]["<<"].prio "med" (author not
 * recorded)` while ann's named one writer each). The CRDT holds an alias as the alias, so it could not say
 * who wrote a field under one, and a version naming both peers left the line vague.
 */
import { afterAll, expect, it } from 'vitest'
import * as Y from 'yjs'
import { FileDocStore } from '../../src/fs/sidecar.js'
import { asDocName } from '../../src/ids.js'
import { spacePaths } from '../../src/space/paths.js'
import { blameOf, versionsDirOf } from '../../src/space/versions/index.js'
import { idle, joinCode, Node, pass, removeSpaceDirs } from '../space/harness.js'

afterAll(removeSpaceDirs)

const K = asDocName('.rhema/knowledge.yaml')
const TEXT = `defaults: &base
  owner: ann
  prio: low
items:
  - id: K-1
    <<: *base
    title: one
other: *base
`

async function blame(n: Node): Promise<string[]> {
  await n.s.versions!.flushed()
  const store = new FileDocStore({ dir: spacePaths(n.root).docs })
  await store.append(K, n.host().encodeDiff(K, Y.encodeStateVector(new Y.Doc()))!)
  await store.close()
  return (await blameOf(n.root, versionsDirOf(n.root), K)).map((l) => `${l.path} ${l.value} ${l.authors.map((a) => a.name).join(', ') || `(${l.note ?? l.via})`}`)
}

it('fields under an alias are blamed on the anchored field\'s writer, alike on both peers, after edits made at once', async () => {
  const ann = await Node.make({ name: 'ann', files: { [K]: TEXT } })
  await ann.start()
  const bob = await Node.make({ name: 'bob', join: await joinCode(ann.root) })
  await bob.start()
  await pass(ann, bob, K)
  await ann.edit(TEXT.replace('owner: ann', 'owner: anna'), K)
  // bob's save and ann's change reach bob's daemon together: one turn, one version naming both.
  const u = ann.host().encodeDiff(K, bob.host().stateVector(K))!
  await Promise.all([bob.edit(TEXT.replace('prio: low', 'prio: med').replace('title: one', 'title: uno'), K), bob.s.applyRemote(K, u, ann.id)])
  await idle(bob.s)
  await pass(bob, ann, K)
  expect(await bob.file(K)).toBe(await ann.file(K))
  const want = [
    'defaults.owner "anna" ann', 'defaults.prio "med" bob', 'items[id=K-1].id "K-1" ann',
    'items[id=K-1]["<<"].owner "anna" ann', 'items[id=K-1]["<<"].prio "med" bob', 'items[id=K-1].title "uno" bob',
    'other.owner "anna" ann', 'other.prio "med" bob',
  ]
  expect(await blame(ann)).toEqual(want)
  expect(await blame(bob)).toEqual(want)
  await ann.close()
  await bob.close()
})
