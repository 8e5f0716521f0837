/**
 * `ctxsync status` data without a daemon (`readStatus` in client.ts asks the running one first): computed
 * cold from the saved summary plus a look at the files themselves (a file whose content differs from the last synced
 * one has local changes; if it does not parse it is held) — never loading the CRDT state, so it is fast.
 */
import fs from 'node:fs/promises'
import path from 'node:path'
import { NotInitializedError } from '../errors.js'
import { readTextFile } from '../fs/atomic.js'
import { listTracked } from '../fs/globs.js'
import { readLockOwner } from '../fs/lock.js'
import { PRESENCE_WINDOW_MS } from '../net/presence.js'
import { readLocalSettings, readTeamConfig, DEFAULT_HOST, DEFAULT_PORT } from './config.js'
import type { SpacePaths } from './paths.js'
import { readIdentity } from './secrets.js'
import type { StatusData } from './statusdata.js'
import { PeerBook, readSummary, type FileStatus, type OnlinePeer } from './summary.js'
import { hasRecords } from './mergefile.js'

export type { StatusData }

/** `status` also reports git's side, by the branch mode configured. */
export { readTeamConfig }



/**
 * Without a daemon: the saved summary, checked against the files. `daemon`: one whose pid is alive but that
 * did not answer (it is starting or stopping): still reported as running.
 */
export async function savedStatus(root: string, spaceAt: SpacePaths, daemon: { pid: number; url: string } | null): Promise<StatusData> {
  let paths = spaceAt
  const config = await readTeamConfig(paths.config)
  if (!config) throw new NotInitializedError(root)
  if (config.branches === 'separate') {
    // Each branch has its own saved state (branches.ts); git is asked only in this mode.
    const { Repo } = await import('../git/repo.js')
    const { branchPaths, DETACHED } = await import('./branches.js')
    paths = await branchPaths(paths, (await (await Repo.open(root))?.branch()) ?? DETACHED, false)
  }
  const identity = await readIdentity(paths.identity)
  const local = await readLocalSettings(paths.local, { name: '', agent: false, host: DEFAULT_HOST, port: DEFAULT_PORT, peers: [] })
  const [summary, listing, book, lock] = await Promise.all([
    readSummary(paths.summary),
    listTracked(root, config.track),
    new PeerBook(paths.peers).load(),
    readLockOwner(paths.state),
  ])
  const saved = new Map((summary?.files ?? []).map((f) => [f.path, f]))
  const files: FileStatus[] = []
  for (const p of listing.files) {
    const s = saved.get(p)
    saved.delete(p)
    const read = await readTextFile(path.join(root, p))
    if (read.kind !== 'text') {
      files.push({ path: p, state: 'held', error: { line: 1, col: 1, message: read.kind === 'missing' ? 'vanished while reading' : `unreadable (${read.reason})` } })
      continue
    }
    if (s && read.hash === s.baseHash) {
      files.push(strip(s))
      continue
    }
    // Differs from what the daemon last took in: an edit made while none ran (a file it never saw is not
    // called edited: a fresh checkout's files wait for a first look, with no edit here).
    const changed = await checkChanged(p, read.text, s?.conflicts)
    files.push(s?.baseHash ? { ...changed, notTakenIn: 'edited' } : changed)
  }
  // Links are never read or written through (a peer's update must not land outside the repository).
  for (const p of listing.symlinks) {
    saved.delete(p)
    files.push({ path: p, state: 'refused', error: { line: 1, col: 1, message: 'a symbolic link: ctxsync never reads or writes through links; replace it with a regular file' } })
  }
  for (const p of listing.linkedDirs) {
    files.push({ path: p, state: 'refused', error: { line: 1, col: 1, message: 'a symbolically linked directory: files under it are not synced; replace the link with a directory' } })
  }
  // Known files that are gone from disk: their deletion is not synced yet.
  for (const s of saved.values()) if (s.baseHash) files.push({ path: s.path, state: 'pending', notTakenIn: 'deleted' })
  files.sort((a, b) => (a.path < b.path ? -1 : 1))
  // The merge driver's records count as conflicts (mergestore.ts, loaded only when there are some; kept in
  // the space's own state directory whatever the branch mode).
  const counted = { files, conflicts: files.reduce((n, f) => n + (f.conflicts ?? 0), 0) }
  if (await hasRecords(spaceAt)) await (await import('./mergestore.js')).countMergeConflicts(counted, spaceAt, config.rules)
  const running = !!daemon || !!(lock?.alive && lock.command.includes('watch'))
  return {
    space: config.space,
    root,
    peer: { id: identity?.id ?? '', name: local.name, kind: local.agent ? 'agent' : 'human' },
    daemon: running ? { running: true, ...(daemon ? { pid: daemon.pid, url: daemon.url } : { pid: lock!.pid }) } : { running: false },
    files,
    peers: book.list(),
    // What the daemon last saved; with no daemon this machine is offline and knows of nobody online.
    online: running ? savedOnline(summary?.online) : [],
    conflicts: counted.conflicts,
    // join.ts's marker (read here without loading join.ts, which brings the CRDT model).
    ...(identity ? {} : { notJoined: true }),
    ...((await fs.access(path.join(spaceAt.state, 'joining')).then(() => true, () => false)) ? { joining: true } : {}),
  }
}

/**
 * Files git left with conflict markers are held, whoever answers: a running daemon does not read files while
 * git is mid-merge (MERGE_HEAD), so it showed such a file as `pending`, with no word of the markers (issue 17
 * tester). A cheap look for the markers first; only a file that has them is parsed. The advice depends on
 * whether this clone has the merge driver (markers.ts).
 */
export async function markConflictMarkers(s: StatusData): Promise<void> {
  for (const f of s.files) {
    if (f.state === 'held' || f.state === 'refused') continue
    const read = await readTextFile(path.join(s.root, f.path)).catch(() => null)
    if (read?.kind !== 'text' || !/^<{7}(?: |$)/m.test(read.text)) continue
    const { parseYaml, YamlSyntaxError, CONFLICT_MARKERS } = await import('../crdt/parse.js')
    try {
      parseYaml(read.text)
    } catch (e) {
      if (!(e instanceof YamlSyntaxError) || e.reason !== CONFLICT_MARKERS) continue
      f.state = 'held'
      f.error = { line: e.line, col: e.col, message: e.reason }
    }
  }
  // Said as this clone's facts make it (markers.ts): whether the merge driver is set up here.
  for (const f of s.files) {
    if (!f.error || f.state !== 'held' || !f.error.message.startsWith('holds git conflict markers')) continue
    const { heldReason } = await import('./markers.js')
    f.error.message = await heldReason(s.root, f.path, f.error.message)
  }
}

/** The saved presence, without files that have left the window since it was written. */
function savedOnline(online: OnlinePeer[] | undefined): OnlinePeer[] {
  const since = Date.now() - PRESENCE_WINDOW_MS
  return (online ?? []).map((p) => ({ ...p, files: p.files.filter((f) => Date.parse(f.at) >= since) }))
}

function strip(s: FileStatus & { baseHash?: unknown; sv?: unknown }): FileStatus {
  const { baseHash: _b, sv: _s, ...f } = s
  return f
}

/** A file that changed since the last sync: held if it does not parse, else pending until synced. */
async function checkChanged(p: string, text: string, conflicts: number | undefined): Promise<FileStatus> {
  // Loaded only when a file changed: the common, all-synced answer needs no parser.
  const { parseYaml, RefusedFileError, YamlSyntaxError } = await import('../crdt/parse.js')
  try {
    parseYaml(text)
  } catch (e) {
    if (e instanceof YamlSyntaxError) return { path: p, state: 'held', error: { line: e.line, col: e.col, message: e.reason } }
    if (e instanceof RefusedFileError) return { path: p, state: 'refused', error: { line: 1, col: 1, message: e.reason } }
    throw e
  }
  return conflicts ? { path: p, state: 'conflicted', conflicts } : { path: p, state: 'pending' }
}
