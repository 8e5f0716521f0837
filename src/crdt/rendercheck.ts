/**
 * Whether a rendering parses, judged entry by entry: only the entries rendered afresh since the last check
 * (the dirty nodes' nearest block entries that start a line) are parsed alone. Moved out of `model.ts`
 * (which calls it for every rendering after the first) to keep that module small.
 */
import type { MapEntry, SeqItem } from './ir.js'
import { MAX_WALK } from './limits.js'
import { parses } from './parse.js'
import type { Span } from './render.js'
import { ROOT, kindOf } from './schema.js'
import type { Tree } from './tree.js'

/** True when every changed entry parses alone; 'whole' when only a check of the whole text can tell. */
export function changedEntriesParse(tree: Tree, text: string, fresh: Array<MapEntry | SeqItem>, spans: Map<MapEntry | SeqItem, Span>, dirty: Set<string>): boolean | 'whole' {
  // An alias depends on text outside its entry: a peer's edit that drops or moves its anchor breaks an entry
  // that did not change (black-box tester finding 6: `d: *x` written with no `&x` before it).
  if (mayHoldAlias(text)) return 'whole'
  const byId = new Map(fresh.filter((c) => c.id).map((c) => [c.id!, c]))
  const targets: Array<[number, number]> = []
  for (const id of dirty) {
    let span: [number, number] | undefined
    for (let cur: string | undefined = id, n = 0; cur && cur !== ROOT; cur = tree.placement(cur)?.[0]) {
      if (++n > MAX_WALK) return 'whole'
      // Inside a flow collection a slice that parses alone proves nothing: a block entry merged into
      // `[…]` reads fine on its own and breaks the flow around it.
      const shown = tree.shownDesc(cur)
      const kind = kindOf(shown)
      if (cur !== id && (kind === 'fseq' || kind === 'fmap')) return 'whole'
      // A value shown as a collection it does not hold (an emptied value over a peer's edit: `emptied.ts`)
      // rendered around the dirty node afresh, from registers that did not change: only the whole text tells.
      if (shown !== tree.desc(cur)) return 'whole'
      if (span) continue
      const c = byId.get(cur)
      const cs = c && spans.get(c)
      if (cs && (cs[0] === 0 || text.charCodeAt(cs[0] - 1) === 10)) span = cs
    }
    if (!span) {
      if (tree.has(id) && tree.alive(id)) return 'whole'
      continue
    }
    targets.push(span)
  }
  targets.sort((x, y) => x[0] - y[0] || y[1] - x[1])
  let reach = -1
  for (const [a, b] of targets) {
    if (b <= reach) continue
    reach = b
    if (!parses(text.slice(a, b))) return 'whole'
  }
  return true
}

/**
 * An alias token: `*name` as a whole value (after `: `, `- `, `? `, `[`, `{` or `,`, and up to the line's end, a
 * comment, `,`, `]`, `}` or a key's `:`). Prose with `*emphasis*` does not match; the rare line of prose that does only
 * costs a whole check.
 */
const ALIAS = /(?:^|[:\-?,[{]\s+|[[{,])\*[^\s*,[\]{}]+\s*(?:$|[,\]}#:])/m

export function mayHoldAlias(text: string): boolean {
  return text.includes('*') && ALIAS.test(text)
}
