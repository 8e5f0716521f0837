/**
 * A pull's commits, taken in one transaction each (gitsteps.ts), become one version each, credited to the
 * commit's writer (recorder.ts): driven here on a live model and the version book directly, so the order of
 * a step, the next step and the turn ends that write them is chosen, not left to timing.
 */
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { expect, it } from 'vitest'
import * as Y from 'yjs'
import { FileModel, type Author } from '../../src/crdt/model.js'
import { compileRules } from '../../src/crdt/rules.js'
import { ingestAsGit } from '../../src/crdt/merge/gitreplay.js'
import type { Credit } from '../../src/crdt/schema.js'
import { VersionBook } from '../../src/space/versions/recorder.js'
import { stepTexts } from '../../src/crdt/stepstates.js'
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

/** A peer (cat) with a version book of its own, that gets what bob holds in one update (a catch-up). */
function catchUpPeer() {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ctxsync-steps-cat-'))
  const cat: Author = { id: 'p-cat', name: 'cat', kind: 'human' }
  const book = new VersionBook({ dir, config: path.join(dir, 'ctxsync.yaml'), author: cat, say: () => {}, guardFile: path.join(dir, 'guard.json') })
  const model = new FileModel({ name: NAME, author: cat, live: true })
  const rules = compileRules(NAME)
  const d = book.forDoc(NAME, model, (tr, client, marks) => stepTexts(model.doc, tr, client, marks, { name: NAME, rules }))
  const turnEnd = () => d.afterTurn({ disk: { kind: 'file' }, model: { baseText: model.render().text } })
  const changes = async () => {
    await book.flushed()
    return (await historyOf(dir, { doc: NAME })).map((e) => [e.via, e.authors.map((a) => a.name), e.fields.map((f) => f.path)])
  }
  const catchUp = (from: FileModel) => model.applyRemote(Y.encodeStateAsUpdate(from.doc, Y.encodeStateVector(model.doc)), 'p-bob')
  return { model, turnEnd, changes, who: () => book.who(NAME), catchUp }
}

// cat was away while bob pulled carl's and dan's commits; it gets them in one update: a version each, as on
// bob (it made one version of both, every field named 'carl, dan' in history: issue 16).
it("a peer catching up on a pull of two commits: a version each, each its writer's", async () => {
  const r = rig()
  const cat = catchUpPeer()
  cat.catchUp(r.model)
  cat.turnEnd()
  r.step(T0, T1, 'carl', 1000)
  r.step(T1, T2, 'dan', 1001)
  r.turnEnd()
  cat.catchUp(r.model)
  expect(cat.model.render().text).toBe(T2)
  expect(cat.who()).toBe(' (by carl, dan)')
  cat.turnEnd()
  expect(await cat.changes()).toEqual([
    ['git', ['dan'], ['todos[id=t1].title']],
    ['git', ['carl'], ['todos[id=t0].title']],
    ['start', ['bob'], []],
  ])
})

// Three commits, the third changing carl's field again: carl's value was collected where the update was made
// (bob's document), so that field shows its change in dan's second commit; carl's commit changed nothing else
// and is no version of its own. Nothing is credited to a writer who did not write it.
it('a catch-up where a later commit overwrote an earlier one: no text that never was, no wrong writer', async () => {
  const r = rig()
  const cat = catchUpPeer()
  cat.catchUp(r.model)
  cat.turnEnd()
  const T3 = T2.replace('title: a by carl', 'title: a by dan')
  const T4 = T3.replace('  - id: t1', '  - id: t2\n    title: c\n  - id: t1')
  r.step(T0, T1, 'carl', 1000)
  r.step(T1, T2, 'dan', 1001)
  r.step(T2, T3, 'dan', 1002)
  r.step(T3, T4, 'eve', 1003)
  r.turnEnd()
  cat.catchUp(r.model)
  expect(cat.model.render().text).toBe(T4)
  cat.turnEnd()
  const got = await cat.changes()
  expect(got[0]).toEqual(['git', ['eve'], ['todos[id=t2]']])
  expect(got.at(-1)).toEqual(['start', ['bob'], []])
  for (const [, by, fields] of got.slice(0, -1)) for (const f of fields as string[]) {
    if (f === 'todos[id=t0].title') expect(by).toEqual(['dan'])
    if (f === 'todos[id=t1].title') expect(by).toEqual(['dan'])
  }
})

// A peer may send any number of git marks in one update (a hostile one, thousands): a text per mark would
// render the document as often. Past STEPS_MAX (what a pull is taken in as), one change, as before.
it('an update with more marks than a pull makes: one change, no text per mark', async () => {
  const r = rig()
  const cat = catchUpPeer()
  cat.catchUp(r.model)
  cat.turnEnd()
  r.model.local(() => {
    for (let i = 0; i < 40; i++) r.model.markFromGit(i.toString(16).padStart(16, '0'), 'p-bob', 1000, [`git:m${i}`, `m${i}`, 'human', 1000])
  })
  r.step(T0, T1, 'carl', 1000)
  cat.catchUp(r.model)
  cat.turnEnd()
  const got = await cat.changes()
  expect(got.length).toBe(2)
  // One change whose credit names every mark's writer (joined as before), not 41 rebuilt texts.
  expect(got[0]![0]).toBe('git')
  expect((got[0]![1] as string[]).length).toBe(41)
})
