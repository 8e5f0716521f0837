/**
 * Saves caught while still being written: held a moment, quietly, and looked at again once the file has been
 * left alone (reconcile.ts `settleCut`). The rules that tell such a save, and how long it is left alone.
 */
import type { FileProblem, TrackedFile } from './trackedfile.js'

/**
 * An empty file where there was content is, almost always, a save caught between its truncation and its
 * write (an editor or agent rewriting in place): taken in at once it deleted every entry on every peer, and
 * a second such writer then wiped the file (found by a black-box tester). So is a file that holds only the
 * start of its last text: the first part of such a save (a writer that writes in chunks, or streams its
 * output). Either is held a moment, quietly (nothing is written into it meanwhile: a peer's change that
 * came then was renamed over the writer's file, and the rest of its save was lost on every peer), and looked
 * at again once the file has been left alone for CUT_SETTLE_MS: then it is taken in as it is, diffed against
 * the text before (so a peer's change that came meanwhile stays). A deliberate deletion of a file's end
 * reaches the peers that much later. Holding it until the next save instead left a peer held for good when
 * the watcher's one event for the save came while the file was still cut (the network-faults test).
 */
export const CUT_SETTLE_MS = 2000
export const CUT: FileProblem = { line: 1, col: 1, message: 'the file was cut short (a save under way?): looked at again in a moment', transient: true }

export function cutMidSave(f: TrackedFile, text: string): boolean {
  const base = f.model.baseText ?? ''
  if (!f.model.exists() || f.model.isEmpty || base.trim() === '') return false
  return text.trim() === '' || (text.length < base.length && base.startsWith(text.slice(0, text.lastIndexOf('\n') + 1)))
}

/**
 * Less than half of a file of some lines may be the first part of a rewrite still under way even when it
 * is no cut of the text before: the writer changed a line near the top (`(head -n 5 new; sleep 2.5; tail
 * -n +6 new) > F`, an agent streaming its output, black-box tester). Taken in, it went to every peer as a
 * mass deletion, and the next peer change renamed over the writer's file (midsave.ts waits 1 s at most),
 * so the rest of the save was lost everywhere. Held like a cut, and longer (a writer that pauses mid-save for
 * longer than FIRST_PART_SETTLE_MS still loses its rest: no heuristic sees an open file); a deliberate deletion
 * of most of a file reaches the peers that much later, with the mass-deletion notice as before.
 */
const FIRST_PART_SETTLE_MS = 5000
export const settleMs = (f: TrackedFile, text: string): number => (cutMidSave(f, text) ? CUT_SETTLE_MS : FIRST_PART_SETTLE_MS)

export function mayBeFirstPart(f: TrackedFile, text: string): boolean {
  const base = f.model.baseText ?? ''
  return cutMidSave(f, text) || (f.model.exists() && !f.model.isEmpty && text.length * 2 < base.length && base.split('\n').length > 6)
}
