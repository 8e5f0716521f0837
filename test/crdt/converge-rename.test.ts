/**
 * A file that had not shown a todo a peer added yet (held, or its write-back not done) is saved with another
 * todo deleted and one of the peer's id added: the diff paired the two by position as one todo whose id
 * changed (its other fields alike), so the deleted todo's node took the new id beside the peer's node, and
 * the list held that id twice on every peer (converge free-for-all seed 1299: `doubled todo ids`).
 */
import { expect, test } from 'vitest'
import { todos } from './mutate.js'
import { peer, send } from './helpers.js'

const TODOS = 'todos:\n  - id: t1\n    title: One\n    status: todo\n  - id: t2\n    title: Two\n    status: todo\n    tags: [x]\n'

test("a save that deletes a todo and adds one a peer added meanwhile, unseen by its file, is no rename", () => {
  const a = peer('a', TODOS)
  const b = peer('b', TODOS)
  b.ingest(TODOS + '  - id: t3\n    title: From b\n    status: done\n')
  send(b, a)
  // a's file still shows the text before b's todo; its person replaces t2 by a t3 of their own.
  a.ingest(TODOS.replace('id: t2\n    title: Two', 'id: t3\n    title: Two'))
  send(a, b)
  for (const m of [a, b]) {
    const ids = todos(m.render().text!).map(([id]) => id)
    expect(ids.filter((id) => id === 't3'), m.render().text!).toHaveLength(1)
    expect(ids).not.toContain('t2')
  }
  expect(a.render().text).toBe(b.render().text)
})
