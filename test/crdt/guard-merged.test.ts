/**
 * Yjs joins a client's consecutive overwritten writes of one register into one struct, and a document that
 * keeps deleted content (`gc: false`: another Yjs peer, a relay keeping history) sends them as one
 * `ContentAny` with several values, all but the last overwritten. The guard refused such a
 * struct ("4 values written to one register"): a peer whose history held one — a field changed again and
 * again, then sent whole by a relay — was refused by every other peer for good, and never converged (found
 * by the network-faults test, relay seed 857826). A run's values are each checked like a single write.
 */
import * as Y from 'yjs'
import { describe, expect, it } from 'vitest'
import { checkState, checkUpdate } from '../../src/crdt/guard.js'
import { FileModel } from '../../src/crdt/model.js'
import { author } from './helpers.js'

const BASE = 'todos:\n  - id: t1\n    title: one\n    status: open\n'

/** The largest number of values one struct of `update` carries. */
function widest(update: Uint8Array): number {
  let n = 1
  for (const s of Y.decodeUpdate(update).structs) {
    if (s instanceof Y.Item && s.content instanceof Y.ContentAny) n = Math.max(n, (s.content as unknown as { arr: unknown[] }).arr.length)
  }
  return n
}

describe('the guard and merged runs of one register', () => {
  it('takes a run of overwritten values of one register, sent whole by a document that keeps deleted content', () => {
    const a = new FileModel({ name: 'x.yaml', author: author('a') })
    a.doc.gc = false
    a.enroll(BASE)
    const receiver = new Y.Doc()
    Y.applyUpdate(receiver, Y.encodeStateAsUpdate(a.doc))
    const sv = Y.encodeStateVector(a.doc)
    for (let i = 0; i < 8; i++) a.ingest(BASE.replace('status: open', `status: s${i}`))
    const update = Y.encodeStateAsUpdate(a.doc, sv)
    expect(widest(update), 'the run is sent as one struct').toBeGreaterThan(1)
    expect(checkUpdate(receiver, update)).toBeNull()
    Y.applyUpdate(receiver, update)
    expect(checkState(receiver)).toBeNull()
  })
})
