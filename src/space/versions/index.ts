/**
 * History, as commands see it (`history`, `show`, `diff`, `restore`, `undo`, `blame`): reached through the
 * space façade's `loadVersions`, a split point of the bundle, so other commands never load it.
 */
import path from 'node:path'
import { spacePaths } from '../paths.js'
import { versionsDir } from './recorder.js'
import { historyNow } from './clock.js'
import { readGuard } from './guard.js'
import { loggedDocs } from './store.js'

export { historyOf, fileAt, blameOf, diffOf, type HistoryEntry, type BlameLine, type FileDiff, type DiffEntry, type Author } from './query.js'
export { restoreFiles, undoChange, type EditResult, type RestoreResult, type UndoResult } from './revert.js'
export { parseTime, whenText } from './when.js'
export { loggedDocs } from './store.js'
export type { FieldChange } from './fields.js'
export type { GuardNote } from './guard.js'
export { historyNow }

export const versionsDirOf = (root: string): string => versionsDir(spacePaths(root).state)

/**
 * Is `doc` a file of this space: one its `track` globs match, or one its history holds (a tracked file
 * deleted since)? `show`, `diff` and `blame` of any other path printed nothing, or an empty diff.
 */
export async function isTrackedDoc(root: string, doc: string): Promise<boolean> {
  if ((await loggedDocs(versionsDirOf(root))).includes(doc)) return true
  const [{ readTeamConfig }, globs] = await Promise.all([import('../config.js'), import('../../fs/globs.js')])
  const track = (await readTeamConfig(spacePaths(root).config).catch(() => null))?.track ?? globs.DEFAULT_INCLUDE
  return globs.isTrackedFile(root, doc, globs.createMatcher(track))
}

/** Mass deletions of the last hour, for `status`. */
export const recentMassDeletions = (root: string) => readGuard(path.join(versionsDirOf(root), 'guard.json'), historyNow())
