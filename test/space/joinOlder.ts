/**
 * The join generator's worlds whose clone starts before the ctxsync.yaml commit (black-box tester finding 5,
 * issue 13 item 4): the context files were committed and edited with plain git (a todos file, and a
 * knowledge file that a later commit may delete), then A set the space up (the real `init`, ctxsync.yaml
 * committed), B joined, and both edit live in turn. Each clone is a new machine's clone checked out at a
 * commit from before the space — no ctxsync.yaml in its tree — made a member by the real `init --join`
 * there, optionally editing the file on top of that commit (before or after it starts, sometimes
 * restarting), then exchanging with A and B as `sync`/`watch` would.
 *
 * What must hold is the join generator's (`joinRig.ts`: no spurious record, every real race recorded, all
 * converged, nothing rolled back, the clone's change kept, nothing enrolled before the exchange), where
 * "the live context changed since the commit" spans the plain-git history before the space too; and a
 * file the history deleted before the space existed stays deleted on every peer and in the clone
 * (`rolled-back`: "came back").
 */
import fs from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'
import { init } from '../../src/commands/init.js'
import { asDocName } from '../../src/ids.js'
import { SEED_TODOS } from '../crdt/converge.js'
import { mulberry32, randomEdit, type Rng } from '../crdt/mutate.js'
import { idle, joinCode, Node, TODOS, writeFile } from './harness.js'
import { checkValues, cloneEdit, cloneJoins, exchange, fieldChanges, freshRecords, git, judgeRecords, noRaces, recordSig, type CaseResult } from './joinRig.js'

const KNOWLEDGE = asDocName('.rhema/knowledge.yaml')
const KNOWLEDGE_TEXT = 'knowledge:\n  - id: k1\n    text: an old fact\n'
const ID_POOL = ['t0', 't1', 'x1', 'x2', 'x3', 'x4']

const tmp: string[] = []
export async function removeOlderDirs(): Promise<void> {
  await Promise.all(tmp.splice(0).map((d) => fs.rm(d, { recursive: true, force: true })))
}

async function exists(file: string): Promise<boolean> {
  return fs.access(file).then(() => true, () => false)
}

/** One world (seeded): plain-git history, the space set up, live edits, then `clones` clones of pre-space commits. */
export async function runOlderWorld(seed: number, o: { clones?: number } = {}): Promise<CaseResult[]> {
  const rng = mulberry32(seed)
  const parent = await fs.realpath(await fs.mkdtemp(path.join(os.tmpdir(), 'ctxsync-join-older-')))
  tmp.push(parent)
  const root = path.join(parent, 'a')
  await fs.mkdir(root)
  git(root, ['init', '-q'])
  await writeFile(root, TODOS, SEED_TODOS)
  await writeFile(root, KNOWLEDGE, KNOWLEDGE_TEXT)
  git(root, ['add', '-A'])
  git(root, ['commit', '-qm', 'p0'])
  // The todos texts one after the other, and where each commit sits among them (what changed since).
  const hist = [SEED_TODOS]
  const at = new Map([[git(root, ['rev-parse', 'HEAD']).trim(), 0]])
  const pre = [git(root, ['rev-parse', 'HEAD']).trim()]
  let text = SEED_TODOS
  const dropKnowledge = rng() < 0.5
  for (let i = 1 + Math.floor(rng() * 4); i > 0; i--) {
    const e = randomEdit(text, rng, { idPool: ID_POOL })
    // Only the final newline: not the join's (joinRig.ts).
    if (e.text.replace(/\n$/, '') === text.replace(/\n$/, '')) continue
    text = e.text
    await writeFile(root, TODOS, text)
    hist.push(text)
    if (dropKnowledge && i === 1) git(root, ['rm', '-q', KNOWLEDGE])
    git(root, ['commit', '-qam', 'before the space'])
    const h = git(root, ['rev-parse', 'HEAD']).trim()
    at.set(h, hist.length - 1)
    pre.push(h)
  }
  if (dropKnowledge && (await exists(path.join(root, KNOWLEDGE)))) {
    git(root, ['rm', '-q', KNOWLEDGE])
    git(root, ['commit', '-qm', 'knowledge dropped'])
    at.set(git(root, ['rev-parse', 'HEAD']).trim(), hist.length - 1)
  }
  // The space is set up on the last text: ctxsync.yaml committed.
  await init({ cwd: root, name: 'a', discovery: 'none' })
  git(root, ['add', '-A'])
  git(root, ['commit', '-qm', 'ctxsync'])
  const a = new Node(root)
  await a.start()
  const code = await joinCode(root)
  const b = await Node.make({ name: 'b', join: code })
  await b.start()
  await exchange(a, b)
  const liveEdits = async (n: number) => {
    for (let i = 0; i < n; i++) {
      const p = rng() < 0.5 ? a : b
      const now = (await p.file()) ?? ''
      const e = randomEdit(now, rng, { idPool: ID_POOL })
      if (e.text.replace(/\n$/, '') === now.replace(/\n$/, '')) continue
      await p.edit(e.text)
      await idle(p.s)
      await exchange(a, b)
      hist.push((await a.file()) ?? '')
      if (rng() < 0.4 && git(root, ['status', '--porcelain', '--', TODOS]).trim()) git(root, ['commit', '-qam', 'live'])
    }
  }
  await liveEdits(2 + Math.floor(rng() * 5))
  const out: CaseResult[] = []
  for (let k = 0; k < (o.clones ?? 1); k++) {
    if (k > 0) await liveEdits(Math.floor(rng() * 3))
    out.push(await joinFromBefore(`${seed}.${k}`, rng, { a, b, code, parent, pre, k, since: (h) => since(hist, at.get(h) ?? 0), dropKnowledge }))
    hist.push((await a.file()) ?? '')
  }
  await a.close()
  await b.close()
  return out
}

function since(hist: string[], from: number): Set<string> {
  const set = new Set<string>()
  for (let i = from; i + 1 < hist.length; i++) for (const f of fieldChanges(hist[i]!, hist[i + 1]!)) set.add(f)
  return set
}

async function joinFromBefore(
  label: string, rng: Rng,
  w: { a: Node; b: Node; code: string; parent: string; pre: string[]; k: number; since: (hash: string) => Set<string>; dropKnowledge: boolean },
): Promise<CaseResult> {
  const { a, b } = w
  const failures: CaseResult['failures'] = []
  const live = (await a.file())!
  const before = new Set([...a.s.conflicts(), ...b.s.conflicts()].map(recordSig))
  if ((await b.file()) !== live) failures.push({ kind: 'live-diverged', detail: `a ${JSON.stringify(live)}\n  b ${JSON.stringify(await b.file())}` })
  const fromIdx = Math.floor(rng() * w.pre.length)
  const from = w.pre[fromIdx]!
  const cdir = path.join(w.parent, `c${w.k}`)
  git(w.parent, ['clone', '-q', a.root, cdir])
  git(cdir, ['checkout', '-q', from])
  await init({ cwd: cdir, name: `c${w.k}`, discovery: 'none', join: w.code })
  const c = new Node(cdir)
  const committed = (await c.file())!
  const edit = cloneEdit(committed, rng, w.k)
  const early = rng() < 0.5
  if (early) await c.editOffline(edit.text)
  const restarted = await cloneJoins(c, a, b, edit, committed, early, rng, failures)
  await exchange(a, c, KNOWLEDGE)
  await exchange(b, c, KNOWLEDGE)
  await Promise.all([idle(a.s), idle(b.s), idle(c.s)])
  // Started again once joined: a file the space never had is not enrolled now either.
  await c.close()
  await c.start()
  await exchange(a, c)
  await exchange(a, c, KNOWLEDGE)
  await exchange(b, a, KNOWLEDGE)
  await Promise.all([idle(a.s), idle(b.s), idle(c.s)])

  const [fa, fb, fc] = [await a.file(), await b.file(), await c.file()]
  if (fa !== fb || fa !== fc) failures.push({ kind: 'diverged', detail: `a ${JSON.stringify(fa)}\n  b ${JSON.stringify(fb)}\n  c ${JSON.stringify(fc)}` })
  if (w.dropKnowledge) {
    for (const n of [a, b, c]) if (await exists(path.join(n.root, KNOWLEDGE))) failures.push({ kind: 'rolled-back', detail: `${KNOWLEDGE}, deleted before the space, came back in ${path.basename(n.root)}` })
  }
  const fresh = await freshRecords([a, b, c], before)
  const races = noRaces()
  failures.push(...judgeRecords({ committed, edit, live, liveSince: w.since(from), records: [...fresh.values()] }, races))
  failures.push(...checkValues(live, fa ?? '', edit, committed))
  await c.close()
  return { seed: label, commits: w.pre.length, from: fromIdx, syncPoint: false, cloneEdit: `${edit.what}${early ? ' (before start)' : ''}${restarted ? ' (restarted)' : ''}`, failures, races }
}
