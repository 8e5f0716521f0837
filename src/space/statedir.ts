/**
 * `.ctxsync/` belongs to this machine alone. It holds the space secret, this peer's identity and settings,
 * and every file ctxsync writes without asking; none of it may come from the repository.
 *
 * A repository can carry anything, though, and a fresh clone would hand it to `init`: a committed
 * `local.yaml` (peers to dial, a host of 0.0.0.0), a committed identity (another machine's peer id), a
 * committed secret (one that every reader of the repository knows), a `secret` that is a link to a private
 * key elsewhere (which `invite` would print), or a `.ctxsync` that is itself a link (every state write lands
 * outside the repository). So:
 *  - `.ctxsync` and everything directly in it must be real files and directories, never links: refused with a
 *    typed error before anything is read or written there (`checkStateDirSync` in paths.ts, run by `findRoot`
 *    for every command, and by `init` before it makes a new space); the secret, identity and settings are
 *    also read with O_NOFOLLOW (secrets.ts, config.ts);
 *  - what git tracks under `.ctxsync/` is reported (`committedState`) so that `init` ignores it and writes its
 *    own in its place;
 *  - the directory is 0700 from the moment `init` makes (or first claims) it, so that the secret, created
 *    0600, is never readable by another local user, not even for the time of a rename.
 */
import fs from 'node:fs/promises'
import path from 'node:path'
import { gitBlobId, indexEntries } from '../git/repo.js'
import { checkStateDirSync, StateLinkError, type SpacePaths } from './paths.js'

export { StateLinkError }

/** `checkStateDirSync` for callers that hold paths rather than a root. */
export async function checkStateDir(paths: Pick<SpacePaths, 'root' | 'state'>): Promise<void> {
  checkStateDirSync(paths.root)
}

/**
 * Creates `.ctxsync/` as 0700, or makes an existing one 0700 (a clone's checkout made it 0755). Checks it
 * first: a chmod through a link would change someone else's directory.
 */
export async function claimStateDir(paths: Pick<SpacePaths, 'root' | 'state'>): Promise<void> {
  await checkStateDir(paths)
  await fs.mkdir(paths.state, { recursive: true, mode: 0o700 })
  await fs.chmod(paths.state, 0o700)
  // Between the check and the mkdir a link could have been put in its place; look again afterwards.
  await checkStateDir(paths)
}

/**
 * The files under `.ctxsync/` that hold what the repository committed there (absolute paths; none outside
 * a git work tree). Such a file came from the repository, not from this machine, even where ctxsync would
 * keep its own. Once ctxsync has replaced one with its own content it differs from the index, and is ours:
 * `init` stays idempotent in a repository that committed `.ctxsync/`.
 * Also refuses a committed link anywhere below `.ctxsync/` (the direct ones `checkStateDir` finds).
 */
export async function committedState(paths: Pick<SpacePaths, 'root' | 'state'>): Promise<Set<string>> {
  const rel = path.relative(paths.root, paths.state)
  const out = new Set<string>()
  const entries = await indexEntries(paths.root, rel)
  const format = entries.some((e) => e.blob.length === 64) ? 'sha256' : 'sha1'
  for (const e of entries) {
    const file = path.join(paths.root, e.path)
    const st = await fs.lstat(file).catch(() => null)
    if (st?.isSymbolicLink()) throw new StateLinkError(paths.root, file)
    if (!st?.isFile()) continue
    // Only small files matter here (identity, settings, secret); a big one is not worth hashing to find out.
    if (st.size > 1024 * 1024) {
      out.add(file)
      continue
    }
    const bytes = await fs.readFile(file).catch(() => null)
    if (bytes && gitBlobId(bytes, format) === e.blob) out.add(file)
  }
  return out
}
