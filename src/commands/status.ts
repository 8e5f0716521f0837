/**
 * `ctxsync status`: each tracked file's state, the peers, conflicts, and whether a daemon runs. Asks the
 * daemon when one runs; otherwise answers from the last known state without loading any CRDT.
 */
import fs from 'node:fs/promises'
import path from 'node:path'
import { loadGitStatus, loadMergeStore, loadStatus, loadVersions, readStatus, spacePaths, type StatusData } from '../space/index.js'

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
  await countMergeConflicts(s, paths, team?.rules ?? [])
  // Saves that removed most of a file's entries in the last hour, with the undo that brings them back.
  const massDeletions = await (await loadVersions()).recentMassDeletions(s.root).catch(() => [])
  return { ...s, git: await gitStatus(s.root, s.files.map((f) => f.path), branches, paths.state).catch(() => null), ...(massDeletions.length ? { massDeletions } : {}) }
}

/**
 * Conflicts the merge driver kept (a value both sides of a git merge changed) count like live ones: the file
 * is conflicted and `--check` fails. These are this clone's records (`.ctxsync/merges/`, where the merge ran)
 * not yet taken over by the live context (then they are live conflicts: `space/mergeadopt.ts`).
 */
async function countMergeConflicts(s: StatusData, paths: ReturnType<typeof spacePaths>, rules: Parameters<Awaited<ReturnType<typeof loadMergeStore>>['mergeConflicts']>[1]): Promise<void> {
  const dir = path.join(paths.state, 'merges')
  if (!(await fs.readdir(dir).catch(() => [])).some((n) => n.endsWith('.json'))) return
  const found = await (await loadMergeStore()).mergeConflicts(paths, rules).catch(() => [])
  for (const c of found) {
    const f = s.files.find((x) => x.path === c.file)
    if (f) {
      f.conflicts = (f.conflicts ?? 0) + 1
      if (f.state === 'synced' || f.state === 'pending') f.state = 'conflicted'
    }
    s.conflicts++
  }
}

/** `--check`: true when every file is fine (nothing held, refused or conflicted). */
export function statusOk(s: StatusData): boolean {
  return s.files.every((f) => f.state === 'synced' || f.state === 'pending')
}
