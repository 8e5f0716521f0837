/**
 * A live space whose commit is pushed to a bare remote, with a plain-git teammate's clone of it, and git
 * commands run as the daemon sees them (paused, the intent judged from snapshots, then reconciled) — for
 * in-process tests of what a pull or a revert brings (pullcredit, revert-file-credit).
 */
import { execFileSync } from 'node:child_process'
import fs from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'
import { classify, snapshot } from '../../src/space/gitintent.js'
import { idle, joinCode, Node, pass, SEED, TODOS } from './harness.js'

const tmp: string[] = []
/** Removes the remotes and clones made here (call from afterAll, beside removeSpaceDirs). */
export async function removeGitWorlds(): Promise<void> {
  await Promise.all(tmp.splice(0).map((d) => fs.rm(d, { recursive: true, force: true })))
}

/** git as `who`, hooks off; a failure names the command and what git said. */
export function gitAs(cwd: string, args: string[], who: string): string {
  try {
    return execFileSync('git', ['-c', `user.name=${who}`, '-c', `user.email=${who}@example.com`, '-c', 'core.hooksPath=/dev/null', ...args], { cwd, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] })
  } catch (e) {
    const x = e as { stdout?: string; stderr?: string }
    throw new Error(`git ${args.join(' ')}: ${String(x.stdout)} ${String(x.stderr)}`)
  }
}

/** `name`'s live space holding `seed`, committed and pushed; `mate`'s plain clone of it. */
export async function pushedWorld(name: string, mate: string, seed = SEED): Promise<{ node: Node; mate: string; remote: string }> {
  const node = await Node.make({ name, files: { [TODOS]: seed } })
  await node.start()
  const dir = await fs.realpath(await fs.mkdtemp(path.join(os.tmpdir(), 'ctxsync-gitworld-')))
  tmp.push(dir)
  const git = (cwd: string, args: string[]) => gitAs(cwd, args, name)
  const remote = path.join(dir, 'remote.git')
  git(dir, ['init', '-q', '--bare', '-b', 'main', remote])
  git(node.root, ['checkout', '-q', '-B', 'main'])
  git(node.root, ['add', '-A'])
  git(node.root, ['commit', '-qm', 'seed'])
  git(node.root, ['remote', 'add', 'origin', remote])
  git(node.root, ['push', '-q', '-u', 'origin', 'main'])
  // As a daemon's git watch does after the commit: HEAD noted as taken in (lasthead.ts).
  await node.s.scan()
  const clone = path.join(dir, mate)
  git(dir, ['clone', '-q', remote, clone])
  return { node, mate: clone, remote }
}

/** A plain-git teammate rewrites the file in `mate`, commits (message: `who`, plus `commit` args) and pushes. */
export async function mateCommits(mate: string, edit: (t: string) => string, who: string, commit: string[] = []): Promise<void> {
  const f = path.join(mate, TODOS)
  await fs.writeFile(f, edit(await fs.readFile(f, 'utf8')))
  gitAs(mate, ['commit', '-qam', who, ...commit], who)
  gitAs(mate, ['push', '-q', 'origin', 'main'], who)
}

/** A live peer of `node`'s space on another machine (no git of its own involved), holding what `node` holds. */
export async function joinedPeer(node: Node, name = 'bob'): Promise<Node> {
  const peer = await Node.make({ name, join: await joinCode(node.root) })
  await peer.start()
  await pass(node, peer)
  return peer
}

/**
 * A git command run as the daemon sees one; returns the intent's kind. `then`: what the person does right
 * after it, before the daemon's quiet period ends (a save).
 */
export async function gitAsDaemon(n: Node, args: string[], who: string, then?: () => Promise<void>): Promise<string> {
  const repo = (await n.s.gitRepo())!
  const before = await snapshot(repo)
  n.s.pauseForGit()
  gitAs(n.root, args, who)
  await then?.()
  const after = await snapshot(repo)
  const intent = await classify(repo, before, after, n.root, n.s.match)
  await n.s.resumeAfterGit(before.head, intent.kind === 'move' ? { ...intent, from: before.head } : intent)
  // As the git watch does next: what peers sent while git worked waited in the CRDT, written now.
  await Promise.all([...n.s.docs()].map((d) => n.s.scheduleWriteBack(d.name)))
  await idle(n.s)
  return intent.kind
}
