/**
 * A reconcile while the daemon runs (the scan at a join's end, the take-in after a git command) of a file it
 * has seen in this session: a save it finds there is taken in like any save the watcher reports, diffed
 * against the texts the file held. It was taken for an edit made while no ctxsync ran, from no text the
 * restart paths knew, diffed against nothing: every value the file had not shown yet was re-authored by
 * the saver (network-faults relay, seed 68571: a peer's old titles and deleted items written back over
 * three peers' work, in 1 of ~6 runs under load).
 */
import { afterAll, describe, expect, it } from 'vitest'
import { idle, pass, removeSpaceDirs, team, TODOS, type Node } from './harness.js'

afterAll(removeSpaceDirs)

const title0 = (text: string, v: string) => text.replace(/(- id: t0\n    title: )[^\n]*/, `$1${v}`)
const status0 = (text: string, v: string) => text.replace(/(- id: t0\n    title: [^\n]*\n    status: )[^\n]*/, `$1${v}`)
const status1 = (text: string, v: string) => text.replace(/(- id: t1\n    title: [^\n]*\n    status: )[^\n]*/, `$1${v}`)

describe('a save found by a reconcile while the daemon runs', () => {
  it('is diffed against the text it was made from: the peer\'s change it never showed stays', async () => {
    const [p, q] = (await team(['p', 'q'])) as [Node, Node]
    const before = (await p.file())!
    // Git works on p's clone: q's retitle waits in p's model, the file keeps its text.
    p.s.pauseForGit()
    await q.edit(title0((await q.file())!, '"q rev 2"'))
    await idle(q.s)
    await pass(q, p)
    expect(await p.file()).toBe(before)
    // Meanwhile p saves from what the file shows (the old title), changing another field.
    await p.editOffline(status1(before, 'done'))
    await p.s.resumeAfterGit()
    await idle(p.s)
    await pass(p, q)
    for (const n of [p, q]) {
      const text = (await n.file())!
      expect(text).toMatch(/- id: t0\n    title: "q rev 2"/)
      expect(text).toMatch(/- id: t1\n    title: second\n    status: done/)
    }
    expect(p.s.conflicts()).toEqual([])
    expect(q.s.conflicts()).toEqual([])
  })

  it('is a stale save when it was made from a text before the peer\'s change was written', async () => {
    const [p, q] = (await team(['p', 'q'])) as [Node, Node]
    const buffer = (await p.file())!
    await q.edit(title0((await q.file())!, '"q rev 2"'))
    await idle(q.s)
    await pass(q, p)
    expect(await p.file()).toMatch(/title: "q rev 2"/)
    // Git works on p's clone; q's next change waits in p's model (the file keeps q's retitle).
    p.s.pauseForGit()
    await q.edit(status0((await q.file())!, 'q-s'))
    await idle(q.s)
    await pass(q, p)
    // An editor that read the file before q's retitle was written saves meanwhile.
    await p.editOffline(status1(buffer, 'done'))
    await p.s.resumeAfterGit()
    await idle(p.s)
    await pass(p, q)
    for (const n of [p, q]) {
      const text = (await n.file())!
      expect(text).toMatch(/- id: t0\n    title: "q rev 2"\n    status: q-s/)
      expect(text).toMatch(/- id: t1\n    title: second\n    status: done/)
    }
  })
})
