/**
 * A revert of files made while no daemon ran (`git restore FILE`, `git checkout -- FILE` with the daemon
 * stopped). Live, the git watch tells it by HEAD and its reflog staying put across the command
 * (`gitintent.ts`); at the next start there is no "before" to compare, and a file found holding HEAD's (or
 * the index's) version read as git's content the live context already knows: the live context was written
 * back over it, and the revert was undone without a word.
 *
 * Every command that moves HEAD or resets the tree for another commit (checkout, pull, merge, rebase, reset,
 * stash) appends to HEAD's reflog once its files are written: their files are never newer than the newest
 * entry. A file holding git's version written in a later second than that entry was written by something
 * that left HEAD alone: a revert of the file, or a save of git's text (an editor buffer holding it) — both
 * the user's, taken in as a whole-file write (`takeInRevert`), as a live revert is. The same second cannot
 * be told apart, nor a repository that keeps no reflog: those keep the behaviour before (the live context).
 */
import type { Repo } from '../git/repo.js'

/** Was a file of git's content, last modified at `mtimeMs`, written after HEAD last moved? */
export async function writtenSinceHeadMoved(repo: Pick<Repo, 'tryRaw'>, mtimeMs: number): Promise<boolean> {
  const out = await repo.tryRaw(['reflog', '-1', '--date=unix', '--format=%gd', 'HEAD'])
  const t = Number(/@\{(\d+)\}/.exec(out ?? '')?.[1])
  return Number.isFinite(t) && Math.floor(mtimeMs / 1000) > t
}
