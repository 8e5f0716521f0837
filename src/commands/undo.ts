/**
 * `ctxsync restore PATH… --to REF` and `ctxsync undo [CHANGE] [--file PATH]`: each writes the file as an
 * edit that syncs to every peer and becomes a version of its own (so it can be undone in turn); with a
 * daemon running, the daemon takes it in like any save (see space/versions/revert.ts).
 */
import { loadVersions, requireRoot } from '../space/index.js'
import { trackedDoc } from './history.js'

type V = Awaited<ReturnType<typeof loadVersions>>
export type EditResult = Awaited<ReturnType<V['restoreFiles']>>[number]
export type UndoResult = Awaited<ReturnType<V['undoChange']>>

export async function restore(o: { cwd: string; paths: string[]; to: string }): Promise<{ files: EditResult[] }> {
  const root = requireRoot(o.cwd)
  const v = await loadVersions()
  // A path that is no tracked file is a usage error (exit 2), as for history and blame: restoring
  // ctxsync.yaml said 'already is as at HEAD' (black-box tester).
  const docs: string[] = []
  for (const p of o.paths) docs.push(await trackedDoc(v, root, o.cwd, p))
  return { files: await v.restoreFiles(root, docs, o.to) }
}

export async function undo(o: { cwd: string; change?: string; file?: string }): Promise<UndoResult> {
  const root = requireRoot(o.cwd)
  const v = await loadVersions()
  return v.undoChange(root, { change: o.change, file: o.file ? await trackedDoc(v, root, o.cwd, o.file) : undefined })
}
