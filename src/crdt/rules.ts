/**
 * Merge rules: which key identifies the items of a list. Decided by the list's key path (and, later, the
 * file glob), never by the items' current content, so that an item added without `id` or a list switched
 * between flow and block style does not change how the other items merge.
 */
import type { Node } from './ir.js'
import { scalarText } from './tree.js'

export interface Rules {
  /** Keys tried in order as the identity of the mapping items of the list at `path` (keys only). */
  identityKeys(path: readonly string[]): readonly string[]
}

/** Rhema lists whose items are commonly named rather than numbered. */
const NAMED_LISTS = new Set(['patterns', 'conventions', 'dependencies', 'scopes', 'components'])

export const defaultRules: Rules = {
  identityKeys(path) {
    const last = path[path.length - 1]
    return last !== undefined && NAMED_LISTS.has(last) ? ['id', 'name'] : ['id']
  },
}

/** The identity value of a list item, when it is a mapping holding one of the identity keys as a scalar. */
export function identityOfIR(node: Node, rules: Rules, path: readonly string[]): string | undefined {
  const entries = node.t === 'map' ? node.entries : node.t === 'fmap' ? node.entries : null
  if (!entries) return undefined
  for (const k of rules.identityKeys(path)) {
    const e = entries.find((x) => x.key === k)
    if (e && e.value.t === 'scalar') return scalarText(e.value.raw)
  }
  return undefined
}
