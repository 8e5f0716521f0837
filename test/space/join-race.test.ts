/**
 * The member saves again while the join's merge is being written (the write finds the file changed and
 * takes the new save in first). That save was made from the file as it was before the join — without the
 * live context's changes — so it is diffed against that text, as a stale save: nothing the live context
 * had is deleted by it. Found by the network-faults ring (seed 849009 under load): a joining peer's save,
 * read against the never-written merge, deleted another peer's new item, which then came back as a
 * delete conflict its owner's deletions could not clear.
 */
import { expect, it } from 'vitest'
import { FileModel } from '../../src/crdt/model.js'
import { defaultRules } from '../../src/crdt/rules.js'
import { takeJoin } from '../../src/space/join.js'
import { author, peer, send } from '../crdt/helpers.js'

const C0 = 'todos:\n  - id: s1\n    title: "Shared"\n    status: open\n  - id: o1\n    title: "Owned by c"\n    status: open\n'
const ADDED = '  - id: a-live-1\n    title: "added live"\n    status: open\n'

it('a save made before the live text replaced an unchanged checkout deletes nothing of the live context', async () => {
  const live = peer('a', C0)
  live.ingest(C0 + ADDED)
  const m = new FileModel({ name: '.rhema/todos.yaml', author: author('c') })
  send(live, m)
  expect(await takeJoin(m, { current: [C0], texts: [C0], rules: defaultRules }, m.render(), C0, 1)).toBe(false)
  // The write of the live text finds the member's first save, made from the checkout's text.
  const out = m.ingest(C0.replace('"Owned by c"', '"c rev 1"'))
  expect(out.text).toContain('a-live-1')
  expect(out.text).toContain('"c rev 1"')
})

for (const committedIsEnrollment of [true, false]) {
  it(`a save made while the join's merge was being written deletes nothing of the live context (${committedIsEnrollment ? 'the enrollment' : 'a later commit'} checked out)`, async () => {
    const live = peer('a', C0)
    let committed = C0
    if (!committedIsEnrollment) {
      committed = C0.replace('status: open\n  - id: o1', 'status: p0-1\n  - id: o1')
      live.ingest(committed)
    }
    live.ingest(committed + ADDED)
    // The member's model: nothing but the live state (the file awaited the join).
    const m = new FileModel({ name: '.rhema/todos.yaml', author: author('c') })
    send(live, m)
    const j = { current: [committed], texts: [committed], rules: defaultRules }
    const file = committed.replace('"Owned by c"', '"c rev 1"')
    expect(await takeJoin(m, j, m.render(), file, 1)).toBe(true)
    expect(m.render().text).toContain('a-live-1')
    // The merge's write finds a newer save, made from `file`: taken in before the merge was ever on disk.
    const again = file.replace('"c rev 1"', '"c rev 2"')
    const out = m.ingest(again)
    expect(out.text).toContain('a-live-1')
    expect(out.text).toContain('"c rev 2"')
    send(m, live)
    expect(live.render().text).toContain('a-live-1')
    expect(live.conflicts()).toEqual([])
  })
}
