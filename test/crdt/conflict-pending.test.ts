/**
 * A save made while an update waits for one it depends on (the state incomplete, its rendering never
 * written). Yjs applies the waiting update's deletions at once: a later-wins copy's replacement of two raced
 * values deleted both before the copy itself arrived, and the register held no value. The save of that field
 * wrote over the empty register: its item's Yjs origin was the raced value the file never showed, which was
 * superseded with no record (converge free-for-all seed 1001: peer3's `done` gone, nothing listed).
 */
import * as Y from 'yjs'
import { expect, test } from 'vitest'
import { FileModel, LOCAL } from '../../src/crdt/model.js'
import { author } from './helpers.js'

const TODOS = 'todos:\n  - id: t1\n    title: One\n    status: todo\n'
const ADDED = (title: string, status: string) => `${TODOS}  - id: t2\n    title: ${title}\n    status: ${status}\n`

function peer(name: string, clientId: number, start: number): { m: FileModel; out: Uint8Array[] } {
  let tick = start
  const m = new FileModel({ name: '.rhema/todos.yaml', author: author(name), clientId, now: () => tick++ })
  m.load([FileModel.enrollment('.rhema/todos.yaml', TODOS)])
  m.setBase(m.render())
  const out: Uint8Array[] = []
  m.doc.on('update', (u: Uint8Array, origin: unknown) => origin === LOCAL && out.push(u))
  return { m, out }
}

const deliver = (to: FileModel, from: string, us: Uint8Array[]) => { for (const u of us) to.applyRemote(u, from) }

test('a save over a register a waiting update emptied records the raced value its file never showed', () => {
  // b's client id is the highest: Yjs keeps b's `done`; a's `in_progress` is the later write.
  const a = peer('a', 1000, 1_700_000_100)
  const b = peer('b', 3000, 1_700_000_000)
  const c = peer('c', 2000, 1_700_000_200)
  c.m.ingest(TODOS.replace('title: One', 'title: Uno'))
  const earlier = c.out.splice(0)
  a.m.ingest(ADDED('From a', 'in_progress'))
  b.m.ingest(ADDED('From b', 'done'))
  deliver(c.m, 'a', a.out)
  deliver(c.m, 'b', b.out)
  expect(c.m.render().text).toContain('status: in_progress')
  // c's copy of `in_progress` reaches a before c's earlier edit, and before b's `done`: the copy waits, its
  // deletion of `done` is applied once `done` arrives.
  const seenByA = a.m.baseText!
  deliver(a.m, 'c', c.out)
  deliver(a.m, 'b', b.out)
  expect(a.m.complete).toBe(false)
  a.m.ingest(seenByA.replace('status: in_progress', 'status: review'))
  deliver(a.m, 'c', earlier)
  expect(a.m.complete).toBe(true)
  for (const x of [b, c]) deliver(x.m, 'a', a.out)
  deliver(b.m, 'c', [...earlier, ...c.out])
  const listed = [a, b, c].map((x) => x.m.conflicts().filter((k) => k.path.join('.') === 'todos.t2.status'))
  for (const l of listed) expect(l).toEqual(listed[0])
  expect(listed[0]!.map((k) => k.values.map((v) => v.raw))).toEqual([['done', 'review']])
  for (const x of [a, b, c]) expect(x.m.render().text).toContain('status: review')
})
