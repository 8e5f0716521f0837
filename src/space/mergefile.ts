/**
 * Where the merge driver keeps a file's merge conflicts for `resolve` (`mergestore.ts` has the rest).
 * Apart so that a merge without conflicts can drop an old record without loading the CRDT.
 */
import { createHash } from 'node:crypto'
import fs from 'node:fs/promises'
import path from 'node:path'
import type { EntryValue } from '../crdt/merge/place.js'
import { writeFileAtomic } from '../fs/atomic.js'
import type { SpacePaths } from './paths.js'

export const mergesDir = (paths: SpacePaths): string => path.join(paths.state, 'merges')

/** Whether any record is kept (read without loading the CRDT: `status` without a daemon asks this first). */
export const hasRecords = async (paths: SpacePaths): Promise<boolean> =>
  (await fs.readdir(mergesDir(paths)).catch(() => [] as string[])).some((n) => n.endsWith('.json'))

export const mergeRecordFile = (paths: SpacePaths, name: string): string =>
  path.join(mergesDir(paths), createHash('sha256').update(name).digest('hex').slice(0, 24) + '.json')

/**
 * Ids a conflict had in this clone's record before the live context took it over (`mergeadopt.ts`), to the
 * live ones: `resolve --list` showed the first, and `resolve ID` given it must still find the conflict.
 */
const movedFile = (paths: SpacePaths): string => path.join(mergesDir(paths), 'moved.map')
const MOVED_KEPT = 200

export async function readMoved(paths: SpacePaths): Promise<Record<string, string>> {
  try {
    return JSON.parse(await fs.readFile(movedFile(paths), 'utf8')) as Record<string, string>
  } catch {
    return {}
  }
}

export async function noteMoved(paths: SpacePaths, moved: Record<string, string>): Promise<void> {
  if (Object.keys(moved).length === 0) return
  const all = Object.entries({ ...(await readMoved(paths)), ...moved }).slice(-MOVED_KEPT)
  await fs.writeFile(movedFile(paths), JSON.stringify(Object.fromEntries(all)) + '\n')
}

/** A newer merge of the file without conflicts makes the older record moot. */
export async function dropMerge(paths: SpacePaths, name: string): Promise<void> {
  await fs.rm(mergeRecordFile(paths, name), { force: true })
}

const textHash = (t: string): string => createHash('sha256').update(t).digest('hex').slice(0, 32)

/**
 * The merge driver's outcome for `name`: `parts` (null: no conflict kept) of the merge of `ours` into
 * `merged`. A record whose merged text is this merge's `ours` was made by a step of the same git command
 * (or one made on its result): a pull's merge, then its autostash applied over it; a rebase's pick, then the
 * next pick or the autostash. This merge builds on that one's result, so its conflicts still stand: they are
 * carried into this record, not replaced by it — the apply of an uncommitted edit merged without conflict
 * and dropped the pull's record, though git had printed "see `ctxsync resolve --list`" (issue 15 item 5).
 * Any other record is an older merge's: replaced, or dropped when this one keeps nothing.
 */
export async function keepMerge(paths: SpacePaths, name: string, ours: string, merged: string, parts: StoredPart[] | null): Promise<void> {
  const file = mergeRecordFile(paths, name)
  const old = await fs.readFile(file, 'utf8').then((t) => JSON.parse(t) as MergeRecord, () => null)
  const carried = old?.v === 2 && Array.isArray(old.parts) && old.file === name && old.result === textHash(ours) ? old : null
  if (!parts?.length && !carried) return dropMerge(paths, name)
  const rec: MergeRecord = {
    v: 2, file: name, at: carried?.at ?? new Date().toISOString(),
    parts: [...(carried?.parts ?? []), ...(parts ?? [])],
    ...(carried?.done ? { done: carried.done } : {}),
    result: textHash(merged),
  }
  await fs.mkdir(mergesDir(paths), { recursive: true })
  await writeFileAtomic(file, JSON.stringify(rec) + '\n')
}

/** Who really wrote a value the merge credited to a stash (`stashtime.ts` `liveCredits`): found by path and value. */
export interface Credit {
  path: Array<string | number>
  desc: string
  author: EntryValue['author']
  at: number
}

export interface StoredPart {
  whole: boolean
  wrapper: string | null
  text: string
  /** Base64 Yjs state of the merged document. */
  state: string
  credits?: Credit[]
  /**
   * sha256 (hex) of the two texts this part's merge combined. Once its conflicts are the live context's (or
   * moot), those texts are content the live context holds: `mergeadopt.ts` marks them for every peer, and a
   * later merge with one of them is a merge of known versions (`mergeknown.ts`).
   */
  sides?: string[]
}

export interface MergeRecord {
  v: 2
  file: string
  at: string
  parts: StoredPart[]
  /** Ids of conflicts the live context took over, or dropped: no longer this record's. */
  done?: string[]
  /** Hash of the merged text (`keepMerge`): a later merge of that text carries this record's conflicts. */
  result?: string
}
