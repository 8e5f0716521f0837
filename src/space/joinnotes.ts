/**
 * A machine joining a space fetches the team's sync points first (black-box tester, stop 31, finding 1).
 *
 * Sync points (git notes, `git/notes.ts`) say which commits hold a state of the live context: with them, a
 * commit made while ctxsync ran is known, and content git brings is diffed against the nearest known version.
 * A fresh clone has none — `git clone` fetches no notes, and the refspec `hooks install` adds serves only
 * later fetches — so every such commit looked new: a joiner's `git checkout -m main` took a teammate's
 * commit in whole, diffed against the live text, and its older values rolled back the live ones on every
 * peer, with no record. So joining (init, or `sync` creating this machine's state) fetches every remote's
 * notes once and merges them, as a pull with the hooks would. Best effort: a remote out of reach is skipped
 * (the next pull brings them).
 */
import { mergeRemoteNotes, notesRefspec } from '../git/notes.js'
import { Repo } from '../git/repo.js'
import { logger } from '../debuglog.js'

const log = logger('space:join')

/** Fetches and merges every remote's sync points; returns the remotes that could not be reached. */
export async function fetchSyncPoints(root: string): Promise<string[]> {
  const repo = await Repo.open(root)
  if (!repo) return []
  const missed: string[] = []
  for (const remote of await repo.remotes()) {
    try {
      // simple-git's block timeout (15 s) ends a fetch that hangs (a remote asking for credentials).
      await repo.raw(['fetch', '-q', remote, notesRefspec(remote)])
    } catch (e) {
      log('sync points of %s not fetched: %s', remote, (e as Error).message)
      missed.push(remote)
    }
  }
  await mergeRemoteNotes(repo).catch((e: Error) => log('sync points not merged: %s', e.message))
  return missed
}
