/**
 * `ctxsync log [PATH]`: the sync points of the commits reachable from HEAD, newest first — which commit,
 * when and by whom the point was recorded, and which context files the commit changed. With PATH, only
 * the points whose commit changed that file.
 */
import path from 'node:path'
import { CtxError } from '../errors.js'
import { requireRoot, loadNotes, loadRepo } from '../space/index.js'

export interface LogOptions {
  cwd: string
  path?: string
  /** How many commits back to look (default 1000). */
  limit?: number
  /** How many entries to list at most (`-n`, as git log counts what it shows). */
  max?: number
}

export interface LogEntry {
  commit: string
  subject: string
  /** When the sync point was recorded (ISO). */
  time: string
  /** Who recorded it (the peer's name) and what recorded it (commit, sync, merge). */
  author: string
  peer: string
  via: string
  /** Context files the commit changed (repository paths). */
  changed: string[]
  /** Files whose CRDT state the point holds (state vector recorded). */
  held: string[]
}

export async function log(o: LogOptions): Promise<{ entries: LogEntry[] }> {
  const root = requireRoot(o.cwd)
  const [{ Repo }, { mergeRemoteNotes, noteIndex, syncPointsOf }] = await Promise.all([loadRepo(), loadNotes()])
  const repo = await Repo.open(root)
  if (!repo) throw new CtxError('no-git', `${root} is not in a git repository: sync points live in git notes`)
  // Notes fetched but not merged yet (a plain `git fetch` runs no hook) count too.
  await mergeRemoteNotes(repo).catch(() => undefined)
  const index = await noteIndex(repo)
  const head = await repo.head()
  if (!head || index.size === 0) return { entries: [] }
  const history = await repo.history(head, o.limit ?? 1000)
  const points = await syncPointsOf(repo, history.map((c) => c.hash), index)
  const filter = o.path ? path.relative(repo.root, path.resolve(o.cwd, o.path)).split(path.sep).join('/') : null
  const entries: LogEntry[] = []
  for (const c of history) {
    for (const p of [...(points.get(c.hash) ?? [])].reverse()) {
      const changed = p.ch ?? []
      if (filter && !changed.some((f) => f === filter || f.startsWith(filter + '/'))) continue
      const held = Object.entries(p.files).filter(([, f]) => f.sv).map(([f]) => f)
      entries.push({ commit: c.hash, subject: c.subject, time: p.at, author: p.by, peer: p.peer, via: p.via, changed, held })
      if (o.max !== undefined && entries.length >= o.max) return { entries }
    }
  }
  return { entries }
}
