/**
 * A context file the daemon writes that git does not track yet is staged (`git add`), so that plain
 * `git pull` works when a teammate commits the same file.
 *
 * Why: a file a peer created reaches this clone live, untracked. When the peer commits and pushes it, the
 * pull here refuses ("untracked working tree files would be overwritten by merge"): autostash takes only
 * tracked files. `git add --intent-to-add` does not help — git 2.39's stash refuses an i-t-a entry ("not
 * uptodate. Cannot merge", "Cannot autostash"). A staged new file is stashed and applied like any change: the
 * merge then creates the file, the stash applies an add/add that is clean when the texts match and goes
 * through the ctxsync merge driver when they do not. Only files git neither tracks nor ignores are staged,
 * and only files the daemon wrote (a peer's): the user's own new files stay theirs to add.
 */
import path from 'node:path'
import type { Repo } from '../git/repo.js'
import { logger } from '../debuglog.js'

const log = logger('space:gitstage')

/** Stages `name` (a space path) when git neither tracks nor ignores it; true when it did. */
export async function stageIfUntracked(repo: Repo, spaceRoot: string, name: string): Promise<boolean> {
  const rel = path.relative(repo.root, path.join(spaceRoot, name)).split(path.sep).join('/')
  const known = await repo.tryRaw(['ls-files', '-z', '--', rel])
  if (known === null || known !== '') return false
  // Prints the path when ignored (its exit status does not reach us through simple-git).
  const ignored = await repo.tryRaw(['check-ignore', '--', rel])
  if (ignored === null || ignored.trim() !== '') return false
  const added = await repo.tryRaw(['add', '--', rel])
  log('%s: staged as new (%s)', rel, added === null ? 'failed' : 'ok')
  return added !== null
}
