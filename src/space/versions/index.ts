/**
 * History, as commands see it (`history`, `show`, `diff`, `restore`, `undo`, `blame`): reached through the
 * space façade's `loadVersions`, a split point of the bundle, so other commands never load it.
 */
import path from 'node:path'
import { spacePaths } from '../paths.js'
import { versionsDir } from './recorder.js'
import { historyNow } from './clock.js'
import { readGuard } from './guard.js'

export { historyOf, fileAt, blameOf, diffOf, type HistoryEntry, type BlameLine, type FileDiff, type DiffEntry, type Author } from './query.js'
export { restoreFiles, undoChange, type EditResult, type UndoResult } from './revert.js'
export { parseTime, whenText } from './when.js'
export { loggedDocs } from './store.js'
export type { FieldChange } from './fields.js'
export type { GuardNote } from './guard.js'
export { historyNow }

export const versionsDirOf = (root: string): string => versionsDir(spacePaths(root).state)

/** Mass deletions of the last hour, for `status`. */
export const recentMassDeletions = (root: string) => readGuard(path.join(versionsDirOf(root), 'guard.json'), historyNow())
