/**
 * Git marks (`space/seen.ts`) travel in the document: the guard takes them as part of the schema, in their
 * shape only. Found when the guard closed every session that carried content taken in from `git pull`.
 */
import * as Y from 'yjs'
import { describe, expect, it } from 'vitest'
import { checkState, checkUpdate } from '../../src/crdt/guard.js'
import { FileModel } from '../../src/crdt/model.js'
import { GIT_MARKS } from '../../src/crdt/schema.js'
import { author } from './helpers.js'

function withMark(key: string, value: unknown): { receiver: Y.Doc; update: Uint8Array } {
  const a = new FileModel({ name: 'x.yaml', author: author('a') })
  a.enroll('todos:\n  - id: t1\n    title: one\n')
  const receiver = new Y.Doc()
  Y.applyUpdate(receiver, Y.encodeStateAsUpdate(a.doc))
  const sv = Y.encodeStateVector(a.doc)
  a.doc.getMap(GIT_MARKS).set(key, value)
  return { receiver, update: Y.encodeStateAsUpdate(a.doc, sv) }
}

describe('the guard and git marks', () => {
  it('takes a mark in its shape: 16 hex digits → [peer id, time]', () => {
    const { receiver, update } = withMark('0123456789abcdef', ['p-abcdefghijkl', 1_765_000_000_000])
    expect(checkUpdate(receiver, update)).toBeNull()
    Y.applyUpdate(receiver, update)
    expect(checkState(receiver)).toBeNull()
  })

  it("takes a mark with a credit (the commit's writer: id, name, kind, time)", () => {
    const { receiver, update } = withMark('0123456789abcdef', ['p-abcdefghijkl', 1_765_000_000, ['git:carl@example.invalid', 'carl', 'human', 1_765_000_000]])
    expect(checkUpdate(receiver, update)).toBeNull()
  })

  it('refuses a mark of another shape', () => {
    const badCredits = [['c', 'carl', 'robot', 1], ['c', 'carl', 'human'], ['c', 7, 'human', 1], 'carl'].map((c) => ['0123456789abcdef', ['p', 1, c]] as const)
    for (const [key, value] of [['not-hex-at-all!!', ['p', 1]], ['0123456789abcdef', 'x'], ['0123456789abcdef', ['p'.repeat(200), 1]], ['0123456789abcdef', ['p', Number.NaN]], ...badCredits] as const) {
      const { receiver, update } = withMark(key, value)
      expect(checkUpdate(receiver, update), JSON.stringify([key, value])).not.toBeNull()
    }
  })
})
