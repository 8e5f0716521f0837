/**
 * `ctxsync status`: each tracked file's state, the peers, conflicts, and whether a daemon runs. Asks the
 * daemon when one runs; otherwise answers from the last known state without loading any CRDT.
 */
import { loadGitHooks, loadGitStatus, loadRepo, loadStatus, loadVersions, readStatus, spacePaths, type StatusData } from '../space/index.js'

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
  const git = await gitStatus(s.root, s.files.map((f) => f.path), branches, paths.state).catch(() => null)
  if (git?.hooks.length) git.warnings.push(...(await outdatedHooks(s.root).catch(() => [])))
  return { ...s, git, ...(massDeletions.length ? { massDeletions } : {}) }
}

/**
 * Hooks an older ctxsync wrote keep its behaviour until they are installed again, and nothing said so (a
 * post-rewrite hook of before caa94fd left a rebase's sync points on the wrong commit). Asked only where
 * hooks of ours are installed: it costs a git call.
 */
async function outdatedHooks(root: string): Promise<string[]> {
  const [{ Repo }, { hooksOutdated }] = await Promise.all([loadRepo(), loadGitHooks()])
  const repo = await Repo.open(root).catch(() => null)
  const old = repo ? await hooksOutdated(await repo.hooksDir()) : []
  if (!old.length) return []
  const [which, it] = old.length === 1 ? [`the ${old[0]} hook was`, 'it'] : [`the ${old.join(', ')} hooks were`, 'them']
  return [`${which} installed by an older ctxsync and ${it === 'it' ? 'lacks' : 'lack'} this version's changes: run \`ctxsync hooks install\` to update ${it}`]
}

/** `--check`: true when every file is fine (nothing held, refused or conflicted). */
export function statusOk(s: StatusData): boolean {
  return s.files.every((f) => f.state === 'synced' || f.state === 'pending')
}
