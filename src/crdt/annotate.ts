/**
 * Gives the IR parsed from a rendered text the node ids of the IR it was rendered from.
 *
 * The base a local edit is diffed against must be *the parse of the text on disk*: parsing normalises a
 * few things the CRDT may hold differently (a repaired separator, an emptied value), and diffing the
 * user's text against the un-normalised IR would write those differences back as if the user had made
 * them — spurious operations that could even revive a todo another peer deleted.
 */
import type { Child, DocIR, Node } from './ir.js'
import { childrenOf } from './ir.js'
import { matchByKey, matchItems, matchLines, matchSet } from './match.js'
import { ITEM, identityOfIR, type Rules } from './rules.js'

export function annotate(parsed: DocIR, source: DocIR, rules: Rules, syntax = false): DocIR {
  if (parsed.root && source.root) annotateNode(parsed.root, source.root, rules, [], syntax)
  return parsed
}

/** The registers of a child that hold only syntax (no value: writing them never revives or conflicts). */
const SYNTAX = ['keyRaw', 'head', 'sep', 'trail', 'pre', 'post'] as const

function annotateNode(n: Node, s: Node, rules: Rules, path: readonly string[], syntax: boolean): void {
  if (n.t === 'block' && s.t === 'block') {
    const pairs = n.lines.length === s.lines.length ? n.lines.map((_, i) => i) : matchLines(s.lines, n.lines)
    n.lines.forEach((l, j) => {
      const i = pairs[j]
      if (i !== undefined) l.id = s.lines[i]!.id
    })
    return
  }
  const nk = childrenOf(n)
  const sk = childrenOf(s)
  if (!nk || !sk) return
  const keyed = n.t === 'map' || n.t === 'fmap'
  if (keyed !== (s.t === 'map' || s.t === 'fmap')) return
  const pairs = keyed
    ? matchByKey(sk, nk)
    : sameShape(sk, nk, rules, path)
      ? nk.map((_, i) => i)
      : rules.at(path).merge === 'set'
        ? matchSet(sk, nk)
        : matchItems(sk, nk, rules, path)
  nk.forEach((c, j) => {
    const i = pairs[j]
    if (i === undefined) return
    const src = sk[i]!
    c.id = src.id
    // `syntax`: the base of a save is the parse of a rendering, whose repairs (a newline before an entry that
    // a merge left on the previous entry's line, a separator fitted to a value of another kind) the CRDT does
    // not hold. Its syntax registers as the CRDT holds them make the save write what the file shows there;
    // compared with the parse, a save equal to it wrote nothing, and the register the rendering had hidden
    // came back in the next rendering that could not repair it (issue 13 class C: `k: 0` then a comment
    // after it, rendered `k: 0  # note`).
    if (syntax && n.t === s.t) for (const f of SYNTAX) if (f in src) (c as unknown as Record<string, string>)[f] = (src as unknown as Record<string, string>)[f]!
    const key = keyed ? (c as { key: string }).key : undefined
    annotateNode(c.value, src.value, rules, [...path, key ?? ITEM], syntax)
  })
}

/**
 * Paired by place: as many children, and where the list has identities (`id`) each place holds the same
 * one. A text annotated against another rendering (a joining clone's commit against the live context,
 * an older text against the newest) may hold the same items in another order: paired by place, one item's
 * values were read as the other's, changed since, and a save recorded a conflict on a value nobody changed
 * (join generator seed 8: a todo the live context moved, its title edited by the clone).
 */
function sameShape(a: Child[], b: Child[], rules: Rules, path: readonly string[]): boolean {
  if (a.length !== b.length) return false
  if (!rules.at(path).identity.length) return true
  return a.every((c, i) => identityOfIR(c.value, rules, path) === identityOfIR(b[i]!.value, rules, path))
}
