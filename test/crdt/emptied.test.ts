/**
 * A value emptied on one peer while another peer, apart, edits inside it (issue 13/16, black-box tester
 * finding 3): `: > todos.yaml` (an accidental truncation), `todos:` or `todos: {}` over the list. After
 * they meet, both files show what the other peer changed inside, identically, and the delete conflict lets
 * `resolve` choose: taking the deletion empties the value again on both. Before, the edit lived only in the
 * CRDT (the conflict named it) under a value that shows no children, and no file showed it.
 */
import { describe, expect, test } from 'vitest'
import { parses } from '../../src/crdt/parse.js'
import { peer, sync, text } from './helpers.js'

const TODOS = `# my todos
todos:
  - id: "t1"
    title: One
    status: todo
  - id: "t2"
    title: Two
    status: todo
meta:
  owner: ann
`
const EDITED = TODOS.replace('title: Two\n    status: todo', 'title: Two\n    status: doing')
const LIST = /todos:\n( {2}.*\n)+/

/** a saves `cut`, b saves `edited`, apart; then they exchange everything. */
function meet(cut: string, edited = EDITED) {
  const a = peer('a', TODOS)
  const b = peer('b', TODOS)
  a.ingest(cut)
  b.ingest(edited)
  sync(a, b)
  expect(text(a)).toBe(text(b))
  expect(parses(text(a)!)).toBe(true)
  return [a, b] as const
}

describe('a value emptied while a peer edits inside it', () => {
  test('a truncated file shows the entry the other peer edited (whole, as a deleted item an edit revives), the rest stays removed', () => {
    for (const cut of ['', '\n', '# emptied\n']) {
      const [a, b] = meet(cut)
      expect(text(a)).toBe(cut + 'todos:\n  - id: "t1"\n    title: One\n    status: todo\n  - id: "t2"\n    title: Two\n    status: doing\n')
      const [c] = a.conflicts()
      expect(c).toMatchObject({ kind: 'delete', display: 'todos' })
      expect(c!.values.map((v) => v.author.name)).toEqual(['a', 'b'])
      expect(b.conflicts()).toEqual(a.conflicts())
      // resolve takes the truncation (value 1): both files are as it left them
      expect(b.resolve(c!.id, 1)).toBe(true)
      sync(a, b)
      expect(text(a)).toBe(cut)
      expect(text(b)).toBe(cut)
      expect(a.conflicts()).toEqual([])
    }
  })

  test('resolve can keep the edit instead: the file stays as shown and the conflict is over', () => {
    const [a, b] = meet('')
    const [c] = a.conflicts()
    expect(a.resolve(c!.id, 2)).toBe(true)
    sync(a, b)
    expect(a.conflicts()).toEqual([])
    expect(text(b)).toContain('status: doing')
    expect(text(a)).toBe(text(b))
  })

  test('the truncation undone (a deliberate write of the file before it, with the edit): the rest is back, the conflict is over', () => {
    const [a, b] = meet('')
    // What `undo` writes: the three-way merge of the truncation, the file now and the file before it.
    a.ingest(EDITED, false, true)
    sync(a, b)
    expect(text(b)).toBe(EDITED)
    expect(text(a)).toBe(EDITED)
    // Listed still, taking the deletion (`resolve --all --take ours`) emptied what the undo brought back.
    expect(a.conflicts()).toEqual([])
    expect(b.conflicts()).toEqual([])
  })

  for (const [name, emptied, shown] of [
    ['null (`todos:`)', 'todos:\n', 'todos:\n  - id: "t2"\n    title: Two\n    status: doing\n'],
    ['`todos: null`', 'todos: null\n', 'todos:\n  - id: "t2"\n    title: Two\n    status: doing\n'],
    ['`todos: ~`', 'todos: ~\n', 'todos:\n  - id: "t2"\n    title: Two\n    status: doing\n'],
    ['an empty mapping (`todos: {}`)', 'todos: {}\n', 'todos: [{ id: t2, title: Two, status: doing }]\n'],
  ] as const) {
    test(`a list emptied to ${name} shows the item edited meanwhile, not the others`, () => {
      const [a, b] = meet(TODOS.replace(LIST, emptied))
      expect(text(a)).toBe(TODOS.replace(LIST, shown))
      const [c] = b.conflicts()
      expect(c).toMatchObject({ kind: 'delete', display: 'todos[id=t2]' })
      expect(a.resolve(c!.id, 1)).toBe(true)
      sync(a, b)
      expect(text(b)).toBe(TODOS.replace(LIST, emptied))
    })
  }

  test('an item added inside meanwhile is shown too (it was never deleted)', () => {
    const added = TODOS.replace('meta:', '  - id: "t3"\n    title: Three\nmeta:')
    const [a] = meet(TODOS.replace(LIST, 'todos:\n'), added)
    expect(text(a)).toBe(TODOS.replace(LIST, 'todos:\n  - id: "t3"\n    title: Three\n'))
  })

  test('a typed value over the list still wins; the edit is in the delete conflict', () => {
    const [a] = meet(TODOS.replace(LIST, 'todos: none\n'))
    expect(text(a)).toBe(TODOS.replace(LIST, 'todos: none\n'))
    expect(a.conflicts()).toMatchObject([{ kind: 'delete', display: 'todos[id=t2]' }])
  })

  test('a field of an item emptied to null while the other peer edits a field of it', () => {
    const NESTED = 'scope:\n  owner: ann\n  tags:\n    area: sync\n'
    const a = peer('a', NESTED)
    const b = peer('b', NESTED)
    a.ingest('scope:\n')
    b.ingest('scope:\n  owner: bob\n  tags:\n    area: sync\n')
    sync(a, b)
    expect(text(a)).toBe('scope:\n  owner: bob\n')
    expect(text(b)).toBe(text(a))
    // a saves on top of what it now shows: the value is written as the file shows it
    a.ingest('scope:\n  owner: bob\n  since: 2026\n')
    sync(a, b)
    expect(text(b)).toBe('scope:\n  owner: bob\n  since: 2026\n')
  })
})
