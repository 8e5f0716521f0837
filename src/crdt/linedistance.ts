/**
 * How far a save is from each recent text, in changed lines (`recent.ts` picks the text a save was made from by it).
 */
import { diffLines } from 'diff'
import { TextMemo } from './textmemo.js'

/**
 * What is known of the distance of a pair of texts: exact (`n`), or only more than `over` (a bounded search
 * gave up). The search with a bound finds the same count as without whenever the count is within it.
 */
const known = new TextMemo<{ n?: number; over?: number }>(4 << 20)

/**
 * Lines changed between two texts: per run of changes, the larger of lines removed and lines added (a line
 * edited in place counts one, as a line added does: counting it twice made a save that edits a line a peer
 * added look nearer to the text before the peer's change). Undefined when more than `max` (the search then
 * gives up early: an older text only displaces a nearer one).
 */
export function changedLines(from: string, to: string, max?: number): number | undefined {
  if (from === to) return 0
  const key = `${from.length}:${from}${to}`
  const k = known.get(key)
  if (k?.n !== undefined) return max !== undefined && k.n > max ? undefined : k.n
  if (k?.over !== undefined && max !== undefined && max <= k.over) return undefined
  const n = count(from, to, max)
  known.set(key, n === undefined ? { over: Math.max(max!, k?.over ?? -1) } : { n })
  return n === undefined || (max !== undefined && n > max) ? undefined : n
}

/** The exact count, or undefined when the diff gave up past `max` (its bound implies more than `max`). */
function count(from: string, to: string, max?: number): number | undefined {
  // Lines added after a last line that had no newline leave that line as it was: counted as changed, the
  // save read one line farther from the text it was made from than from an older one (edit generator seed
  // 653442: a `...` typed after a peer removed the final newline was taken as a stale save; the head
  // comment went).
  // Likewise wherever else the save changed the file (stale-save seed 157526: a peer's note typed after a
  // last line without one, and a value changed, read the peer's save as nearer an older text, a stale save
  // of it, and a conflict was recorded over a value it never saw). The final newline alone added or removed
  // is one change (a peer's only change may be just that, and the save that lacks it is made before it).
  // The diff's own bound counts lines removed plus added, at most twice ours.
  const parts = diffLines(from, to, { ignoreNewlineAtEof: true, ...(max === undefined ? {} : { maxEditLength: 2 * Math.max(0, max) + 1 }) })
  if (!parts) return undefined
  const last = (t: string) => t.slice(t.lastIndexOf('\n', t.length - 2) + 1).replace(/\n$/, '')
  let n = from.endsWith('\n') !== to.endsWith('\n') && last(from) === last(to) ? 1 : 0
  let run = [0, 0]
  for (const c of parts) {
    if (c.added) run[1] += c.count ?? 1
    else if (c.removed) run[0] += c.count ?? 1
    else {
      n += Math.max(run[0]!, run[1]!)
      run = [0, 0]
    }
  }
  return n + Math.max(run[0]!, run[1]!)
}

/** Index of the candidate nearest to `text`: fewest changed lines; a tie goes to the newer one. */
export function nearest(candidates: readonly string[], text: string): number {
  let best = -1
  let bestD = Infinity
  for (let i = candidates.length - 1; i >= 0; i--) {
    const c = candidates[i]!
    const d = changedLines(c, text, Number.isFinite(bestD) ? bestD : undefined)
    if (d === undefined) continue
    // A tie: the save changed every line the newer text changed, and nothing in its bytes says whether it
    // was made from the newer text or the older. Read as made from the newer: where it replaced those lines
    // either reading shows the save's values, and the newer records no conflict the person never had
    // ('todo' → 'done' over a peer's 'in_progress' is usually a person editing what they see); where it
    // removed them (an item a peer just edited, deleted), the older reading would keep the item with a
    // delete conflict, and a person's plain deletion would take a second save to go through. A stale save is
    // told by the lines peers changed elsewhere.
    if (d >= bestD) continue
    ;[best, bestD] = [i, d]
    if (bestD === 0) break
  }
  return best
}
