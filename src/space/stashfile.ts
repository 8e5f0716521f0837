/**
 * Where a `git stash` hold (`stashhold.ts`) is kept while it lasts (`stash-hold.json` in the state directory),
 * apart from the hold itself so that `resolve` can ask which files are held without loading the space.
 */
import fsp from 'node:fs/promises'
import path from 'node:path'
import type { Repo } from '../git/repo.js'
import { stashTop } from './gitintent.js'

export interface Kept<F> { oid: string; files: Record<string, F> }

export const holdFile = (state: string): string => path.join(state, 'stash-hold.json')

export async function readKept<F>(state: string): Promise<Kept<F> | null> {
  try {
    const k = JSON.parse(await fsp.readFile(holdFile(state), 'utf8')) as Kept<F>
    return typeof k.oid === 'string' && k.files && typeof k.files === 'object' ? k : null
  } catch {
    return null
  }
}

export function forgetHold(state: string): Promise<void> {
  return fsp.rm(holdFile(state), { force: true }).catch(() => undefined)
}

/**
 * The files (space paths) a `git stash` entry holds the live context of now (its hold kept, the entry on
 * top): the daemon takes none of them in until the hold ends (commands/resolve.ts asks).
 */
export async function heldFiles(repo: Repo, state: string): Promise<string[]> {
  const kept = await readKept<unknown>(state)
  return kept !== null && (await stashTop(repo)) === kept.oid ? Object.keys(kept.files) : []
}
