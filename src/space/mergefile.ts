/**
 * Where the merge driver keeps a file's merge conflicts for `resolve` (`mergestore.ts` has the rest).
 * Apart so that a merge without conflicts can drop an old record without loading the CRDT.
 */
import { createHash } from 'node:crypto'
import fs from 'node:fs/promises'
import path from 'node:path'
import type { SpacePaths } from './paths.js'

export const mergesDir = (paths: SpacePaths): string => path.join(paths.state, 'merges')

export const mergeRecordFile = (paths: SpacePaths, name: string): string =>
  path.join(mergesDir(paths), createHash('sha256').update(name).digest('hex').slice(0, 24) + '.json')

/** A newer merge of the file without conflicts makes the older record moot. */
export async function dropMerge(paths: SpacePaths, name: string): Promise<void> {
  await fs.rm(mergeRecordFile(paths, name), { force: true })
}
