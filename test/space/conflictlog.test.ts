/**
 * The daemon's conflict lines (space/conflictlog.ts): a conflict is said once when it appears, from this
 * machine's point of view (yours / the peer's, which value the file keeps, the command that keeps the
 * other), and once when it goes; a burst of changes is one check.
 */
import { expect, it } from 'vitest'
import type { Conflict } from '../../src/crdt/present.js'
import { appeared, logConflicts } from '../../src/space/conflictlog.js'

const conflict = (id: string, winner = 2): Conflict => ({
  id, file: '.rhema/todos.yaml', kind: 'value', path: ['todos', 0, 'status'], display: 'todos[id=t1].status', winner,
  values: [
    { value: 'done', raw: 'done', author: { id: 'p-ann', name: 'ann', kind: 'human' }, at: null },
    { value: 'blocked', raw: 'blocked', author: { id: 'p-bob', name: 'bob', kind: 'human' }, at: null },
  ],
})

it('says who changed what, which value the file keeps and how to keep the other', () => {
  expect(appeared(conflict('c1'), 'p-bob')).toBe(
    'conflict in .rhema/todos.yaml, todos[id=t1].status: ann and you changed it at once; the file keeps yours (blocked). To keep ann\'s (done): `ctxsync resolve c1 --take 1`',
  )
  expect(appeared(conflict('c1'), 'p-ann')).toBe(
    'conflict in .rhema/todos.yaml, todos[id=t1].status: you and bob changed it at once; the file keeps bob\'s (blocked). To keep yours (done): `ctxsync resolve c1 --take 1`',
  )
})

/** A space whose documents change on demand (`changed`: three 'changed' events in a burst, then a wait). */
function fakeSpace(list: () => Conflict[]) {
  const on = new Map<string, Array<(doc: string) => void>>()
  const space = { identity: { id: 'p-bob' }, conflicts: list, on: (e: string, l: (doc: string) => void) => on.set(e, [...(on.get(e) ?? []), l]) }
  const changed = async () => {
    for (let i = 0; i < 3; i++) for (const l of on.get('changed') ?? []) l('.rhema/todos.yaml')
    await new Promise((r) => setTimeout(r, 1700))
  }
  return { space, changed }
}

it('a conflict is said once when it appears and once when it is resolved', async () => {
  let now: Conflict[] = []
  const { space, changed } = fakeSpace(() => now)
  const said: string[] = []
  const stop = logConflicts(space, (l) => said.push(l))
  now = [conflict('c1')]
  await changed()
  await changed()
  now = []
  await changed()
  stop()
  expect(said).toEqual([expect.stringMatching(/^conflict in \.rhema\/todos\.yaml/), 'conflict c1 resolved (.rhema/todos.yaml, todos[id=t1].status)'])
})

it('says nothing once the daemon stops (a closing space lists no conflicts: not "resolved")', async () => {
  let now: Conflict[] = [conflict('c1')]
  let stopping = false
  const { space, changed } = fakeSpace(() => now)
  const said: string[] = []
  const stop = logConflicts(space, (l) => said.push(l), () => stopping)
  expect(said).toEqual(['1 conflict(s) wait for a choice: `ctxsync resolve --list` shows them'])
  stopping = true
  now = []
  await changed()
  stop()
  expect(said).toHaveLength(1)
})
