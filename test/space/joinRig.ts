/**
 * The join generator (issue 13 item 4), in process: a live space with a history, and a clone that joins
 * from one of its older commits.
 *
 * One case (seeded): peer A (a git work tree, the space's creator) and peer B (joined) edit the todos file
 * in turn (`randomEdit`, each edit exchanged before the next, so the live context itself has no conflict);
 * A commits now and then, half of its commits with a sync point. Then a clone of A's repository is reset
 * to a random commit of that history, optionally fetches the notes, is made a member by the real
 * `init --join`, optionally edits the file on top of the commit (a title changed, a todo added — before
 * or after it starts), starts, and exchanges with A and B (as `sync`/`watch` would: the live state first,
 * then `finishJoin`, then everything both ways).
 *
 * What must hold (each failure is one kind): no conflict on any peer (`conflict`), the three files equal
 * (`diverged`), every live value the clone did not change as the live context had it (`rolled-back`), the
 * clone's own changes present (`clone-edit-lost`), and before the exchange the clone enrolled nothing
 * (`enrolled-early`).
 */
import { execFileSync } from 'node:child_process'
import fs from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'
import * as Y from 'yjs'
import { init } from '../../src/commands/init.js'
import type { DocName } from '../../src/ids.js'
import { spacePaths } from '../../src/space/paths.js'
import { recordSyncPoint, liveStates } from '../../src/space/syncpoint.js'
import { finishJoin } from '../../src/space/join.js'
import { SEED_TODOS } from '../crdt/converge.js'
import { mulberry32, pick, randomEdit, todos, type Rng } from '../crdt/mutate.js'
import { idle, joinCode, Node, TODOS, writeFile } from './harness.js'

export type FailureKind = 'conflict' | 'diverged' | 'rolled-back' | 'clone-edit-lost' | 'enrolled-early'

export interface CaseResult {
  seed: number
  commits: number
  from: number
  syncPoint: boolean
  cloneEdit: string
  failures: Array<{ kind: FailureKind; detail: string }>
}

const git = (cwd: string, args: string[]) =>
  execFileSync('git', ['-c', 'user.name=t', '-c', 'user.email=t@example.invalid', ...args], { cwd, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] })

function lacks(theirs: Uint8Array, mine: Uint8Array): boolean {
  const t = Y.decodeStateVector(theirs)
  return [...Y.decodeStateVector(mine)].some(([c, k]) => k > (t.get(c) ?? 0))
}

/** What a session does for one document: each side sends what the other lacks, until neither lacks anything. */
export async function exchange(a: Node, b: Node, doc: DocName = TODOS): Promise<void> {
  for (let round = 0; round < 4; round++) {
    let sent = false
    for (const [from, to] of [[a, b], [b, a]] as const) {
      const theirs = to.host().stateVector(doc)
      if (!lacks(theirs, from.host().stateVector(doc))) continue
      const u = from.host().encodeDiff(doc, theirs)
      if (!u) continue
      await to.s.applyRemote(doc, u, from.id)
      await idle(to.s)
      sent = true
    }
    if (!sent) return
  }
}

const tmp: string[] = []
export async function removeCloneDirs(): Promise<void> {
  await Promise.all(tmp.splice(0).map((d) => fs.rm(d, { recursive: true, force: true })))
}

/** The clone's own change on top of the committed text, or none. */
function cloneEdit(text: string, rng: Rng, seed: number): { text: string; what: string; title?: [string, string]; added?: string } {
  const r = rng()
  const list = todos(text)
  if (r < 0.3 || list.length === 0) return { text, what: 'none' }
  if (r < 0.65) {
    const [id] = pick(rng, list)
    const title = `clone ${seed}`
    const re = new RegExp(`(- id: "?${id}"?\\n(?:\\s+.*\\n)*?\\s+title: )(.*)`)
    const m = re.exec(text)
    if (!m) return { text, what: 'none' }
    return { text: text.replace(re, `$1"${title}"`), what: 'title', title: [id, `"${title}"`] }
  }
  const id = `c${seed}`
  const sep = text.endsWith('\n') ? '' : '\n'
  // Appended at the list's usual indentation, when the list is the file's last block.
  const indent = /\n( *)- id:/.exec(text)?.[1] ?? '  '
  return { text: `${text}${sep}${indent}- id: ${id}\n${indent}  title: added by the clone\n${indent}  status: todo\n`, what: 'add', added: id }
}

export async function runJoinCase(seed: number, o: { steps?: number } = {}): Promise<CaseResult> {
  const rng = mulberry32(seed)
  const failures: CaseResult['failures'] = []
  const a = await Node.make({ name: 'a' })
  git(a.root, ['add', '-A'])
  await writeFile(a.root, TODOS, SEED_TODOS)
  await a.start()
  git(a.root, ['add', '-A'])
  git(a.root, ['commit', '-qm', 'c0'])
  const track = ['.rhema/**/*.yaml', '.rhema/*.yaml']
  let points = 0
  const point = async () => {
    const p = await recordSyncPoint({ root: a.root, paths: spacePaths(a.root), track, states: liveStates(a.s), via: 'commit', by: 'a' })
    if (p) points++
  }
  if (rng() < 0.5) await point()
  const code = await joinCode(a.root)
  const b = await Node.make({ name: 'b', join: code })
  await b.start()
  await exchange(a, b)
  const steps = o.steps ?? 3 + Math.floor(rng() * 6)
  let commits = 1
  const idPool = ['t0', 't1', 'x1', 'x2', 'x3', 'x4']
  for (let i = 0; i < steps; i++) {
    const p = rng() < 0.5 ? a : b
    const now = (await p.file()) ?? ''
    const e = randomEdit(now, rng, { idPool })
    if (e.text !== now) await p.edit(e.text)
    await idle(p.s)
    await exchange(a, b)
    if (rng() < 0.5 && git(a.root, ['status', '--porcelain', '--', TODOS]).trim()) {
      git(a.root, ['commit', '-qam', `c${commits++}`])
      if (rng() < 0.5) await point()
    }
  }
  const live = (await a.file())!
  const history = git(a.root, ['log', '--format=%H']).trim().split('\n')
  const fromIdx = Math.floor(rng() * history.length)
  const from = history[fromIdx]!
  // The clone: a new machine's checkout of that commit.
  const parent = await fs.realpath(await fs.mkdtemp(path.join(os.tmpdir(), 'ctxsync-join-')))
  tmp.push(parent)
  const cdir = path.join(parent, 'c')
  git(parent, ['clone', '-q', a.root, cdir])
  git(cdir, ['reset', '-q', '--hard', from])
  const withNotes = points > 0 && rng() < 0.5
  if (withNotes) git(cdir, ['fetch', '-q', 'origin', 'refs/notes/*:refs/notes/*'])
  await init({ cwd: cdir, name: 'c', discovery: 'none', join: code })
  const c = new Node(cdir)
  const committed = (await c.file())!
  const edit = cloneEdit(committed, rng, seed)
  const early = rng() < 0.5
  if (early) await c.editOffline(edit.text)
  await c.start()
  if (!early && edit.text !== committed) await c.edit(edit.text)
  await idle(c.s)
  if (!c.s.doc(TODOS)?.model.isEmpty) failures.push({ kind: 'enrolled-early', detail: 'the clone enrolled before any exchange' })
  if ((await c.file()) !== edit.text) failures.push({ kind: 'clone-edit-lost', detail: 'the file changed before any exchange' })

  await exchange(a, c)
  await finishJoin(c.s)
  await exchange(a, c)
  await exchange(b, a)
  await exchange(b, c)
  await Promise.all([idle(a.s), idle(b.s), idle(c.s)])

  const [fa, fb, fc] = [await a.file(), await b.file(), await c.file()]
  if (fa !== fb || fa !== fc) failures.push({ kind: 'diverged', detail: `a:\n${fa}\nb:\n${fb}\nc:\n${fc}` })
  for (const n of [a, b, c]) {
    const k = n.s.conflicts().length
    if (k) failures.push({ kind: 'conflict', detail: `${k} on ${path.basename(n.root)}: ${JSON.stringify(n.s.conflicts().map((x) => x.values.map((v) => v.value)))}` })
  }
  const want = new Map(todos(live))
  const got = new Map(todos(fa ?? ''))
  for (const [id, fields] of want) {
    const g = got.get(id)
    if (!g) {
      failures.push({ kind: 'rolled-back', detail: `todo ${id} gone` })
      continue
    }
    for (const [k, v] of fields) {
      if (edit.title && edit.title[0] === id && k === 'title') {
        if (g.get(k) !== edit.title[1]) failures.push({ kind: 'clone-edit-lost', detail: `${id}.title is ${g.get(k)}` })
      } else if (g.get(k) !== v) failures.push({ kind: 'rolled-back', detail: `${id}.${k}: live ${v}, now ${g.get(k)}` })
    }
  }
  for (const id of got.keys()) {
    if (!want.has(id) && id !== edit.added && !(edit.title && edit.title[0] === id)) failures.push({ kind: 'rolled-back', detail: `todo ${id} came back` })
  }
  if (edit.added && ![...got.keys()].includes(edit.added)) failures.push({ kind: 'clone-edit-lost', detail: `todo ${edit.added} missing` })
  if (edit.added && todos(fa ?? '').filter(([id]) => id === edit.added).length !== 1) failures.push({ kind: 'clone-edit-lost', detail: `todo ${edit.added} not once` })
  for (const n of [a, b, c]) await n.close()
  return { seed, commits, from: history.length - 1 - fromIdx, syncPoint: withNotes, cloneEdit: `${edit.what}${early ? ' (before start)' : ''}`, failures }
}
