/**
 * A clone of a commit older than the space edits a todo that plain git deleted before the space was set up
 * (git would call it a modify/delete conflict). The join keeps the clone's edit — the todo comes back — and
 * records the deletion against it in the clone's merge records, as a git merge would: `resolve` lists it and
 * taking the deletion removes the todo on every peer. Before (join-older worlds 600009.2 and 779789.1), the
 * todo came back with no record: the join's scratch merge wrote the history and the member's save as one
 * writer, so nothing raced.
 */
import fs from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'
import { afterAll, expect, it } from 'vitest'
import { init } from '../../src/commands/init.js'
import { mergeConflicts, resolveMerge } from '../../src/space/mergestore.js'
import { spacePaths } from '../../src/space/paths.js'
import { idle, joinCode, Node, TODOS, writeFile } from './harness.js'
import { cloneJoins, exchange, git, type CloneEdit } from './joinRig.js'

const tmp: string[] = []
afterAll(async () => { for (const d of tmp) await fs.rm(d, { recursive: true, force: true }) })

const T0 = '  - id: t0\n    title: "Seed item"\n    status: todo\n'
const T1 = '  - id: t1\n    title: Second seed\n    status: review\n'
const HEAD = '# Todo Items\ntodos:\n'

/**
 * A space set up after a plain-git commit that turned `HEAD + T0 + T1` into `history`; a clone of the commit
 * before it saves `edited` before it joins, then joins (cloneJoins) and everything goes both ways.
 */
async function world(history: string, edited: string) {
  const parent = await fs.realpath(await fs.mkdtemp(path.join(os.tmpdir(), 'ctxsync-join-history-')))
  tmp.push(parent)
  const root = path.join(parent, 'a')
  await fs.mkdir(root)
  git(root, ['init', '-q'])
  await writeFile(root, TODOS, HEAD + T0 + T1)
  git(root, ['add', '-A'])
  git(root, ['commit', '-qm', 'two todos'])
  const old = git(root, ['rev-parse', 'HEAD']).trim()
  await writeFile(root, TODOS, history)
  git(root, ['commit', '-qam', 'before the space'])
  await init({ cwd: root, name: 'a', discovery: 'none' })
  git(root, ['add', '-A'])
  git(root, ['commit', '-qm', 'ctxsync'])
  const a = new Node(root)
  await a.start()
  const b = await Node.make({ name: 'b', join: await joinCode(root) })
  await b.start()
  await exchange(a, b)
  const cdir = path.join(parent, 'c')
  git(parent, ['clone', '-q', root, cdir])
  git(cdir, ['checkout', '-q', old])
  await init({ cwd: cdir, name: 'c', discovery: 'none', join: await joinCode(root) })
  const c = new Node(cdir)
  await c.editOffline(edited)
  const failures: Array<{ kind: string; detail: string }> = []
  await cloneJoins(c, a, b, { text: edited } as CloneEdit, HEAD + T0 + T1, true, () => 0.9, failures)
  await Promise.all([idle(a.s), idle(b.s), idle(c.s)])
  expect(failures).toEqual([])
  return { nodes: [a, b, c], a, b, c, paths: spacePaths(cdir) }
}

it('a todo deleted before the space and edited by a clone of an older commit comes back recorded; taking the deletion removes it everywhere', async () => {
  const { nodes, a, b, c, paths } = await world(HEAD + T0, HEAD + T0 + T1.replace('status: review', 'status: blocked'))
  // The clone's edit is kept, on every peer; the deletion is recorded against it where the edit was made.
  for (const n of nodes) expect(await n.file(), n.root).toContain('status: blocked')
  const listed = await mergeConflicts(paths, [])
  expect(listed.map((x) => [x.kind, x.display, x.values.map((v) => v.author.name)])).toEqual([
    ['delete', 'todos[id=t1]', ['the history since your commit', 'c']],
  ])
  // Taking the deletion removes the todo on every peer, and the record is gone.
  const del = listed[0]!.values.findIndex((v) => v.author.name !== 'c') + 1
  await resolveMerge(paths, [], listed[0]!.id, del, { id: 'c', name: 'c', kind: 'human' })
  await c.s.scan()
  await idle(c.s)
  await exchange(c, a)
  await exchange(a, b)
  await Promise.all([idle(a.s), idle(b.s)])
  for (const n of nodes) expect(await n.file(), n.root).toBe(HEAD + T0)
  expect(await mergeConflicts(paths, [])).toEqual([])
  for (const n of nodes) expect(n.s.conflicts(), n.root).toEqual([])
  await Promise.all(nodes.map((n) => n.close()))
}, 60_000)

it('a value both the history before the space and the clone changed: one live record, on every peer, naming the history\'s writer', async () => {
  const { nodes } = await world(HEAD + T0.replace('Seed item', 'history title') + T1, HEAD + T0.replace('Seed item', 'clone title') + T1)
  for (const n of nodes) {
    expect(await n.file(), n.root).toContain('clone title')
    expect(n.s.conflicts().map((x) => [x.display, x.values.map((v) => [v.raw, v.author.name])]), n.root).toEqual([
      ['todos[id=t0].title', [['"history title"', 't'], ['"clone title"', 'c']]],
    ])
  }
  expect(await mergeConflicts(spacePaths(nodes[2]!.root), [])).toEqual([])
  await Promise.all(nodes.map((n) => n.close()))
}, 60_000)
