/**
 * An edit that only deletes (a comment line removed, the end of a block scalar's text) adds no Yjs struct,
 * only a deletion: the state vector stayed where it was, so `pending`, acks and every "what does the peer
 * lack" check read the edit as nothing new, and it never reached a peer that compared state vectors (join
 * generator world CTXSYNC_JOIN_SEED=556672: the peers differed by one comment line for good). Every local
 * edit now moves this peer's clock (`FileModel.local`).
 */
import fs from 'node:fs'
import path from 'node:path'
import { expect, test } from 'vitest'
import * as Y from 'yjs'
import { FileModel, type Rendered } from '../../src/crdt/model.js'
import { parses } from '../../src/crdt/parse.js'

const who = (id: string) => ({ id, name: id, kind: 'human' as const })
const WITH = `# Todo Items
todos:
  # about t0
  - id: t0
    title: first   # note
    description: |
      first line
      second line
`

const edits: Record<string, string> = {
  'a comment line before an item': WITH.replace('  # about t0\n', ''),
  'an inline comment': WITH.replace('   # note', ''),
  'a line of a block scalar': WITH.replace('      second line\n', ''),
}

for (const [what, text] of Object.entries(edits)) {
  test(`removing ${what} moves the state vector and reaches a peer that compares state vectors`, () => {
    const a = new FileModel({ name: 'x.yaml', author: who('a') })
    const b = new FileModel({ name: 'x.yaml', author: who('b') })
    a.enroll(WITH)
    b.applyRemote(a.encodeDiff(), 'a')
    b.setBase(b.render())
    const sv = Y.decodeStateVector(b.stateVector())
    const out = b.ingest(text)
    expect(out.text).toBe(text)
    expect(out.changed).toBe(true)
    const after = Y.decodeStateVector(b.stateVector())
    expect([...after].some(([c, clock]) => clock > (sv.get(c) ?? 0))).toBe(true)
    // What a peer that holds the old state vector lacks carries the deletion.
    a.applyRemote(b.diffFor(a.stateVector())!, 'b')
    expect(a.render().text).toBe(text)
  })
}

test('the join generator\'s trace (world 556672): its last save, a comment line removed by a deletion alone, moves the clock', () => {
  const file = path.join(__dirname, 'regressions', 'trace-delete-only-join556672.json')
  const { trace } = JSON.parse(fs.readFileSync(file, 'utf8')) as { trace: Array<[string, any[], number]> }
  const m = new FileModel({ name: '.rhema/todos.yaml', author: who('b'), clientId: trace.at(-1)![2] })
  let last: Rendered | null = null
  let out: (Rendered & { changed: boolean }) | null = null
  let sv = ''
  for (const [k, args] of trace) {
    if (k === 'applyRemote') m.applyRemote(Buffer.from(args[0].u8, 'base64'), args[1])
    else if (k === 'ingest') {
      sv = Buffer.from(m.stateVector()).toString('hex')
      last = out = m.ingest(args[0])
    } else if (k === 'renderDeferred') {
      const r = m.renderDeferred(args[0] ?? undefined)
      last = 'rendered' in r ? r.rendered : r.finish(parses(r.text))
    } else if (k === 'setBase') m.setBase(last!)
  }
  expect(out!.changed).toBe(true)
  expect(Buffer.from(m.stateVector()).toString('hex')).not.toBe(sv)
})
