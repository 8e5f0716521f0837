/** Which anchors leave the collection after them modelled key by key, the anchor kept in the entry's separator (extract.ts). */
import type { CST } from 'yaml'
import { lineStartOf } from './srclines.js'

type Token = CST.Token
type SourceToken = CST.SourceToken

/**
 * An anchor alone on a collection (`defaults: &base` over indented keys, `- &base {owner: a}`), on the key's
 * or dash's line: the anchor stays in the separator and the collection is modelled like any other, so two
 * peers' edits of different keys inside it both survive (black-box tester stop 30, finding 5: as one opaque
 * register, a later edit of one key dropped a concurrent edit of another). So does an anchor alone on the line
 * after the key's (`ownLineAnchor`). Tags and several properties keep the value opaque.
 */
export function anchoredCollection(src: string, afterKey: number, sepTokens: readonly SourceToken[], value: Token | undefined): boolean {
  if (!value) return false
  const props = sepTokens.filter((t) => t.type === 'anchor' || t.type === 'tag')
  if (props.length !== 1 || props[0]!.type !== 'anchor') return false
  const anchor = props[0]!
  if (src.slice(afterKey, anchor.offset).includes('\n')) return ownLineAnchor(src, afterKey, anchor, value) !== null
  if (value.type === 'flow-collection') return !src.slice(afterKey, value.offset).includes('\n')
  return (value.type === 'block-map' || value.type === 'block-seq') && lineStartOf(src, value.offset) > anchor.offset
}

/**
 * An anchor alone on a line after its key's or dash's (`key:\n  &a\n  x: 1`), over a block collection on the
 * lines after it: the end of the anchor's line, which ends the separator (the collection's first entry starts
 * there), else null. Issue 13: such a collection was one register, like the anchored ones f1246c8 made key by
 * key. Only spaces and comments may stand beside the key and the anchor or between them (comment lines, blank
 * lines: anchor race seed 2), so the separator is layout and the anchor.
 */
export function ownLineAnchor(src: string, afterKey: number, anchor: SourceToken, value: Token): number | null {
  if (value.type !== 'block-map' && value.type !== 'block-seq') return null
  const nl = src.indexOf('\n', afterKey)
  if (nl < 0 || nl > anchor.offset || !/^[:-]?(?:[ \t]+#.*|[ \t]*)\r?$/.test(src.slice(afterKey, nl))) return null
  const anchorLine = lineStartOf(src, anchor.offset)
  if (!/^(?:[ \t]*(?:#.*)?\r?\n)*$/.test(src.slice(nl + 1, anchorLine)) || !/^ *$/.test(src.slice(anchorLine, anchor.offset))) return null
  const end = src.indexOf('\n', anchor.offset)
  if (end < 0 || !/^[ \t]*\r?$/.test(src.slice(anchor.offset + anchor.source.length, end))) return null
  return lineStartOf(src, value.offset) > end ? end + 1 : null
}
