/**
 * `ctxsync log [PATH]`: the sync points of the commits reachable from HEAD, newest first — which commit,
 * when and by whom the point was recorded, and which context files the commit changed. With PATH, only
 * the points whose commit changed that file.
 *
 * Among them, by time, what this clone's daemon saw git do to context files (`via: 'daemon'`): the command
 * (`git revert`, `git reset`, a pull…) and for each file whether it became a synced edit or git's version
 * was kept out of the live context (space/gitreport.ts) — a reset makes no commit, and a kept-out revert
 * left only a commit that does not say so.
 */
import path from 'node:path'
import { CtxError } from '../errors.js'
import { requireRoot, loadGitReport, loadNotes, loadRepo, spacePaths } from '../space/index.js'

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
  /** Who recorded it (the peer's name) and what recorded it (commit, sync, merge; daemon: a git command seen). */
  author: string
  peer: string
  via: string
  /** Context files the commit changed (repository paths). */
  changed: string[]
  /** Files whose CRDT state the point holds (state vector recorded). */
  held: string[]
  /**
   * What became of each file the git command rewrote: via 'daemon' (`subject` names the command), or on the
   * sync point of a merge this clone made, what its daemon made of the merge (`gitOp` names the command).
   */
  git?: Array<{ path: string; outcome: string; what: string }>
  gitOp?: string
}

export async function log(o: LogOptions): Promise<{ entries: LogEntry[] }> {
  const root = requireRoot(o.cwd)
  const [{ Repo }, { mergeRemoteNotes, noteIndex, syncPointsOf }, { OUTCOME_TEXT, readRecords }] = await Promise.all([loadRepo(), loadNotes(), loadGitReport()])
  const repo = await Repo.open(root)
  if (!repo) throw new CtxError('no-git', `${root} is not in a git repository: sync points live in git notes`)
  const filter = o.path ? path.relative(repo.root, path.resolve(o.cwd, o.path)).split(path.sep).join('/') : null
  const under = (f: string) => filter === null || f === filter || f.startsWith(filter + '/')
  const seen: LogEntry[] = (await readRecords(spacePaths(root).state)).filter((r) => r.files.some((f) => under(f.path))).map((r) => ({
    commit: r.head ?? '', subject: r.op, time: r.at, author: r.by, peer: '', via: 'daemon', changed: r.files.map((f) => f.path), held: [],
    git: r.files.map((f) => ({ ...f, what: OUTCOME_TEXT[f.outcome] ?? f.outcome })),
  }))
  // Notes fetched but not merged yet (a plain `git fetch` runs no hook) count too.
  await mergeRemoteNotes(repo).catch(() => undefined)
  const index = await noteIndex(repo)
  const head = await repo.head()
  const points: LogEntry[] = []
  let reachable: Set<string> | null = null
  if (head && index.size > 0) {
    const history = await repo.history(head, o.limit ?? 1000)
    reachable = new Set(history.map((c) => c.hash))
    const byCommit = await syncPointsOf(repo, history.map((c) => c.hash), index)
    for (const c of history) {
      const p = pointOf(byCommit.get(c.hash) ?? [], c.author)
      if (!p) continue
      const changed = p.ch ?? []
      if (filter && !changed.some(under)) continue
      const held = Object.entries(p.files).filter(([, f]) => f.sv).map(([f]) => f)
      points.push({ commit: c.hash, subject: c.subject, time: p.at, author: p.by, peer: p.peer, via: p.via, changed, held })
    }
  }
  // Both newest first: merged by time, the sync points keeping their history order.
  const entries: LogEntry[] = []
  const rest = foldMerges(seen, points, reachable)
  let i = 0
  for (const p of points) {
    while (i < rest.length && Date.parse(rest[i]!.time) >= Date.parse(p.time)) entries.push(rest[i++]!)
    entries.push(p)
  }
  entries.push(...rest.slice(i))
  return { entries: o.max !== undefined ? entries.slice(0, o.max) : entries }
}

/** What of a sync point chooses it (git/notes.ts SyncPoint). */
interface Point { by: string; peer: string; via: string }

/**
 * The one sync point a commit is listed by (`points` oldest first): its maker's. Every clone that gets a
 * commit may record a point on it — a fast-forward pull runs post-merge (bob's 'recorded at merge' on ann's
 * merge commit, black-box tester stop 32, finding 7), `ctxsync sync` records one — so a commit was listed
 * once per clone that held it, on some clones under someone who only pulled it. The maker is the clone
 * whose name is the commit's git author, else the first to record the commit's making (its post-commit or
 * post-merge: no other clone had the commit before), else the first to record any point. A rebase or an
 * amend makes each commit anew and notes.rewriteRef appends the old commit's point to the new one's note
 * (issue 17 tester): of the maker's points, the newest says what the commit holds now.
 */
function pointOf<P extends Point>(points: readonly P[], author: string): P | null {
  const making = points.filter((p) => p.via === 'commit' || p.via === 'merge')
  const maker = points.find((p) => p.by === author) ?? making[0] ?? points[0]
  if (!maker) return null
  const same = (p: P) => (p.peer || p.by) === (maker.peer || maker.by)
  const mine = points.filter((p) => same(p) && (maker.via === 'sync' || p.via !== 'sync'))
  return mine.at(-1) ?? maker
}

/**
 * A merge made here is one event with two traces: the daemon's journal (git wrote the files; it names the
 * merge commit) and the sync point the post-merge hook recorded on that commit (a rebase: the post-commit
 * hook, on the last commit it made). Listed apart, the commit
 * showed twice (issue 17 tester): what the daemon made of the merge goes onto the point instead. Other
 * commands that name a commit with a point (a checkout, a fast-forward pull of a teammate's commit) are
 * events of their own, later than the point, and stay apart. Returns the records left.
 */
function foldMerges(seen: LogEntry[], points: LogEntry[], reachable: Set<string> | null): LogEntry[] {
  return seen.filter((r) => {
    // A commit made here, seen by the daemon (the save and the commit in one quiet period): one event with
    // its post-commit point, folded onto it; its commit made anew by a rebase or an amend since (no longer in
    // HEAD's history: the point moved to the new commit), it was listed beside the new one (CI under load).
    if (/^git commit\b/.test(r.subject)) {
      const p = points.find((q) => q.via === 'commit' && q.commit === r.commit && q.author === r.author)
      if (p) {
        p.git = [...(p.git ?? []), ...(r.git ?? [])]
        p.gitOp ??= r.subject
        return false
      }
      return reachable === null || reachable.has(r.commit)
    }
    if (!/^git (merge|pull|rebase)\b/.test(r.subject)) return true
    // A rebase made here likewise names the commit it made last, whose point its post-commit hook recorded.
    const rebase = /^git rebase\b|^git pull\b.*(--rebase|\s-r\b)/.test(r.subject)
    const p = points.find((q) => (q.via === 'merge' || (rebase && q.via === 'commit')) && q.commit === r.commit && q.author === r.author)
    if (!p) return true
    p.git = [...(p.git ?? []), ...(r.git ?? [])]
    p.gitOp ??= r.subject
    return false
  })
}
