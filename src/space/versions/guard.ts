/**
 * The mass-deletion guard. A save that removes most of a file's entries is usually an accident (`: > f`,
 * an editor that saved an empty buffer, an agent that wrote only its part), but may be meant: it is taken
 * in and synced like any save, and the daemon says so and names the `ctxsync undo` that brings the entries
 * back. `status` shows it for GUARD_SHOW_MS (`guard.json` beside the version logs). A peer's change that
 * removes most entries is said the same way on the machine that receives it, naming who made it: `undo`
 * of that change there brings the entries back on every peer.
 */
import fs from 'node:fs/promises'
import { countEntries } from './fields.js'
import { massDeletionWhat } from './guardtext.js'

export const GUARD_SHOW_MS = 60 * 60_000
/** A file of fewer entries is not guarded: removing one of two todos is everyday work. */
const MIN_ENTRIES = 3

export interface GuardNote {
  doc: string
  id: string
  t: number
  removed: number
  of: number
  /** Who made it, when it was a peer's change written here (absent: a save on this machine). */
  by?: string[]
  /** The file was left empty (`: > f`): said so, not as entries removed from a file that still holds some. */
  emptied?: true
}

export function checkMassDeletion(doc: string, before: string, after: string | null, id: string, t: number): GuardNote | null {
  // Cheap test first: a save that kept most of the bytes did not remove most entries.
  if (after !== null && after.length > before.length / 2) return null
  const of = countEntries(before)
  if (of < MIN_ENTRIES) return null
  const left = countEntries(after)
  if (left * 2 >= of) return null
  return { doc, id, t, removed: of - left, of, ...(after !== null && after.trim() === '' ? { emptied: true as const } : {}) }
}

/** The daemon's line for a mass deletion: what happened, whose, and the undo that brings the entries back. */
export function massDeletionLine(note: GuardNote): string {
  const what = massDeletionWhat(note)
  return note.by
    ? `${note.doc}: a change by ${note.by.join(', ')} ${what} — written here; if that was a mistake, \`ctxsync undo ${note.id}\` brings them back (here and on every peer)`
    : `${note.doc}: this save ${what} — taken in and synced; if that was a mistake, \`ctxsync undo ${note.id}\` brings them back`
}

export async function readGuard(file: string, now: number): Promise<GuardNote[]> {
  try {
    const all = JSON.parse(await fs.readFile(file, 'utf8')) as GuardNote[]
    return all.filter((n) => now - n.t < GUARD_SHOW_MS)
  } catch {
    return []
  }
}

export async function noteMassDeletion(file: string, note: GuardNote): Promise<void> {
  const kept = (await readGuard(file, note.t)).filter((n) => n.doc !== note.doc)
  await fs.writeFile(file, JSON.stringify([...kept, note]))
}

/** The change `id` was undone: its note goes (status kept advising the undo already done: black-box tester). */
export async function dropMassDeletion(file: string, id: string): Promise<void> {
  const all = await readGuard(file, Date.now()).catch(() => [] as GuardNote[])
  if (all.some((n) => n.id === id)) await fs.writeFile(file, JSON.stringify(all.filter((n) => n.id !== id)))
}
