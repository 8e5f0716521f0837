/**
 * `ctxsync undo` without an id takes back the latest change made on this machine — but a version can hold a
 * peer's edit made at the same moment too (two saves taken in together). Undoing it took the peer's edit back
 * on every peer (black-box tester, stop 25: "undid change … by yuri, xena" removed xena's line). It is refused,
 * naming the change and who else is in it; by its id it is undone whole, as asked.
 */
import fs from 'node:fs'
import path from 'node:path'
import { afterAll, expect, it } from 'vitest'
import { Encoder, frame, logFile, type By } from '../../src/space/versions/store.js'
import { ctx, ctxJson, readFile, removeTmpDirs, setupSpace, SMALL_TODOS, TODOS } from './helpers.js'

afterAll(removeTmpDirs)

it('undo refuses a change that also holds a peer\'s edit, unless named by its id', async () => {
  const { peers } = await setupSpace(['a'], { files: { [TODOS]: SMALL_TODOS } })
  const a = peers[0]!
  const state = path.join(a.dir, '.ctxsync')
  const me = JSON.parse(fs.readFileSync(path.join(state, 'identity.json'), 'utf8')).id as string
  const ann: By = [me, 'a', 'human']
  const xena: By = ['p-xena', 'xena', 'human']
  // The file as both saves left it: a's title change and xena's status change, taken in as one version.
  const both = SMALL_TODOS.replace('"First task"', '"First task, by a"').replace('status: open', 'status: xena')
  fs.writeFileSync(path.join(a.dir, TODOS), both)
  const enc = new Encoder()
  const t = Date.now()
  fs.mkdirSync(path.join(state, 'versions'), { recursive: true })
  fs.writeFileSync(logFile(path.join(state, 'versions'), TODOS), frame([
    enc.record({ t: t - 2000, by: [ann], via: 'start', text: SMALL_TODOS }),
    enc.record({ t: t - 1000, by: [ann, xena], via: 'local', text: both }),
  ]))
  const h = await ctxJson(a.dir, ['history', TODOS, '--json'])
  const mixed = h.changes[0].id as string
  const r = await ctx(a.dir, ['undo'])
  expect(r.exitCode).toBe(1)
  expect(r.stderr).toContain(`the latest change made here, ${mixed} on ${TODOS}, also holds what xena changed at the same moment`)
  expect(r.stderr).toContain(`\`ctxsync undo ${mixed}\` undoes all of it`)
  expect(readFile(a)).toBe(both)
  const u = await ctxJson(a.dir, ['undo', mixed, '--json'])
  expect(u).toMatchObject({ changed: true, change: mixed })
  expect(readFile(a)).toBe(SMALL_TODOS)
}, 60_000)
