/**
 * A conflict's value that is a whole list, mapping or block of text, as a person reads it. Its register
 * holds only a descriptor (`S2`, `M2`, `|2:|`: see `schema.ts`), which `resolve --list`, `status` and the
 * daemon's conflict lines showed as the value (a todo deleted on one side, edited on the other: `2. S2 — bob`,
 * issue 17 tester). The value the file shows is summed up from its content; one it no longer shows (replaced
 * by another kind of value) only by what it was.
 */
import { valueOf } from './canonical.js'
import { ITEM } from './rules.js'
import { kindOf, parseBlockDesc, type NodeId, type Placement } from './schema.js'
import type { Tree } from './tree.js'

const NOUN = { map: 'mapping', fmap: 'mapping', seq: 'list', fseq: 'list', block: 'block of text', none: 'empty value' } as const

/**
 * `edited`: the value is the edit side of a delete conflict ("the item as edited: title "Two", …").
 * `value` is the content as YAML reads it when it is what the file shows, else null.
 */
export function summarize(tree: Tree, node: NodeId, desc: string, edited: boolean): { value: unknown; raw: string } {
  const k = kindOf(desc)
  const noun = k === 'scalar' || k === 'opaque' ? 'value' : NOUN[k]
  const item = tree.rulePath(node).at(-1) === ITEM
  let content: unknown = null
  let known = false
  if (desc === tree.desc(node)) {
    try {
      content = valueOf(tree.node(node))
      known = true
    } catch {
      // a damaged subtree: said by its kind only
    }
  }
  const what = item && k !== 'block' ? 'item' : noun
  const hidden = known || edited ? undefined : replaced(tree, node, desc)
  if (hidden !== undefined) return { value: hidden, raw: `a ${noun}, since replaced: ${describe(hidden)}` }
  if (!known) return { value: null, raw: edited ? `(the ${what}, edited)` : `(a ${noun}, since replaced)` }
  const body = describe(content)
  return { value: content, raw: edited ? `the ${what} as edited: ${body}` : `${k === 'none' ? 'an' : 'a'} ${noun}: ${body}` }
}

/**
 * A list, mapping or block of text the file no longer shows (a stale save typed another kind of value over
 * a peer's, which stays in the record), as it stood when the value shown replaced it: said by its kind only,
 * the record read `null` beside the save's value (stale-save seeds 2 and 348825). Its entries are under the
 * node still: alive and hidden by the value shown (a peer's, which the save never saw), or deleted by the
 * very write that replaced it (what its text showed). Entries deleted before are no part of it, and the value
 * shown keeps its own (a block's lines are placed as a list's items are).
 */
function replaced(tree: Tree, node: NodeId, desc: string): unknown {
  const k = kindOf(desc)
  const keyed = k === 'map' || k === 'fmap'
  if (!keyed && k !== 'seq' && k !== 'fseq' && k !== 'block') return undefined
  const by = tree.item(node, 'v')
  const at = tree.value(node)?.[1]
  const withIt = (c: NodeId) => {
    const d = tree.item(c, 'd')
    const t = tree.tombstone(c)
    // Written in the same save: by its writer, at its time (a stale save's value may be stamped a moment later).
    return !!(by && d && t && at !== undefined && d.id.client === by.id.client && Math.abs(t[1] - at) < 1)
  }
  const kids: Array<[NodeId, Placement]> = []
  try {
    // Two headers of one block of text (`>-` and `|`): the lines shown are its lines too.
    const shown = new Set(k === 'block' && kindOf(tree.desc(node)) === 'block' ? [] : tree.visibleChildren(node))
    for (const c of tree.rawChildren(node)) {
      const p = tree.placement(c)
      if (p && p[0] === node && p.length > 2 === keyed && !shown.has(c) && (tree.alive(c) || withIt(c))) kids.push([c, p])
    }
    kids.sort(([a, pa], [b, pb]) => (pa[1] < pb[1] ? -1 : pa[1] > pb[1] ? 1 : a < b ? -1 : a > b ? 1 : 0))
    if (k === 'block') {
      if (!kids.length) return undefined
      const b = parseBlockDesc(desc)
      return valueOf({ t: 'block', header: b.header, indent: b.indent, lines: kids.map(([c]) => ({ id: c, text: (tree.desc(c) ?? '=').slice(1) })) })
    }
    const values = kids.map(([c]) => valueOf(tree.node(c)))
    return keyed ? Object.fromEntries(kids.map(([, p], i) => [p[2]!, values[i]])) : values
  } catch {
    return undefined // a damaged subtree: said by its kind only
  }
}

const MAX_SHOWN = 3

function describe(v: unknown): string {
  if (Array.isArray(v)) {
    if (v.length === 0) return 'no entries'
    const shown = v.slice(0, MAX_SHOWN).map(brief)
    return `${v.length} entr${v.length === 1 ? 'y' : 'ies'}: ${shown.join(', ')}${more(v.length)}`
  }
  if (v !== null && typeof v === 'object') {
    const e = Object.entries(v)
    if (e.length === 0) return 'no entries'
    return e.slice(0, MAX_SHOWN).map(([k, x]) => `${k} ${brief(x)}`).join(', ') + more(e.length)
  }
  return brief(v)
}

function more(n: number): string {
  return n > MAX_SHOWN ? `, +${n - MAX_SHOWN} more` : ''
}

/** One value in a few characters: nested collections by their size. */
function brief(v: unknown): string {
  if (Array.isArray(v)) return `[${v.length} entr${v.length === 1 ? 'y' : 'ies'}]`
  if (v !== null && typeof v === 'object') {
    const e = Object.entries(v)
    if (e.length > 0 && e.every(([, x]) => x === null || typeof x !== 'object')) {
      const first = e[0]!
      return `{${first[0]}: ${brief(first[1])}${e.length > 1 ? ', …' : ''}}`
    }
    return `{${e.length} entr${e.length === 1 ? 'y' : 'ies'}}`
  }
  if (typeof v === 'string') {
    const t = v.replace(/\s*\n\s*/g, ' ').trim()
    return JSON.stringify(t.length > 40 ? `${t.slice(0, 39)}…` : t)
  }
  return String(v)
}
