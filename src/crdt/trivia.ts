/**
 * Comment and blank lines around values (an entry's `head`, the document's head and trail) are one string
 * register each. A save writes its own string whole, so a save made from an older text than the model's
 * (a stale editor buffer, a save racing a peer's update) overwrote the lines a peer changed in the same
 * stretch — a peer's comment, blank line or trailing spaces lost without a trace (the stale-save
 * generator's commonest 'merge differs': 'comment|comment', 'deepComment|whitespaceLine', …). The save's
 * change is applied to the current string line by line instead, when the two changes touch different
 * lines (an untouched line between them, as for the generator's line-wise merge); otherwise the save's
 * string stands, as before (the later edit).
 */
import { diffArrays } from 'diff'
import { NO_FINAL_NEWLINE } from './ir.js'

/** One change of a side against the base: `del` lines from `at` replaced by `add`. */
export interface Hunk {
  at: number
  del: number
  add: string[]
}

export function lineHunks(base: string[], other: string[]): Hunk[] {
  const out: Hunk[] = []
  let at = 0
  let cur: Hunk | null = null
  for (const p of diffArrays(base, other)) {
    if (p.added || p.removed) {
      cur ??= { at, del: 0, add: [] }
      if (p.removed) cur.del += p.value.length
      else cur.add.push(...p.value)
    } else {
      if (cur) out.push(cur)
      cur = null
    }
    if (!p.added) at += p.value.length
  }
  if (cur) out.push(cur)
  return out
}

/** The line-wise merge of two edits of `base`, or null when they touch or neighbour the same lines. */
export function mergeLines(base: string, a: string, b: string): string | null {
  const bl = base.split('\n')
  const all = [...lineHunks(bl, a.split('\n')), ...lineHunks(bl, b.split('\n'))].sort((x, y) => x.at - y.at)
  for (let i = 1; i < all.length; i++) if (all[i - 1]!.at + all[i - 1]!.del >= all[i]!.at) return null
  const out: string[] = []
  let pos = 0
  for (const h of all) {
    out.push(...bl.slice(pos, h.at), ...h.add)
    pos = h.at + h.del
  }
  out.push(...bl.slice(pos))
  return out.join('\n')
}

/** What to write for a string the save changed from `base` to `mine` where the model holds `cur`. */
export function mergedTrivia(base: string, mine: string, cur: string | undefined): string {
  if (typeof cur !== 'string' || typeof base !== 'string' || typeof mine !== 'string' || cur === base || cur === mine) return mine
  if ([base, mine, cur].includes(NO_FINAL_NEWLINE)) return mine
  // A document's BOM is in its head's first line, yet no line's: one side adding or removing it and the other
  // adding a line at the head touched one line, and the save's whole head dropped the peer's BOM (or kept one
  // the peer removed: the stale-save generator's 'bom' mode). Merged apart, on its presence: as the side that
  // changed it has it.
  const [b, m, c] = [base, mine, cur].map((t) => t.startsWith(BOM))
  if (b || m || c) {
    const rest = mergedTrivia(base.slice(b ? 1 : 0), mine.slice(m ? 1 : 0), cur.slice(c ? 1 : 0))
    return (m !== b ? m : c) ? BOM + rest : rest
  }
  return mergeLines(base, mine, cur) ?? mine
}

const BOM = '\uFEFF'
