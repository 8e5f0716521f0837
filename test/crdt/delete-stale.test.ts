/**
 * Delete conflicts that are over (issue 16 tester): a deletion its own peer has written over since — the
 * item added again under its id, the file restored — is no conflict to resolve, so `resolve --all --take
 * ours` cannot delete what came back. While one is open, its edit side names the peer who edited, and an
 * item whose id another item shares too is named by its place as well.
 */
import { describe, expect, test } from 'vitest'
import { peer, sync, text } from './helpers.js'

const TODOS = `todos:
  - id: "t1"
    title: One
    status: todo
  - id: "t2"
    title: Two
    status: todo
`
const T2 = '  - id: "t2"\n    title: Two\n    status: todo\n'

/** a deletes t2 while b edits it: after the exchange, t2 is back on both with a delete conflict. */
function deletedOnAEditedOnB(): [ReturnType<typeof peer>, ReturnType<typeof peer>] {
  const a = peer('a', TODOS)
  const b = peer('b', TODOS)
  a.ingest(TODOS.replace(T2, ''))
  b.ingest(TODOS.replace('title: Two\n    status: todo', 'title: Two\n    status: doing'))
  sync(a, b)
  return [a, b]
}

describe('stale delete conflicts', () => {
  test('an item its deleter adds again under the same id ends the conflict; the new item stays', () => {
    const [a, b] = deletedOnAEditedOnB()
    const [c] = a.conflicts()
    expect(c).toMatchObject({ kind: 'delete', display: 'todos[id=t2]' })
    expect(c!.values.map((v) => v.author.name)).toEqual(['a', 'b'])
    // a replaces the item that came back with a new one of the same id
    a.ingest(text(a)!.replace(/  - id: "t2"\n(    .*\n)+/, '  - id: "t2"\n    title: A new two\n    status: new\n'))
    sync(a, b)
    expect(a.conflicts()).toEqual([])
    expect(b.conflicts()).toEqual([])
    expect(text(b)).toContain('title: A new two')
  })

  test('an open delete conflict on one of two items with the same id names which', () => {
    const [a, b] = deletedOnAEditedOnB()
    // b adds another t2 while the revived one is shown: two items, one id
    b.ingest(text(b)! + '  - id: "t2"\n    title: Another two\n    status: new\n')
    sync(a, b)
    expect(text(a)).toBe(text(b))
    const [c] = a.conflicts()
    expect(c).toMatchObject({ kind: 'delete', display: 'todos[id=t2 #2]' })
    expect(b.conflicts()).toEqual(a.conflicts())
  })
})
