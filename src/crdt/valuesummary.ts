/**
 * A conflict's value that is a whole list, mapping or block of text, as a person reads it. Its register
 * holds only a descriptor (`S2`, `M2`, `|2:|`: see `schema.ts`), which `resolve --list`, `status` and the
 * daemon's conflict lines showed as the value (a todo deleted on one side, edited on the other: `2. S2 — bob`,
 * issue 17 tester). The value the file shows is summed up from its content; one it no longer shows (replaced
 * by another kind of value) only by what it was.
 */
import { valueOf } from './canonical.js'
import { ITEM } from './rules.js'
import { kindOf, type NodeId } from './schema.js'
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
  if (!known) return { value: null, raw: edited ? `(the ${what}, edited)` : `(a ${noun}, since replaced)` }
  const body = describe(content)
  return { value: content, raw: edited ? `the ${what} as edited: ${body}` : `${k === 'none' ? 'an' : 'a'} ${noun}: ${body}` }
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
