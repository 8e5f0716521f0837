/**
 * `ctxsync status`: each tracked file's state, the peers, conflicts, and whether a daemon runs. Asks the
 * daemon when one runs; otherwise answers from the last known state without loading any CRDT.
 */
import { loadGitStatus, loadStatus, loadVersions, readStatus, spacePaths, type StatusData } from '../space/index.js'

export interface StatusOptions {
  cwd: string
}

export type { StatusData }

export async function status(o: StatusOptions): Promise<StatusData> {
  // Both parts are needed on every run: loaded side by side.
  const [{ readTeamConfig, markConflictMarkers }, { gitStatus }] = await Promise.all([loadStatus(), loadGitStatus()])
  const s = await readStatus(o.cwd)
  await markConflictMarkers(s)
  // Asked here rather than of the daemon: it only reads git and the files, and is current either way.
  const paths = spacePaths(s.root)
  const team = await readTeamConfig(paths.config).catch(() => null)
  const branches = team?.branches ?? 'shared'
  // Saves that removed most of a file's entries in the last hour, with the undo that brings them back.
  const massDeletions = await (await loadVersions()).recentMassDeletions(s.root).catch(() => [])
  return { ...s, git: await gitStatus(s.root, s.files.map((f) => f.path), branches, paths.state).catch(() => null), ...(massDeletions.length ? { massDeletions } : {}) }
}

/** `--check`: true when every file is fine (nothing held, refused or conflicted). */
export function statusOk(s: StatusData): boolean {
  return s.files.every((f) => f.state === 'synced' || f.state === 'pending')
}
