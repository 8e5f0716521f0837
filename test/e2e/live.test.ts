/**
 * Live sync between running daemons: two peers both ways (comments kept), three peers in a line (updates
 * forwarded through the middle one), an editor's atomic save, and files deleted and created.
 */
import fs from 'node:fs'
import path from 'node:path'
import { afterAll, afterEach, describe, expect, it } from 'vitest'
import {
  edit, fileState, HISTORY_TODOS, killAll, readFile, removeTmpDirs, setupSpace, SMALL_TODOS, startWatch, stopWatch,
  TODOS, waitFileEquals, waitFor, waitLog, waitSame, writeFile,
} from './helpers.js'

afterEach(killAll)
afterAll(removeTmpDirs)

describe('e2e: live sync', { timeout: 90_000 }, () => {
  it('two peers: edits appear on the other side byte-identical, comments kept, both ways', async () => {
    const { peers } = await setupSpace(['a', 'b'], { files: { [TODOS]: HISTORY_TODOS, '.rhema/small.yaml': SMALL_TODOS } })
    const [a, b] = peers as [typeof peers[0], typeof peers[0]]
    const da = await startWatch(a)
    const db = await startWatch(b)
    await waitLog(da, /connected to b/)
    await waitLog(db, /connected to a/)

    // A → B on the 10 KB real todos file.
    const t1 = await edit(a, 'status: "planned"', 'status: "in-progress"')
    await waitFileEquals(b, t1)
    expect(readFile(a)).toBe(t1)
    expect(t1).toContain('# This file tracks work items, tasks, and improvements for this scope')

    // B → A on the small file: a change next to comments, and a new comment, both kept verbatim.
    const small = '.rhema/small.yaml'
    const t2 = await edit(b, '    title: "First task"   # inline comment', '    title: "First task, renamed"   # inline comment (edited)', small)
    await waitFileEquals(a, t2, small)
    expect(t2).toContain('# the first one')

    // Several edits in a row, alternating sides; the end state is identical and holds every edit.
    let text = t2
    for (let i = 0; i < 5; i++) {
      const p = i % 2 === 0 ? a : b
      const other = p === a ? b : a
      text = await edit(p, `status: ${i === 0 ? 'open' : `step-${i - 1}`}`, `status: step-${i}`, small)
      await waitFileEquals(other, text, small)
    }
    expect(text).toContain('status: step-4')
    expect(readFile(a, small)).toBe(readFile(b, small))
    await waitFor(async () => (await fileState(b, small)).state === 'synced', 10_000, 'b: small.yaml synced')
    expect(await stopWatch(da)).toBe(0)
    expect(await stopWatch(db)).toBe(0)
    // Nothing was changed after the daemons stopped.
    expect(readFile(a)).toBe(t1)
    expect(readFile(b)).toBe(t1)
  })

  it('three peers in a line A–B–C: an edit on A reaches C through B, and back', async () => {
    // B dials A, C dials B: A and C never talk to each other.
    const { peers } = await setupSpace(['a', 'b', 'c'], { files: { [TODOS]: SMALL_TODOS } })
    const [a, b, c] = peers as [typeof peers[0], typeof peers[0], typeof peers[0]]
    const [da, db, dc] = await Promise.all([startWatch(a), startWatch(b), startWatch(c)])
    await Promise.all([waitLog(db, /connected to a/), waitLog(dc, /connected to b/)])
    const t1 = await edit(a, 'title: "Second task"', 'title: "Second task, from A"')
    await waitFileEquals(c, t1)
    await waitFileEquals(b, t1)
    const t2 = await edit(c, 'title: "Third task"', 'title: "Third task, from C"')
    await waitFileEquals(a, t2)
    await waitFileEquals(b, t2)
    expect(da.log()).not.toMatch(/connected to c/)
    expect(dc.log()).not.toMatch(/connected to a/)
    await Promise.all([stopWatch(da), stopWatch(db), stopWatch(dc)])
  })

  it('an editor-style atomic save propagates once; deleted and created files follow', async () => {
    const files = { [TODOS]: SMALL_TODOS, '.rhema/notes.yaml': 'notes:\n  - id: n1\n    text: "keep me"\n', '.rhema/old.yaml': 'old: true\n' }
    const { peers } = await setupSpace(['a', 'b'], { files })
    const [a, b] = peers as [typeof peers[0], typeof peers[0]]
    const da = await startWatch(a)
    const db = await startWatch(b)
    await waitLog(db, /connected to a/)

    // Temp file in the same directory, then rename over the original (what vim, VS Code and others do).
    const next = SMALL_TODOS.replace('title: "Second task"', 'title: "Second task, saved atomically"')
    const tmp = path.join(a.dir, '.rhema', 'todos.yaml.tmp.4913')
    fs.writeFileSync(tmp, next)
    fs.renameSync(tmp, path.join(a.dir, TODOS))
    await waitFileEquals(b, next)
    expect(fs.readdirSync(path.join(b.dir, '.rhema')).sort()).toEqual(['notes.yaml', 'old.yaml', 'todos.yaml'])
    // Once: B writes the file a single time, and A does not write back what it just read.
    await new Promise((r) => setTimeout(r, 400))
    const writes = (d: typeof db) => d.log().split('\n').filter((l) => l.includes(`updated ${TODOS}`)).length
    expect(writes(db)).toBe(1)
    expect(writes(da)).toBe(0)
    expect(readFile(a)).toBe(next)

    // Delete on A → deleted on B.
    fs.rmSync(path.join(a.dir, '.rhema/old.yaml'))
    await waitFor(() => !fs.existsSync(path.join(b.dir, '.rhema/old.yaml')), 15_000, 'old.yaml deleted on b')
    // Create on A → appears on B, byte-identical.
    const created = '# made on A\ndecisions:\n  - id: d1\n    title: "Use ctxsync"\n    status: accepted\n'
    await writeFile(a, '.rhema/decisions.yaml', created)
    await waitFileEquals(b, created, '.rhema/decisions.yaml')
    // Untracked files are left alone.
    await writeFile(a, '.rhema/readme.txt', 'not yaml\n')
    const scratch = 'scratch: 1\n'
    await writeFile(a, 'elsewhere/config.yaml', scratch)
    await waitSame([a, b], '.rhema/notes.yaml')
    const names = (p: typeof a) => fs.readdirSync(path.join(p.dir, '.rhema')).sort()
    expect(names(b)).toEqual(['decisions.yaml', 'notes.yaml', 'todos.yaml'])
    expect(fs.existsSync(path.join(b.dir, 'elsewhere'))).toBe(false)
    await Promise.all([stopWatch(da), stopWatch(db)])
  })
})
