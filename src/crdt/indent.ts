/**
 * Relative indentation for text that spans lines (multi-line scalars, flow collections, separators).
 *
 * Such text is stored with the base column (the column of the enclosing block collection) removed from
 * every continuation line, so the same stored text renders correctly wherever the collection moves.
 * Lines that cannot be expressed relatively — blank lines with stray spaces, or content left of the base
 * (a comment line at column 0 inside a nested block) — are stored verbatim behind a VERBATIM mark.
 */

/** Marks a continuation line stored verbatim. A C0 control char cannot appear in YAML text unescaped. */
export const VERBATIM = '\u0001'

function leadingSpaces(line: string): number {
  let n = 0
  while (n < line.length && line.charCodeAt(n) === 32) n++
  return n
}

export function toRelative(text: string, base: number): string {
  if (text.indexOf('\n') < 0) return text
  const lines = text.split('\n')
  for (let i = 1; i < lines.length; i++) {
    const line = lines[i]!
    if (line === '') continue
    const n = leadingSpaces(line)
    const blank = n === line.length || line.trim() === ''
    if (blank || n < base) lines[i] = VERBATIM + line
    else lines[i] = line.slice(base)
  }
  return lines.join('\n')
}

export function toAbsolute(text: string, base: number): string {
  if (text.indexOf('\n') < 0) return text
  const pad = ' '.repeat(base)
  const lines = text.split('\n')
  for (let i = 1; i < lines.length; i++) {
    const line = lines[i]!
    if (line === '') continue
    if (line.charCodeAt(0) === 1) lines[i] = line.slice(1)
    else lines[i] = pad + line
  }
  return lines.join('\n')
}

/** Body lines of a block scalar: `indent` removed, shorter (blank) lines kept verbatim. */
export function bodyLineToRelative(line: string, indent: number): string {
  if (line.length >= indent && leadingSpaces(line) >= indent) return line.slice(indent)
  return VERBATIM + line
}

export function bodyLineToAbsolute(line: string, indent: number): string {
  if (line.charCodeAt(0) === 1) return line.slice(1)
  return ' '.repeat(indent) + line
}
