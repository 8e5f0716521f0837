/** A source text's CST tokens and line positions, as the parser and the extractor (parse.ts, extract.ts) read them. */
import { CST, Parser } from 'yaml'

/**
 * The yaml package's CST of `text`. A BOM before a root block sequence (`\uFEFF- a`) is an error to the package's
 * lexer (yaml 2.9: 'Unexpected scalar at node end'; a mapping after a BOM reads fine), so such a file was held as
 * invalid: the text after the BOM is parsed alone and its offsets moved past the BOM, which is what the package
 * gives for a BOM before a mapping.
 */
export function cstTokens(text: string): CST.Token[] {
  if (text.charCodeAt(0) !== 0xfeff) return Array.from(new Parser().parse(text))
  const tokens = Array.from(new Parser().parse(text.slice(1)))
  const stack: unknown[] = [...tokens]
  const seen = new Set<object>()
  while (stack.length > 0) {
    const x = stack.pop()
    if (!x || typeof x !== 'object' || seen.has(x)) continue
    seen.add(x)
    if (Array.isArray(x)) {
      for (const y of x) stack.push(y)
      continue
    }
    const t = x as { offset?: unknown }
    if (typeof t.offset === 'number') t.offset++
    for (const v of Object.values(x)) if (v && typeof v === 'object') stack.push(v)
  }
  return [{ type: 'byte-order-mark', offset: 0, indent: 0, source: '\uFEFF' }, ...tokens]
}

/**
 * Where the line holding `pos` starts. A BOM at the file's start is no column: its line starts after it (issue
 * 13: read as one, a root mapping right after a BOM was at indent 1, and its keys were written one space in once
 * a line landed before them; render.ts Out counts it the same way).
 */
export function lineStartOf(src: string, pos: number): number {
  const ls = src.lastIndexOf('\n', pos - 1) + 1
  return ls === 0 && pos > 0 && src.charCodeAt(0) === 0xfeff ? 1 : ls
}

/** Offset just after the newline that ends the line containing `pos - 1` (or `pos` when at line start). */
export function lineEndAfter(src: string, pos: number): number {
  if (pos > 0 && src.charCodeAt(pos - 1) === 10) return pos
  const nl = src.indexOf('\n', pos)
  return nl < 0 ? src.length : nl + 1
}
