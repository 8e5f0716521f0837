/**
 * The world of black-box tester findings 3 and N2 (stops 31–33, `joinroll.sh`, `jpf.sh`): ann's space on SEED in
 * a git repository (no hooks: no sync points), bob joined live; X committed — by ann live, or by carl through plain
 * git and pulled by ann (`held: 'pulled'`) — then, a second later (commit times are seconds), bob sets Y live,
 * uncommitted. The tests go on with a plain-git teammate's commit on top and a joiner from an older commit.
 */
import fs from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'
import { init } from '../../src/commands/init.js'
import { idle, joinCode, Node, TODOS, writeFile } from './harness.js'
import { exchange, git } from './joinRig.js'
import { gitAs, gitAsDaemon } from './gitworld.js'

// The tester's file (joinroll.sh): with these texts the CRDT merge's tie went to X.
export const XY_SEED = `# Todos
todos:
  - id: T-1
    title: Set up CI
    status: todo   # owner: ann
  - id: T-2
    title: Write docs
    status: todo
`

const tmp: string[] = []
/** Removes the worlds made here (call from afterAll). */
export async function removeXYWorlds(): Promise<void> {
  for (const d of tmp.splice(0)) await fs.rm(d, { recursive: true, force: true })
}

/** `parent` holds ann's repository `root` (first commit `base`) and the clones the test makes; a, b: ann, bob. */
export async function xThenY(prefix: string, held: 'live' | 'pulled' = 'live'): Promise<{ parent: string; root: string; base: string; a: Node; b: Node }> {
  const parent = await fs.realpath(await fs.mkdtemp(path.join(os.tmpdir(), prefix)))
  tmp.push(parent)
  const root = path.join(parent, 'a')
  await fs.mkdir(root)
  git(root, ['init', '-q', '-b', 'main'])
  await writeFile(root, TODOS, XY_SEED)
  await init({ cwd: root, name: 'ann', discovery: 'none' })
  git(root, ['add', '-A'])
  git(root, ['commit', '-qm', 'ctxsync'])
  const base = git(root, ['rev-parse', 'HEAD']).trim()
  const a = new Node(root)
  await a.start()
  const b = await Node.make({ name: 'bob', join: await joinCode(root) })
  await b.start()
  await exchange(a, b)
  if (held === 'live') {
    // ann commits X (no hooks: no sync point).
    await a.edit(XY_SEED.replace('title: Set up CI', 'title: X committed by ann'))
    await idle(a.s)
    await gitAsDaemon(a, ['commit', '-qam', 'C1 ann X'], 'ann')
  } else {
    // carl (plain git) commits X; ann pulls it: the live context holds X as git's take-in, written by ann's client.
    const carl = path.join(parent, 'carl')
    git(parent, ['clone', '-q', root, carl])
    await fs.writeFile(path.join(carl, TODOS), XY_SEED.replace('title: Set up CI', 'title: X committed by ann'))
    gitAs(carl, ['commit', '-qam', 'C1 carl X'], 'carl')
    await gitAsDaemon(a, ['pull', '-q', '--no-rebase', carl, 'main'], 'ann')
  }
  await exchange(a, b)
  await new Promise((r) => setTimeout(r, 1100)) // Y is written in a later second than C1 (commit times are seconds)
  // bob sets Y live, uncommitted.
  await b.edit(XY_SEED.replace('title: Set up CI', 'title: Y live by bob'))
  await idle(b.s)
  await exchange(b, a)
  return { parent, root, base, a, b }
}
