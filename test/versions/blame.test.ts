/**
 * Blame credits the person who wrote a value, not whoever brought it back: after an accidental truncation
 * and `ctxsync undo` (here, or as a peer's change arriving), every field named the undoer (tried in a
 * terminal, issue 16). A value typed again over a newer one is still its typist's edit.
 */
import { expect, it } from 'vitest'
import { lastSetters } from '../../src/space/versions/query.js'
import type { By, Version, Via } from '../../src/space/versions/store.js'

const ANN: By = ['p-ann', 'ann', 'human']
const BOB: By = ['p-bob', 'bob', 'human']
const todos = (status: string, title = 'Ship it') => `todos:\n  - id: T-1\n    title: ${title}\n    status: ${status}\n`
let t = 0
const v = (text: string | null, by: By, via: Via = 'local'): Version => ({ doc: 'todos.yaml', text, id: `c${++t}`, h: '', t: t * 1000, by: [by], via })
const who = (vs: Version[], path: string) => lastSetters(vs).get(path)?.v.by[0]![1]

it('a truncation undone keeps each field\'s author, as an undo here or as a peer\'s change', () => {
  const history = [v(todos('todo'), ANN, 'start'), v(todos('done'), BOB, 'remote'), v('', ANN)]
  for (const via of ['undo', 'remote'] as const) {
    const vs = [...history, v(todos('done'), ANN, via)]
    expect(who(vs, 'todos[id=T-1].status')).toBe('bob')
    expect(who(vs, 'todos[id=T-1].title')).toBe('ann')
  }
})

it('restore brings back an older value with its author; typing it again is the typist\'s edit', () => {
  const base = [v(todos('todo'), ANN, 'start'), v(todos('review'), BOB, 'remote'), v(todos('done'), ANN)]
  expect(who([...base, v(todos('review'), ANN, 'restore')], 'todos[id=T-1].status')).toBe('bob')
  expect(who([...base, v(todos('review'), ANN, 'local')], 'todos[id=T-1].status')).toBe('ann')
})
