/**
 * Recording a sync point: for HEAD, each tracked file's blob and — when the committed content is exactly
 * what the CRDT last held on disk — the document's state vector (see `git/notes.ts` for the format).
 *
 * Fast on purpose (it runs in post-commit, whose cost every commit pays): the CRDT is never loaded. The
 * states come from the running daemon when there is one, else from the summary it (or the last command)
 * saved; committed content is compared with the working file by blob id and with the state's content by
 * hash, which needs no blob to be read.
 */
import fs from 'node:fs/promises'
import path from 'node:path'
import { createMatcher } from '../fs/globs.js'
import { sha256hex } from '../ids.js'
import { addSyncPoint, parseNote, NOTES_REF, type FilePoint, type SyncPoint } from '../git/notes.js'
import { Repo } from '../git/repo.js'
import { readIdentity } from './secrets.js'
import type { SpacePaths } from './paths.js'
import type { DocView } from './context.js'
import type { DocState } from './api.js'
import { readSummary } from './summary.js'

export type { DocState } from './api.js'

/** The live states of a running space (the daemon answers `syncpoint` with this). */
export function liveStates(space: { docs(): Iterable<DocView> }): Record<string, DocState> {
  const out: Record<string, DocState> = {}
  for (const e of space.docs()) {
    if (e.state !== 'ok' || !e.diskHash || !e.model.exists()) continue
    out[e.name] = { hash: e.diskHash, sv: Buffer.from(e.model.stateVector()).toString('base64') }
  }
  return out
}

/** The states saved in the summary (no daemon). */
export async function savedStates(paths: SpacePaths): Promise<Record<string, DocState>> {
  const out: Record<string, DocState> = {}
  for (const f of (await readSummary(paths.summary))?.files ?? []) {
    if (f.baseHash && f.sv && f.state !== 'held' && f.state !== 'refused') out[f.path] = { hash: f.baseHash, sv: f.sv }
  }
  return out
}

export interface RecordOptions {
  root: string
  paths: SpacePaths
  /** The tracked globs (`ctxsync.yaml`). */
  track: readonly string[]
  states: Record<string, DocState>
  via: 'commit' | 'sync' | 'merge'
  /** Who records it (local.yaml name). */
  by: string
  repo?: Repo | null
  /** The commit to annotate (default HEAD): the post-commit hook names its commit, as HEAD may have moved on. */
  commit?: string
}

/** Records a sync point for HEAD. Returns it, or null when there is nothing to record. */
export async function recordSyncPoint(o: RecordOptions): Promise<SyncPoint | null> {
  const repo = o.repo ?? (await Repo.open(o.root))
  if (!repo) return null
  const head = await repo.commit(o.commit ?? 'HEAD')
  if (!head) return null
  const prefix = path.relative(repo.root, o.root).split(path.sep).join('/')
  const match = createMatcher(o.track)
  const nameOf = (p: string) => (prefix === '' ? p : p.startsWith(prefix + '/') ? p.slice(prefix.length + 1) : null)
  const keep = (p: string) => {
    const n = nameOf(p)
    return n !== null && match(n)
  }
  const [blobs, parent, identity] = await Promise.all([
    repo.treeBlobs(head.hash, keep),
    head.parents[0] ? repo.treeBlobs(head.parents[0], keep) : Promise.resolve(new Map<string, string>()),
    readIdentity(o.paths.identity),
  ])
  const files: Record<string, FilePoint> = {}
  let held = 0
  for (const [p, oid] of blobs) {
    const st = o.states[nameOf(p)!]
    const work = st ? await fs.readFile(path.join(repo.root, p)).catch(() => null) : null
    // The commit holds the synced content when the work file is both what was committed and what the CRDT had.
    if (st && work && repo.blobId(work) === oid && sha256hex(work) === st.hash) {
      files[p] = { b: oid, sv: st.sv }
      held++
    } else files[p] = { b: oid }
  }
  const ch = [...new Set([...blobs.keys(), ...parent.keys()])].filter((p) => blobs.get(p) !== parent.get(p)).sort()
  const point: SyncPoint = { v: 1, at: new Date().toISOString(), by: o.by, peer: identity?.id ?? '', via: o.via, files, ...(ch.length ? { ch } : {}) }
  if (o.via === 'sync') {
    // `sync` runs often: record only what adds something (a held state, not already recorded).
    if (held === 0) return null
    const prev = parseNote((await repo.tryRaw(['notes', `--ref=${NOTES_REF}`, 'show', head.hash])) ?? '').at(-1)
    if (prev && JSON.stringify(prev.files) === JSON.stringify(files)) return null
  }
  await withNotesLock(o.paths.state, () => addSyncPoint(repo, head.hash, point))
  return point
}

/**
 * `git notes append` replaces the notes ref without checking what it replaced: two recorders at once
 * (commits in quick succession) would lose one sync point. One writer at a time per clone.
 */
async function withNotesLock<T>(stateDir: string, f: () => Promise<T>): Promise<T> {
  const { default: lockfile } = await import('proper-lockfile')
  const target = path.join(stateDir, 'notes')
  await fs.mkdir(stateDir, { recursive: true })
  const release = await lockfile.lock(target, {
    realpath: false, lockfilePath: `${target}.lock`, stale: 10_000,
    retries: { retries: 100, minTimeout: 10, maxTimeout: 100 },
  })
  try {
    return await f()
  } finally {
    await release().catch(() => undefined)
  }
}

/**
 * `ctxsync sync`'s sync point for HEAD (null when none was recorded): states given by the caller that has
 * the space open, else asked of the daemon, else from the saved summary. Never throws: a sync point is a
 * bonus, the sync itself is what was asked for.
 */
export async function syncPointAfterSync(cwd: string, states?: Record<string, DocState>): Promise<string | null> {
  try {
    const { findRoot, spacePaths } = await import('./paths.js')
    const { readTeamConfig, readLocalSettings, DEFAULT_HOST, DEFAULT_PORT } = await import('./config.js')
    const root = findRoot(cwd)
    if (!root) return null
    let paths = spacePaths(root)
    const config = await readTeamConfig(paths.config)
    const repo = await Repo.open(root)
    if (!config || !repo) return null
    if (config.branches === 'separate') {
      const { branchPaths, DETACHED } = await import('./branches.js')
      paths = await branchPaths(paths, (await repo.branch()) ?? DETACHED, false)
    }
    if (!states) {
      const { runningDaemon } = await import('./daemonfile.js')
      const { callDaemon } = await import('./control.js')
      const d = await runningDaemon(paths)
      states = d ? (await callDaemon(d.socket, 'syncpoint', null, 5000)).states : await savedStates(paths)
    }
    const local = await readLocalSettings(paths.local, { name: path.basename(root), agent: false, host: DEFAULT_HOST, port: DEFAULT_PORT, peers: [] })
    const p = await recordSyncPoint({ root, paths, track: config.track, states, via: 'sync', by: local.name, repo })
    return p ? await repo.head() : null
  } catch {
    return null
  }
}
