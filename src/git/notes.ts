/**
 * Sync points: git notes under `refs/notes/ctxsync` that say which CRDT state a commit's context files
 * hold. A note is JSON Lines — one sync point per line — so that notes written for one commit on two
 * machines merge by a line union (`git notes merge -s cat_sort_uniq`) and no sync point is ever lost.
 *
 *   {"v":1,"at":"…Z","by":"Ada","peer":"p-…","via":"commit","files":{".rhema/todos.yaml":{"b":"<blob>","sv":"<b64>"}},"ch":[…]}
 *
 * `b` is the git blob id of the file in that commit; `sv` the Yjs state vector of the document that held
 * exactly that content (absent when ctxsync had not taken that content in when the point was recorded);
 * `ch` the tracked files the commit changed against its first parent (for `ctxsync log`).
 *
 * Notes travel by `git fetch` into `refs/notes/ctxsync-remote/<remote>` (a refspec `hooks install` adds)
 * and are merged into the local ref by `mergeRemoteNotes`; the pre-push hook pushes the local ref.
 */
import { logger } from '../debuglog.js'
import type { Repo } from './repo.js'

const log = logger('git:notes')

export const NOTES_REF = 'refs/notes/ctxsync'
export const REMOTE_NOTES_PREFIX = 'refs/notes/ctxsync-remote/'

export interface FilePoint {
  /** Git blob id of the file in the commit. */
  b: string
  /** Base64 Yjs state vector of the document holding exactly that content. */
  sv?: string
}

export interface SyncPoint {
  v: 1
  at: string
  by: string
  peer: string
  /** What recorded it: commit (post-commit), sync (`ctxsync sync`), git (after the daemon took in git's content). */
  via: string
  files: Record<string, FilePoint>
  ch?: string[]
}

export function encodeSyncPoint(p: SyncPoint): string {
  return JSON.stringify(p)
}

/** The sync points of one note, oldest first; lines that are not sync points are skipped. */
export function parseNote(text: string): SyncPoint[] {
  const out: SyncPoint[] = []
  for (const line of text.split('\n')) {
    const t = line.trim()
    if (!t.startsWith('{')) continue
    try {
      const p = JSON.parse(t) as SyncPoint
      if (p && p.v === 1 && typeof p.files === 'object' && p.files !== null && typeof p.at === 'string') out.push(p)
    } catch {
      log('skipping a line that is not a sync point')
    }
  }
  return out.sort((a, b) => (a.at < b.at ? -1 : a.at > b.at ? 1 : 0))
}

/** Adds a sync point to `commit`'s note (a new line; other sync points of the commit stay). */
export async function addSyncPoint(repo: Repo, commit: string, p: SyncPoint): Promise<void> {
  // Recorders of commits made in quick succession run side by side: the loser of the notes ref's lock
  // tries again rather than dropping its sync point.
  for (let attempt = 0; ; attempt++) {
    try {
      await withIdentity(repo, ['notes', `--ref=${NOTES_REF}`, 'append', '-m', encodeSyncPoint(p), commit])
      return
    } catch (e) {
      if (attempt >= 20 || !/lock|cannot update ref|failed to update ref/i.test((e as Error).message)) throw e
      await new Promise((r) => setTimeout(r, 10 + Math.random() * 40))
    }
  }
}

/** Every annotated commit → its note's blob id (one `git notes list`). */
export async function noteIndex(repo: Repo): Promise<Map<string, string>> {
  const r = await repo.tryRaw(['notes', `--ref=${NOTES_REF}`, 'list'])
  const out = new Map<string, string>()
  for (const line of (r ?? '').split('\n')) {
    const [blob, commit] = line.trim().split(' ')
    if (blob && commit) out.set(commit, blob)
  }
  return out
}

/** The sync points of the given commits (those without a note are absent from the map). */
export async function syncPointsOf(repo: Repo, commits: readonly string[], index?: Map<string, string>): Promise<Map<string, SyncPoint[]>> {
  const idx = index ?? (await noteIndex(repo))
  const wanted = commits.filter((c) => idx.has(c))
  const texts = await repo.readBlobs(wanted.map((c) => idx.get(c)!))
  const out = new Map<string, SyncPoint[]>()
  for (const c of wanted) {
    const pts = parseNote(texts.get(idx.get(c)!) ?? '')
    if (pts.length) out.set(c, pts)
  }
  return out
}

/**
 * Merges every fetched `refs/notes/ctxsync-remote/*` into the local notes: a line union per commit, so a
 * sync point recorded anywhere survives. Returns the remote refs that brought something new.
 */
export async function mergeRemoteNotes(repo: Repo): Promise<string[]> {
  const refs = ((await repo.tryRaw(['for-each-ref', '--format=%(refname)', REMOTE_NOTES_PREFIX])) ?? '').split('\n').map((s) => s.trim()).filter(Boolean)
  const merged: string[] = []
  for (const ref of refs) {
    const local = (await repo.tryRaw(['rev-parse', '-q', '--verify', NOTES_REF]))?.trim()
    const remote = (await repo.tryRaw(['rev-parse', '-q', '--verify', ref]))?.trim()
    if (!remote || remote === local) continue
    if (local && (await repo.isAncestor(remote, local))) continue
    if (!local) {
      await repo.raw(['update-ref', NOTES_REF, remote])
    } else {
      await withIdentity(repo, ['notes', `--ref=${NOTES_REF}`, 'merge', '-q', '-s', 'cat_sort_uniq', ref])
    }
    merged.push(ref)
  }
  return merged
}

/**
 * Pushes the local notes to `remote`. When the remote's notes moved on (another machine pushed), fetches
 * them, merges, and tries once more. Throws when the push fails (the caller warns; hooks never fail).
 */
export async function pushNotes(repo: Repo, remote: string): Promise<'pushed' | 'none'> {
  if (!(await repo.tryRaw(['rev-parse', '-q', '--verify', NOTES_REF]))) return 'none'
  const push = () => repo.raw(['push', '--no-verify', '-q', remote, `${NOTES_REF}:${NOTES_REF}`])
  try {
    await push()
  } catch (e) {
    log('notes push rejected (%s): fetching and merging first', (e as Error).message)
    const name = /^[\w.-]+$/.test(remote) ? remote : 'pushed'
    await repo.raw(['fetch', '-q', remote, `+${NOTES_REF}:${REMOTE_NOTES_PREFIX}${name}`])
    await mergeRemoteNotes(repo)
    await push()
  }
  return 'pushed'
}

/** The fetch refspec that brings a remote's notes into our remote-notes namespace. */
/**
 * A glob, though it names one ref: a plain refspec for a ref the remote does not have yet (no one pushed a
 * sync point) makes every `git fetch` and `git pull` fail; a glob that matches nothing does not.
 */
export function notesRefspec(remote: string): string {
  return `+${NOTES_REF}*:${REMOTE_NOTES_PREFIX}${remote}*`
}

/** Notes commits need a committer; a clone without user.name/email still gets its sync points. */
async function withIdentity(repo: Repo, args: string[]): Promise<void> {
  try {
    await repo.raw(args)
  } catch (e) {
    if (!/identity|user\.(name|email)|empty ident/i.test((e as Error).message)) throw e
    await repo.raw(['-c', 'user.name=ctxsync', '-c', 'user.email=ctxsync@localhost', ...args])
  }
}

/**
 * Takes back sync points that notes.rewriteRef moved onto someone else's commit. A rebase that drops a commit
 * as already upstream (`git pull --rebase` after a teammate pushed the same change) maps it onto the commit
 * HEAD then was — the teammate's — and git copies the dropped commit's note there: `ctxsync log` showed
 * bob's sync point "recorded at commit" on carl's commit, and bob's push shared it (black-box tester). A
 * commit rewritten for real keeps its author and author time; a pair whose two commits differ in those is
 * such a mapping, and the old commit's sync points are removed from the new one (its own stay). `input`: the
 * post-rewrite hook's standard input (`old new` per line). Returns the commits whose note was corrected.
 */
export async function unmoveSyncPoints(repo: Repo, input: string): Promise<string[]> {
  const pairs = input.split('\n').map((l) => l.trim().split(/\s+/)).filter((p) => p.length >= 2 && /^[0-9a-f]{40,64}$/.test(p[0]!) && /^[0-9a-f]{40,64}$/.test(p[1]!))
  if (pairs.length === 0) return []
  const ident = async (c: string) => (await repo.tryRaw(['show', '-s', '--format=%an%x00%ae%x00%at', c]))?.trim() ?? null
  const note = async (c: string) => (await repo.tryRaw(['notes', `--ref=${NOTES_REF}`, 'show', c])) ?? ''
  const fixed: string[] = []
  for (const [old, now] of pairs as Array<[string, string]>) {
    if (old === now) continue
    const from = parseNote(await note(old)).map(encodeSyncPoint)
    if (from.length === 0) continue
    const [a, b] = await Promise.all([ident(old), ident(now)])
    if (a === null || b === null || a === b) continue
    const lines = (await note(now)).split('\n').filter((l) => l.trim() !== '')
    const keep = lines.filter((l) => !l.trim().startsWith('{') || !from.includes(encodeSyncPoint(parseNote(l)[0] ?? ({} as SyncPoint))))
    if (keep.length === lines.length) continue
    if (keep.length === 0) await withIdentity(repo, ['notes', `--ref=${NOTES_REF}`, 'remove', now])
    else await withIdentity(repo, ['notes', `--ref=${NOTES_REF}`, 'add', '-f', '-m', keep.join('\n'), now])
    fixed.push(now)
  }
  return fixed
}
