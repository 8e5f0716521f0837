/**
 * A pull's commits, taken in one transaction each (gitsteps.ts), become one version each, credited to the
 * commit's writer (recorder.ts): driven here on a live model and the version book directly, so the order of
 * a step, the next step and the turn ends that write them is chosen, not left to timing.
 */
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { expect, it } from 'vitest'
import { FileModel, type Author } from '../../src/crdt/model.js'
import { compileRules } from '../../src/crdt/rules.js'
import { ingestAsGit } from '../../src/crdt/merge/gitreplay.js'
import type { Credit } from '../../src/crdt/schema.js'
import { VersionBook } from '../../src/space/versions/recorder.js'
import { historyOf } from '../../src/space/versions/query.js'

const NAME = '.rhema/todos.yaml'
const T0 = 'todos:\n  - id: t0\n    title: a\n  - id: t1\n    title: b\n'
const T1 = T0.replace('title: a', 'title: a by carl')
const T2 = T1.replace('title: b', 'title: b by dan')

function rig() {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ctxsync-steps-'))
  const bob: Author = { id: 'p-bob', name: 'bob', kind: 'human' }
  const book = new VersionBook({ dir, config: path.join(dir, 'ctxsync.yaml'), author: bob, say: () => {}, guardFile: path.join(dir, 'guard.json') })
  const model = new FileModel({ name: NAME, author: bob, live: true })
  const d = book.forDoc(NAME, model)
  const rules = compileRules(NAME)
  const turnEnd = (text = model.render().text) => d.afterTurn({ disk: { kind: 'file' }, model: { baseText: text } })
  model.ingest(T0)
  turnEnd()
  const step = (base: string, text: string, who: string, at: number) => {
    const credit: Credit = [`git:${who}`, who, 'human', at]
    ingestAsGit(model, { name: NAME, rules, author: bob, merged: text, base, text, time: at, mark: `m-${who}-${at}`, by: bob.id, credit })
  }
  const changes = async () => {
    await book.flushed()
    return (await historyOf(dir, { doc: NAME })).map((e) => [e.via, e.authors.map((a) => a.name), e.fields.map((f) => f.path)])
  }
  return { model, step, turnEnd, changes, who: () => book.who(NAME) }
}

it("a pull's two commits in one turn: a version each, each its writer's", async () => {
  const r = rig()
  r.step(T0, T1, 'carl', 1000)
  r.step(T1, T2, 'dan', 1001)
  expect(r.model.render().text).toBe(T2)
  r.turnEnd()
  expect(await r.changes()).toEqual([
    ['git', ['dan'], ['todos[id=t1].title']],
    ['git', ['carl'], ['todos[id=t0].title']],
    ['start', ['bob'], []],
  ])
})

// A peer receives the steps as separate updates; the write-back of the first can end after the second came
// in. That turn end's text is the first step's, already a version: it took the second step's credit with it
// and the second's change was then recorded as nobody's ('settled'; e2e credits, a live peer, by timing).
it('the first step written back after the second came in: the second keeps its credit', async () => {
  const r = rig()
  r.step(T0, T1, 'carl', 1000)
  const text1 = r.model.render().text
  r.step(T1, T2, 'dan', 1001)
  r.turnEnd(text1)
  r.turnEnd()
  expect(await r.changes()).toEqual([
    ['git', ['dan'], ['todos[id=t1].title']],
    ['git', ['carl'], ['todos[id=t0].title']],
    ['start', ['bob'], []],
  ])
})

// The daemon's line for the write that shows both commits names both (it named the last commit's writer only
// once each commit was a version of its own).
it("the write of a pull's two commits is said as both writers'", async () => {
  const r = rig()
  r.step(T0, T1, 'carl', 1000)
  r.step(T1, T2, 'dan', 1001)
  expect(r.who()).toBe(' (by carl, dan)')
  r.turnEnd()
  expect(r.who()).toBe('')
})
