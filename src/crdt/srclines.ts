/** Line positions in a source text, as the extractor (extract.ts) reads them. */

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
