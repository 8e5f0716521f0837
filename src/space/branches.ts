/**
 * `branches: separate`: one space per git branch.
 *
 * Each branch keeps its CRDT state in `.ctxsync/branches/<branch>/` (sidecars and the status summary) and
 * syncs under its own wire id (derived from the space id and the branch name), so peers on other branches
 * neither send nor accept its updates. A branch checked out for the first time starts as a copy of the
 * state it was switched from — branches fork, exactly as in git — so that the two states share history
 * and merging them later is a plain CRDT merge.
 *
 * When a git operation brings a branch's commits into the current one (a merge), that branch's state is
 * merged into the current state as a peer's updates would be: everything merges, and values both branches
 * changed become conflicts that `resolve` lists.
 */
import { createHash } from 'node:crypto'
import fs from 'node:fs/promises'
import path from 'node:path'
import { writeFileAtomic } from '../fs/atomic.js'
import type { PeerId, SpaceId } from '../ids.js'
import { logger } from '../debuglog.js'
import type { Repo } from '../git/repo.js'
import type { SpacePaths } from './paths.js'
import type { BranchContext } from './context.js'

const log = logger('space:branches')
const B32 = 'abcdefghijklmnopqrstuvwxyz234567'
export const DETACHED = '(detached)'

/** A directory name for a branch: readable, and no two branches share one. */
export function branchDir(branch: string): string {
  return encodeURIComponent(branch).replace(/\./g, '%2E')
}

/** The wire id of a branch's space. */
export function branchSpaceId(space: SpaceId, branch: string): SpaceId {
  const h = createHash('sha256').update(`${space}\0${branch}`).digest()
  let out = 's-'
  for (let i = 0; i < 16; i++) out += B32[h[i]! & 31]
  return out as SpaceId
}

const branchesRoot = (paths: SpacePaths) => path.join(paths.state, 'branches')
const lastFile = (paths: SpacePaths) => path.join(branchesRoot(paths), 'LAST')

async function exists(p: string): Promise<boolean> {
  return fs.access(p).then(() => true, () => false)
}

/**
 * The paths of `branch`'s state. With `fork`, a branch seen for the first time gets a copy of the state of
 * the branch used last (or of the shared state, when switching a space from shared to separate).
 */
export async function branchPaths(paths: SpacePaths, branch: string, fork: boolean): Promise<SpacePaths> {
  const dir = path.join(branchesRoot(paths), branchDir(branch))
  const out: SpacePaths = { ...paths, docs: path.join(dir, 'docs'), summary: path.join(dir, 'status.json') }
  if (!fork) return out
  if (!(await exists(out.docs))) {
    const last = (await fs.readFile(lastFile(paths), 'utf8').catch(() => '')).trim()
    const from = last ? path.join(branchesRoot(paths), last, 'docs') : paths.docs
    await fs.mkdir(dir, { recursive: true })
    if (await exists(from)) {
      log('forking the state of %s for branch %s', last || '(shared)', branch)
      await fs.cp(from, out.docs, { recursive: true })
    }
  }
  await fs.mkdir(dir, { recursive: true })
  await writeFileAtomic(lastFile(paths), branchDir(branch) + '\n')
  return out
}

/** Branches that have a state on this machine (decoded names). */
export async function knownBranches(paths: SpacePaths): Promise<string[]> {
  const entries = await fs.readdir(branchesRoot(paths), { withFileTypes: true }).catch(() => [])
  return entries.filter((d) => d.isDirectory()).map((d) => decodeURIComponent(d.name))
}

/**
 * Merges into `space` the state of every branch whose tip the last git operation brought into HEAD (an
 * ancestor of HEAD now, not of `before`). Returns the branches merged.
 */
export async function mergeBranchStates(space: BranchContext, repo: Repo, before: string | null): Promise<string[]> {
  const head = await repo.head()
  if (!head || !space.branch) return []
  const merged: string[] = []
  for (const b of await knownBranches(space.paths)) {
    if (b === space.branch || b === DETACHED) continue
    const tip = (await repo.tryRaw(['rev-parse', '-q', '--verify', `refs/heads/${b}^{commit}`]))?.trim()
    if (!tip || !(await repo.isAncestor(tip, head))) continue
    if (before && (await repo.isAncestor(tip, before))) continue
    const n = await mergeOne(space, path.join(branchesRoot(space.paths), branchDir(b), 'docs'), b)
    log('merged the state of branch %s into %s (%d documents)', b, space.branch, n)
    merged.push(b)
  }
  return merged
}

async function mergeOne(space: BranchContext, docs: string, branch: string): Promise<number> {
  // Loaded here: hooks use this module's paths and must not pay for Yjs.
  const [Y, { FileDocStore }] = await Promise.all([import('yjs'), import('../fs/sidecar.js')])
  const store = new FileDocStore({ dir: docs })
  let n = 0
  try {
    for (const name of await store.list()) {
      const doc = space.acceptName(name)
      if (!doc) continue
      const loaded = await store.load(name).catch(() => null)
      if (!loaded || loaded.updates.length === 0) continue
      const update = Y.diffUpdate(Y.mergeUpdates(loaded.updates), space.stateVectorOf(doc))
      if (update.length > 2) {
        try {
          await space.applyRemote(doc, update, `branch:${branch}` as PeerId)
          n++
        } catch (err) {
          // A branch state outside the model's limits (crdt/guard.ts) is left out; the rest merges.
          if ((err as Error)?.name !== 'RefusedUpdateError') throw err
          space.warn(`${doc}: not merged from branch ${branch}: ${(err as Error).message}`)
        }
      }
      space.mergeSeen(doc, loaded.meta.seen)
    }
  } finally {
    await store.close()
  }
  return n
}
