/**
 * A block scalar's body lines and header as rendered (`render.ts`), where a merge moved its indentation: the
 * repairs the header of `render.ts` lists for block scalars. Moved out of `render.ts` to keep it small.
 */
import type { BlockScalarNode } from './ir.js'
import { bodyLineToAbsolute } from './indent.js'

/** A body line in absolute form; a verbatim blank line no longer than the indentation (see header). */
export function bodyLine(text: string, indent: number): string {
  const abs = bodyLineToAbsolute(text, indent)
  return text.charCodeAt(0) === 1 && abs.length > indent && /^ *$/.test(abs) ? abs.slice(0, indent) : abs
}

/**
 * With an auto-detected indentation, a first content line that starts with a space, or a blank line
 * before it that is longer than the indentation, would make the parser detect a deeper indentation than
 * the other lines have (or refuse the scalar); an explicit indicator keeps the body valid.
 */
export function blockHeader(node: BlockScalarNode, body: string[], indent: number): string {
  const m = /^([|>])([-+]?)([1-9]?)([-+]?)/.exec(node.header)
  if (!m || m[3] !== '') return node.header
  const first = body.findIndex((l) => l.trim() !== '')
  const lead = first < 0 ? body : body.slice(0, first)
  const deeper = (first >= 0 && body[first]!.charCodeAt(indent) === 32) || lead.some((l) => l.length > indent)
  const digit = node.indent
  if (!deeper || digit < 1 || digit > 9) return node.header
  return m[1]! + m[2]! + String(digit) + m[4]! + node.header.slice(m[0].length)
}
