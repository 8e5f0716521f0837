/**
 * A member sends an update whose predecessor it never sends (well-formed: the guard checks pending structs
 * once they can be applied). Yjs keeps it pending, and a state with pending structs was never written: every
 * later change of every peer reached the receiving model and never its file, for good, while `status` said
 * synced. Now such a state is written once it has waited `WHOLE_WAIT_MS` (`space/incomplete.ts`); the pending
 * structs stay, applied if their update ever comes.
 */
import { afterAll, afterEach, expect, it } from 'vitest'
import { FileModel } from '../../src/crdt/model.js'
import { idle, pass, removeSpaceDirs, team, TODOS, type Node } from './harness.js'

afterAll(removeSpaceDirs)
afterEach(() => void delete process.env.CTXSYNC_WHOLE_WAIT_MS)

it('a member\'s update with a gap does not stop the file from showing the others\' later changes', async () => {
  process.env.CTXSYNC_WHOLE_WAIT_MS = '300'
  const [p, q] = (await team(['p', 'q'])) as [Node, Node]
  // The member's two edits, of which only the second is sent.
  const m = new FileModel({ name: TODOS, author: { id: 'm', name: 'm', kind: 'agent' } })
  m.load([p.host().encodeDiff(TODOS, new Uint8Array([0]))!])
  m.setBase(m.render())
  const sent: Uint8Array[] = []
  m.doc.on('update', (u: Uint8Array) => sent.push(u))
  const text = m.render().text!
  m.ingest(text.replace('status: todo', 'status: one'))
  m.ingest(text.replace('status: todo', 'status: two'))
  await q.s.applyRemote(TODOS, sent[1]!, p.id)
  await idle(q.s)
  expect(q.s.doc(TODOS).model.complete).toBe(false)
  await p.edit((await p.file())!.replace('title: second', 'title: "p edit"'))
  await idle(p.s)
  await pass(p, q)
  await expect.poll(async () => (await q.file())!, { timeout: 10_000 }).toMatch(/title: "p edit"/)
  expect(q.warnings.filter((w) => w.includes('still waits for one it depends on'))).toHaveLength(1)
  // The member's first edit comes after all: the second applies, both files agree.
  await q.s.applyRemote(TODOS, sent[0]!, p.id)
  await idle(q.s)
  expect(q.s.doc(TODOS).model.complete).toBe(true)
  await pass(q, p)
  await expect.poll(async () => (await q.file())!, { timeout: 10_000 }).toMatch(/status: two/)
  expect(await p.file()).toBe(await q.file())
})
