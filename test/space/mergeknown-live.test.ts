/**
 * A merge of two versions the live context holds writes the live context's text (black-box tester, stop 29,
 * finding 4): git's merge of them kept what the live context had superseded — an item one side deleted and
 * the other edited stays with the edit — and the daemon, over a later edit from the autostash, took it in as
 * an edit. And a side whose value reached the live context only through a driver record is known once the
 * record is taken over (its value had been in no text the file showed, so a later merge with it kept its
 * conflict again).
 */
import { afterAll, describe, expect, it } from 'vitest'
import { FileModel } from '../../src/crdt/model.js'
import { compileRules } from '../../src/crdt/rules.js'
import { FileDocStore } from '../../src/fs/sidecar.js'
import { sha256hex } from '../../src/ids.js'
import { runMergeJob } from '../../src/space/mergejob.js'
import { mergeConflicts, saveMerge } from '../../src/space/mergestore.js'
import { spacePaths } from '../../src/space/paths.js'
import { annAfter, idle, removeSpaceDirs, SEED, spaceDir, TODOS, writeFile } from './harness.js'

afterAll(removeSpaceDirs)

const EDITED = SEED.replace('title: second', 'title: second, edited')
const DELETED = SEED.replace(/ {2}- id: t1\n[\s\S]*$/, '')
const LATER = DELETED.replace('title: first', 'title: first, later')

/** ann's sidecar, as her daemon leaves it: her file showed each of `texts` in turn, the last one now. */
async function sidecarAfter(root: string, texts: string[]): Promise<void> {
  const m = new FileModel({ name: TODOS, author: { id: 'p1', name: 'ann', kind: 'human' }, rules: compileRules(TODOS, []) })
  m.enroll(texts[0]!)
  for (const t of texts.slice(1)) m.ingest(t)
  const store = new FileDocStore({ dir: spacePaths(root).docs })
  await store.append(TODOS, m.encodeDiff(new Uint8Array([0])))
  await store.writeMeta(TODOS, { seen: texts.map((t) => sha256hex(t).slice(0, 16)) } as never)
  await store.close()
  m.destroy()
}

describe('merges of versions the live context holds', () => {
  it('write the live context\'s text, not a side it superseded', async () => {
    const root = await spaceDir()
    await sidecarAfter(root, [SEED, EDITED, DELETED, LATER])
    const r = await runMergeJob({ base: SEED, ours: DELETED, theirs: EDITED, name: TODOS, root, git: null })
    expect(r.kind).toBe('merged')
    if (r.kind !== 'merged') return
    expect(r.held).toBe(true)
    expect(r.text).toBe(LATER)
  })

  it('a side whose value only a taken-over record held is known afterwards', async () => {
    const MINE = SEED.replace('title: second', 'title: second, mine')
    const GUS = SEED.replace('title: second', 'title: second, gus')
    const a = await annAfter([MINE])
    try {
      const paths = spacePaths(a.root)
      await new Promise((r) => setTimeout(r, 20)) // the merge comes after the history (ms times)
      const r = await runMergeJob({ base: SEED, ours: GUS, theirs: MINE, name: TODOS, root: a.root, git: null })
      if (r.kind !== 'merged' || !r.keep) throw new Error(`no record kept: ${JSON.stringify(r)}`)
      await saveMerge(paths, TODOS, r.keep)
      await writeFile(a.root, TODOS, r.text)
      await a.s.scan()
      await idle(a.s)
      // The record is the live context's now (every peer lists it), and both sides are git-marked.
      expect(await mergeConflicts(paths, [])).toEqual([])
      const live = new FileModel({ name: TODOS, author: { id: 'p9', name: 'reader', kind: 'human' }, rules: compileRules(TODOS, []) })
      live.load([a.host().encodeDiff(TODOS, new Uint8Array([0]))!])
      expect(live.conflicts().map((c) => c.path.join('.'))).toEqual(['todos.t1.title'])
      expect([MINE, GUS].map((t) => live.gitMarked(sha256hex(t)))).toEqual([true, true])
      live.destroy()
    } finally {
      await a.close()
    }
  })
})
