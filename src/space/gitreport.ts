/**
 * Saying what a git command did to the context files and what the daemon made of it (by the rules of
 * `gitintent.ts`): a synced edit, new content taken in, or git's version kept out of the live context. Two
 * places: the daemon's log lines after each reconcile, and a journal in the state directory
 * (`gitops.jsonl`, the last JOURNAL_MAX operations) that `ctxsync log` shows beside the sync points — a
 * `git reset --hard` makes no commit, and a `git revert` kept out left only a commit that says nothing of it.
 *
 * The command is named by HEAD's reflog, which every command that moves HEAD appends to ("revert: Revert
 * …", "reset: moving to HEAD~2", "pull: Fast-forward"); a revert of files moves nothing and is named as
 * such.
 */
import fsp from 'node:fs/promises'
import path from 'node:path'
import type { Repo } from '../git/repo.js'
import type { GitReport } from './gitingest.js'
import type { GitIntent, GitSnapshot } from './gitintent.js'

const JOURNAL = 'gitops.jsonl'
const JOURNAL_MAX = 200

/** What became of a file git rewrote. */
export type GitOutcome = 'kept-out' | 'taken-in' | 'merged' | 'edit' | 'brought-back'

export interface GitOpRecord {
  /** ISO time the daemon took it in. */
  at: string
  /** The command, as HEAD's reflog names it ("git reset: moving to HEAD~2"). */
  op: string
  head: string | null
  /** This clone's name (whose daemon saw it). */
  by: string
  /** Repository paths. */
  files: Array<{ path: string; outcome: GitOutcome }>
}

export const OUTCOME_TEXT: Record<GitOutcome, string> = {
  'kept-out': "git's version kept out: the live context stays (not synced)",
  'taken-in': 'new content taken in and synced',
  merged: 'taken in as git left it (merged with the live context) and synced',
  edit: 'taken in as an edit and synced',
  'brought-back': 'brought back as git left it and synced',
}

/**
 * The command that ran between two snapshots, for people, and the commit it left HEAD at. Both come from one
 * read of HEAD's reflog (its last entry: the command and where it moved HEAD), so they cannot disagree: the
 * journal named `after.head` beside a reflog read later, and a snapshot that settled between git's writes of
 * the files and its move of HEAD (a loaded machine, `git pull --rebase`) paired the commit from before the
 * rebase with the rebase's "(start): checkout" (CI, e2e log-rebase at 64d54c8). Not moved: `after.head`.
 */
export async function nameOperation(repo: Repo, intent: GitIntent, before: GitSnapshot | null, after: GitSnapshot): Promise<{ op: string; head: string | null }> {
  if (intent.kind === 'revert') return { op: 'git restore / checkout of files', head: after.head }
  if (intent.kind === 'move' && intent.bases !== undefined) return { op: 'git stash pop / drop', head: after.head }
  const moved = before === null || before.head !== after.head || before.reflog !== after.reflog
  const entry = moved ? (await repo.tryRaw(['log', '-g', '-1', '--format=%H%x00%gs', 'HEAD']))?.trim() : ''
  const [head, gs] = entry ? entry.split('\0') : []
  return gs ? { op: `git ${gs}`, head: head || after.head } : { op: 'git', head: after.head }
}

/**
 * Did the command leave merged text of its own (its autostash applied over the new HEAD)? Only a pull, merge
 * or rebase: after any other, a file that is neither git's version nor known is a person's edit made
 * while git worked (taken in, but not git's doing).
 */
export const leavesMerges = (op: string): boolean => /^git (pull|merge|rebase)\b/.test(op)

/** The daemon's lines for one reconcile after git. `away`: HEAD is older than some branch (git switch -m); `detail`: per reverted file, what it took back (gitrevert.ts). */
export function reportLines(r: GitReport, op: string, away: boolean, detail: Map<string, string> = new Map()): string[] {
  const out: string[] = []
  if (r.ingested.length) out.push(`took in new content from git: ${r.ingested.join(', ')} (${op}), synced`)
  if (leavesMerges(op) && r.edited.length) out.push(`took in ${r.edited.join(', ')} as git left it (${op}; merged with the live context), synced`)
  if (r.revived.length) out.push(`git brought back ${r.revived.join(', ')}, deleted here before it ran (${op}): taken in as git left it and synced; delete it again to drop it`)
  if (r.kept.length) {
    const how = away ? 'modified against this older commit: leave it with `git switch -m <branch>`' : `\`git restore ${r.kept.length === 1 ? r.kept[0] : '<file>'}\` makes git's version the live context`
    out.push(`kept the live context after git rewrote ${r.kept.join(', ')} (${op}): git's version is kept out, not synced; ${how}`)
  }
  // Each file with what it took back and the undo (gitrevert.ts), as `ctxsync restore` says it.
  for (const n of r.reverted) out.push(`took in git's revert of ${n} as an edit (${op}), synced${detail.get(n) ?? ''}`)
  // A person's edit made while git worked: said as outside git, once (the lines above say the rest).
  const said = new Set([...r.ingested, ...r.revived, ...r.reverted, ...(leavesMerges(op) ? r.edited : [])])
  for (const n of r.tookIn) if (!said.has(n)) out.push(`${n}: your edit taken in`)
  return out
}

/** The journal entry for one reconcile (null: no context file was rewritten). `prefix`: the space in the repository. */
export function record(r: GitReport, op: string, head: string | null, by: string, prefix: string, at = new Date()): GitOpRecord | null {
  const p = (n: string) => (prefix === '' ? n : `${prefix}/${n}`)
  const files = [
    ...r.kept.map((n) => ({ path: p(n), outcome: 'kept-out' as const })),
    ...r.ingested.map((n) => ({ path: p(n), outcome: 'taken-in' as const })),
    ...(leavesMerges(op) ? r.edited : []).map((n) => ({ path: p(n), outcome: 'merged' as const })),
    ...r.reverted.map((n) => ({ path: p(n), outcome: 'edit' as const })),
    ...r.revived.map((n) => ({ path: p(n), outcome: 'brought-back' as const })),
  ]
  return files.length ? { at: at.toISOString(), op, head, by, files } : null
}

/** Appends to the journal, keeping the last JOURNAL_MAX entries. */
export async function appendRecord(stateDir: string, rec: GitOpRecord): Promise<void> {
  const file = path.join(stateDir, JOURNAL)
  await fsp.appendFile(file, JSON.stringify(rec) + '\n')
  const lines = (await fsp.readFile(file, 'utf8')).split('\n').filter(Boolean)
  if (lines.length > JOURNAL_MAX * 2) await fsp.writeFile(file, lines.slice(-JOURNAL_MAX).join('\n') + '\n')
}

/** The journal, newest first (lines that do not parse are skipped). */
export async function readRecords(stateDir: string): Promise<GitOpRecord[]> {
  const text = await fsp.readFile(path.join(stateDir, JOURNAL), 'utf8').catch(() => '')
  const out: GitOpRecord[] = []
  for (const line of text.split('\n')) {
    try {
      const r = JSON.parse(line) as GitOpRecord
      if (r && typeof r.at === 'string' && typeof r.op === 'string' && Array.isArray(r.files)) out.push(r)
    } catch {
      // a torn last line (a kill during the append): skipped
    }
  }
  return out.reverse()
}
