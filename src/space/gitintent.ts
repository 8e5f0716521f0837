/**
 * What the user meant by the git command that just ran: the daemon's answer to "is what git wrote an edit?".
 *
 *  - `move`: a command that moved HEAD or rewrote the tree for another commit (checkout of a branch, merge,
 *    pull, rebase, reset, commit, stash) — git's writes are not edits: known content keeps the live context
 *    (`gitingest.ts`). Told by HEAD's reflog, which every such command appends to (`reset --hard` and `stash`
 *    too, even when HEAD stays where it was).
 *  - `revert`: files rewritten to HEAD's or the index's content while HEAD and its reflog stayed put — `git
 *    checkout -- FILE`, `git restore FILE`, `git checkout HEAD FILE`: the user discarded their changes, and
 *    that is an edit like any other, synced to the peers.
 *  - `stash`: `git stash` put the live context of some tracked files aside (`refs/stash` moved to a new entry
 *    that holds them). The daemon must not write them back — `git stash pop` would then refuse to run over
 *    the "local changes" — so it stays paused until that entry leaves the top of the stash (`pop`, `drop`,
 *    `clear`) and then reconciles, writing what peers sent meanwhile.
 *
 * Snapshots are taken after each reconcile, so a command is judged by everything it did, even when it was
 * over before the busy marker was seen. A command seen half done (a revert or a pull that wrote the files
 * and the index but had not moved HEAD yet, on a loaded machine) must not read as a revert: the daemon
 * waits until two snapshots agree (`sameSnapshot`), and a file counts as reverted only when it holds
 * HEAD's version or what the index held *before* the command (`staged`), never what the command staged.
 */
import fsp from 'node:fs/promises'
import path from 'node:path'
import type { Matcher } from '../fs/globs.js'
import type { Repo } from '../git/repo.js'

/**
 * `from`: HEAD before the command (a move forward from it brought what changed in between: `gitingest.ts`).
 * `bases`: per file, the texts what git left was made from, oldest first — a stash popped over edits taken
 * in while it held the file (`stashhold.ts`): the stashed text and the last edit.
 */
export type GitIntent =
  /**
   * `checkout`: the move was a checkout or switch of a commit or branch (HEAD's reflog says `checkout:`),
   * with or without `-m`: a file git merged the local changes into holds no edit (`gitingest.ts`).
   */
  | { kind: 'move'; from?: string | null; bases?: Map<string, string[]>; checkout?: boolean }
  /** `staged`: the index's blobs before the command (repository paths): what a file can be reverted to. */
  | { kind: 'revert'; staged: Map<string, string> }
  | { kind: 'stash'; oid: string; files: string[] }

export interface GitSnapshot {
  head: string | null
  /** Bytes in HEAD's reflog; null when git keeps none (then only a moved HEAD counts as a move). */
  reflog: number | null
  stash: string | null
  /** The index's blobs of the paths `snapshot` was asked for (repository paths). */
  index: Map<string, string>
}

/** `keep`: which repository paths' index entries to note (the space's tracked files). */
export async function snapshot(repo: Repo, keep: (p: string) => boolean = () => false): Promise<GitSnapshot> {
  const [head, reflog, stash, index] = await Promise.all([
    repo.head(),
    fsp.stat(path.join(repo.gitDir, 'logs', 'HEAD')).then((s) => s.size, () => null),
    stashTop(repo),
    repo.indexBlobs(keep),
  ])
  return { head, reflog, stash, index }
}

/** Nothing git keeps for HEAD, the stash or the index moved between two snapshots. */
export function sameSnapshot(a: GitSnapshot, b: GitSnapshot): boolean {
  return a.head === b.head && a.reflog === b.reflog && a.stash === b.stash && a.index.size === b.index.size && [...a.index].every(([p, o]) => b.index.get(p) === o)
}

export async function stashTop(repo: Repo): Promise<string | null> {
  return (await repo.tryRaw(['rev-parse', '-q', '--verify', 'refs/stash']))?.trim() || null
}

/**
 * The intent of what ran between two snapshots. `spaceRoot` and `match`: which paths of a new stash entry
 * are this space's tracked files (a stash of other files holds nothing of the live context).
 */
export async function classify(repo: Repo, before: GitSnapshot, after: GitSnapshot, spaceRoot: string, match: Matcher): Promise<GitIntent> {
  const moved = after.head !== before.head || (after.reflog !== null && before.reflog !== null && after.reflog !== before.reflog)
  if (after.stash !== null && after.stash !== before.stash && moved) {
    const files = await stashedFiles(repo, after.stash, spaceRoot, match)
    if (files.length > 0) return { kind: 'stash', oid: after.stash, files }
  }
  if (!moved) return after.stash !== before.stash ? { kind: 'move' } : { kind: 'revert', staged: before.index }
  return (await lastMove(repo)).startsWith('checkout:') ? { kind: 'move', checkout: true } : { kind: 'move' }
}

/** What HEAD's reflog says of the last command that moved it ('' when git keeps none). */
async function lastMove(repo: Repo): Promise<string> {
  return (await repo.tryRaw(['reflog', '-1', '--format=%gs', 'HEAD']))?.trim() ?? ''
}

/** The tracked files (space names) whose work-tree changes the stash entry holds. */
async function stashedFiles(repo: Repo, oid: string, spaceRoot: string, match: Matcher): Promise<string[]> {
  const prefix = path.relative(repo.root, spaceRoot).split(path.sep).join('/')
  const out = await repo.tryRaw(['diff', '--name-only', '-z', `${oid}^1`, oid])
  return (out ?? '').split('\0').filter(Boolean).flatMap((p) => {
    const name = prefix === '' ? p : p.startsWith(prefix + '/') ? p.slice(prefix.length + 1) : null
    return name !== null && match(name) ? [name] : []
  })
}
