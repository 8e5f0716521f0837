/**
 * CST (from the `yaml` package's lossless parser) → IR.
 *
 * Works on source offsets rather than on how the CST happens to group whitespace and comments: every
 * entry owns the text from the end of the previous entry to the end of its own last line, split into
 * head / key / separator / value / trail. A subtree whose parts cannot be separated safely (anchors,
 * aliases, tags, complex keys, odd indentation) becomes one opaque node holding its exact text.
 * `extractDoc` finally checks that the IR renders back to the input byte for byte and, where a subtree
 * does not, makes that subtree opaque — so every file that is not refused round-trips exactly.
 */
import { CST } from 'yaml'
import { NO_FINAL_NEWLINE, type DocIR, type FlowEntry, type FlowItem, type Line, type MapEntry, type Node, type SeqItem } from './ir.js'
import { bodyLineToRelative, toRelative } from './indent.js'
import { renderDoc } from './render.js'
import { cstTokens, lineEndAfter, lineStartOf } from './srclines.js'
import { anchoredCollection, ownLineAnchor } from './anchorsep.js'

type Token = CST.Token
type SourceToken = CST.SourceToken

interface Extracted {
  node: Node
  /** Offset where the node's own text ends (before any trailing comment of its line). */
  end: number
}

const FLOW_SCALARS = new Set(['scalar', 'single-quoted-scalar', 'double-quoted-scalar'])
const TRIVIA = new Set(['space', 'comment', 'newline'])

export class Opaque extends Error {}

function hasProps(tokens: readonly SourceToken[] | undefined): boolean {
  return !!tokens && tokens.some((t) => t.type === 'anchor' || t.type === 'tag')
}

/** Start of a value token, props included (props are found in the preceding token lists by callers). */
function valueStart(tok: Token): number {
  return tok.offset
}

/** End of the last non-trivia character of a token. */
export function contentEnd(tok: Token): number {
  switch (tok.type) {
    case 'scalar':
    case 'single-quoted-scalar':
    case 'double-quoted-scalar':
    case 'alias':
      return tok.offset + tok.source.length
    case 'block-scalar':
      return blockBodyStart(tok) + tok.source.length
    case 'flow-collection': {
      const close = tok.end.find((t) => t.type === 'flow-seq-end' || t.type === 'flow-map-end')
      if (!close) throw new Opaque('unclosed flow collection')
      return close.offset + 1
    }
    case 'block-map':
    case 'block-seq': {
      let end = tok.offset
      for (const it of tok.items as CST.CollectionItem[]) {
        for (const t of it.start) if (!TRIVIA.has(t.type)) end = Math.max(end, t.offset + t.source.length)
        if (it.key) end = Math.max(end, contentEnd(it.key))
        for (const t of it.sep ?? []) if (!TRIVIA.has(t.type)) end = Math.max(end, t.offset + t.source.length)
        if (it.value) end = Math.max(end, contentEnd(it.value))
      }
      return end
    }
    default:
      throw new Opaque(`unexpected ${tok.type}`)
  }
}

function blockBodyStart(tok: CST.BlockScalar): number {
  const last = tok.props[tok.props.length - 1]
  if (!last) return tok.offset
  return last.offset + ('source' in last ? last.source.length : 0)
}

/**
 * `regionStart`: where the text a block collection may claim begins when it starts on a line of its own
 * (the first entry's head runs from there); null when it continues its parent's line.
 */
export function extractNode(src: string, tok: Token, base: number, regionStart: number | null = null): Extracted {
  switch (tok.type) {
    case 'scalar':
    case 'single-quoted-scalar':
    case 'double-quoted-scalar':
      return { node: { t: 'scalar', raw: toRelative(tok.source, base) }, end: tok.offset + tok.source.length }
    case 'block-scalar':
      return extractBlockScalar(src, tok, base)
    case 'block-map':
      return guard(src, tok, base, regionStart, () => extractMap(src, tok, base, regionStart))
    case 'block-seq':
      return guard(src, tok, base, regionStart, () => extractSeq(src, tok, base, regionStart))
    case 'flow-collection':
      return guard(src, tok, base, null, () => extractFlow(src, tok, base))
    default:
      return opaque(src, tok.offset, contentEnd(tok), base)
  }
}

function opaque(src: string, start: number, end: number, base: number): Extracted {
  return { node: { t: 'opaque', raw: toRelative(src.slice(start, end), base) }, end }
}

/**
 * Runs a collection extractor; anything it cannot represent makes the collection opaque. An opaque block
 * collection on lines of its own keeps the text from `regionStart`, so nothing falls between the nodes.
 */
function guard(src: string, tok: Token, base: number, regionStart: number | null, f: () => Extracted): Extracted {
  try {
    return f()
  } catch (e) {
    if (!(e instanceof Opaque)) throw e
    const end = tok.type === 'flow-collection' ? contentEnd(tok) : lineEndAfter(src, contentEnd(tok))
    return opaque(src, regionStart ?? tok.offset, end, base)
  }
}

function keyOf(tok: Token | null | undefined): { key: string; start: number; end: number } {
  if (!tok || !FLOW_SCALARS.has(tok.type)) throw new Opaque('complex key')
  const scalar = tok as CST.FlowScalar
  if (scalar.source.includes('\n')) throw new Opaque('multi-line key')
  const resolved = CST.resolveAsScalar(scalar)
  return { key: resolved.value, start: scalar.offset, end: scalar.offset + scalar.source.length }
}

/** Value part of an entry: separator text, node, trail up to the end of the entry's last line. */
function entryValue(
  src: string,
  afterKey: number,
  sepTokens: readonly SourceToken[],
  value: Token | undefined,
  col: number,
): { sep: string; value: Node; trail: string; end: number } {
  if (hasProps(sepTokens) && !anchoredCollection(src, afterKey, sepTokens, value)) {
    const prop = sepTokens.find((t) => t.type === 'anchor' || t.type === 'tag')!
    const end = value ? contentEnd(value) : prop.offset + prop.source.length
    const ownEnd = value && (value.type === 'block-map' || value.type === 'block-seq') ? lineEndAfter(src, end) : end
    const lineEnd = lineEndAfter(src, ownEnd)
    return {
      sep: toRelative(src.slice(afterKey, prop.offset), col),
      value: { t: 'opaque', raw: toRelative(src.slice(prop.offset, ownEnd), col) },
      trail: src.slice(ownEnd, lineEnd),
      end: lineEnd,
    }
  }
  if (!value) {
    const ind = sepTokens.find((t) => t.type === 'map-value-ind' || t.type === 'seq-item-ind')
    const sepEnd = ind ? ind.offset + ind.source.length : afterKey
    const lineEnd = lineEndAfter(src, sepEnd)
    return { sep: src.slice(afterKey, sepEnd), value: { t: 'scalar', raw: '' }, trail: src.slice(sepEnd, lineEnd), end: lineEnd }
  }
  const start = valueStart(value)
  if ((value.type === 'block-map' || value.type === 'block-seq') && lineStartOf(src, start) > afterKey) {
    // The collection starts on a later line: the separator is the rest of the key's line, and the
    // comment lines before the first entry belong to that entry. The line is the one `afterKey` is on: for a
    // dash at column 0 (`-\n  key: v`) that is where the line starts, and `lineEndAfter` would end the
    // separator before the dash, leaving the dash in the first entry's head — but not when the same item is
    // parsed alone at offset 0 (an incremental parse), so the two splits met in one diff and the dash was
    // written twice (issue 13 class A).
    const nl = src.indexOf('\n', afterKey)
    const anchor = sepTokens.find((t) => t.type === 'anchor')
    const sepEnd = (anchor && nl >= 0 && nl < anchor.offset ? ownLineAnchor(src, afterKey, anchor, value) : null) ?? (nl < 0 ? src.length : nl + 1)
    const ex = extractNode(src, value, col, sepEnd)
    return { sep: toRelative(src.slice(afterKey, sepEnd), col), value: ex.node, trail: '', end: ex.end }
  }
  const ex = extractNode(src, value, col)
  const lineEnd = lineEndAfter(src, ex.end)
  return { sep: toRelative(src.slice(afterKey, start), col), value: ex.node, trail: src.slice(ex.end, lineEnd), end: lineEnd }
}

function checkIndent(src: string, lineStart: number, at: number, col: number): void {
  if (at - lineStart !== col) throw new Opaque('unexpected indentation')
  for (let i = lineStart; i < at; i++) if (src.charCodeAt(i) !== 32) throw new Opaque('non-space indentation')
}

/** Where the first entry's head starts, or null when the collection continues its parent's line. */
function firstHeadStart(src: string, tok: Token, regionStart: number | null): number | null {
  if (regionStart === null) return null
  const ls = lineStartOf(src, tok.offset)
  if (ls < regionStart) throw new Opaque('collection shares a line with its parent')
  return regionStart
}

function extractMap(src: string, tok: CST.BlockMap, base: number, regionStart: number | null): Extracted {
  const col = tok.offset - lineStartOf(src, tok.offset)
  const entries: MapEntry[] = []
  const seen = new Set<string>()
  const headStart = firstHeadStart(src, tok, regionStart)
  let prevEnd = headStart ?? tok.offset
  for (let i = 0; i < tok.items.length; i++) {
    const it = tok.items[i]!
    // Comment lines after the last entry come as an item with nothing but trivia: they belong to whatever
    // follows (offsets put them in the next head or the document trail).
    if (!it.key && !it.sep && !it.value && it.start.every((t) => TRIVIA.has(t.type))) continue
    if (it.explicitKey || hasProps(it.start)) throw new Opaque('explicit key or key properties')
    const k = keyOf(it.key)
    if (seen.has(k.key)) throw new Opaque('two keys with the same text')
    seen.add(k.key)
    let head = ''
    const start = entries.length > 0 || headStart !== null ? prevEnd : k.start
    if (entries.length > 0 || headStart !== null) {
      const ls = lineStartOf(src, k.start)
      if (ls < prevEnd) throw new Opaque('entry shares a line with the previous one')
      checkIndent(src, ls, k.start, col)
      head = src.slice(prevEnd, ls)
    } else if (k.start !== tok.offset) throw new Opaque('first key not at collection start')
    const v = entryValue(src, k.end, it.sep ?? [], it.value, col)
    entries.push({ key: k.key, keyRaw: src.slice(k.start, k.end), head, sep: v.sep, value: v.value, trail: v.trail, span: [start, v.end] })
    prevEnd = v.end
  }
  if (entries.length === 0) throw new Opaque('empty block mapping')
  return { node: { t: 'map', entries, indent: col - base }, end: prevEnd }
}

function extractSeq(src: string, tok: CST.BlockSequence, base: number, regionStart: number | null): Extracted {
  const col = tok.offset - lineStartOf(src, tok.offset)
  const items: SeqItem[] = []
  const headStart = firstHeadStart(src, tok, regionStart)
  let prevEnd = headStart ?? tok.offset
  for (let i = 0; i < tok.items.length; i++) {
    const it = tok.items[i]!
    if (!it.value && it.start.every((t) => TRIVIA.has(t.type))) continue
    const di = it.start.findIndex((t) => t.type === 'seq-item-ind')
    if (di < 0) throw new Opaque('sequence item without dash')
    const dash = it.start[di]!
    let head = ''
    const start = items.length > 0 || headStart !== null ? prevEnd : dash.offset
    if (items.length > 0 || headStart !== null) {
      const ls = lineStartOf(src, dash.offset)
      if (ls < prevEnd) throw new Opaque('item shares a line with the previous one')
      checkIndent(src, ls, dash.offset, col)
      head = src.slice(prevEnd, ls)
    } else if (dash.offset !== tok.offset) throw new Opaque('first dash not at collection start')
    const after = it.start.slice(di)
    const v = entryValue(src, dash.offset, after, it.value, col)
    items.push({ head, sep: v.sep, value: v.value, trail: v.trail, span: [start, v.end] })
    prevEnd = v.end
  }
  if (items.length === 0) throw new Opaque('empty block sequence')
  return { node: { t: 'seq', items, indent: col - base }, end: prevEnd }
}

function extractBlockScalar(src: string, tok: CST.BlockScalar, base: number): Extracted {
  const bodyStart = blockBodyStart(tok)
  if (tok.props.some((p) => p.type === 'anchor' || p.type === 'tag')) {
    return opaque(src, tok.offset, bodyStart + tok.source.length, base)
  }
  const end = bodyStart + tok.source.length
  const header = src.slice(tok.offset, bodyStart)
  if (!header.endsWith('\n') || (tok.source !== '' && !tok.source.endsWith('\n'))) {
    return opaque(src, tok.offset, end, base)
  }
  const raw = tok.source === '' ? [] : tok.source.slice(0, -1).split('\n')
  const m = /^[|>][-+]?([1-9])?/.exec(header)
  let indent: number
  if (m?.[1]) indent = base + Number(m[1])
  else {
    const first = raw.find((l) => l.trim() !== '')
    indent = first ? first.length - first.trimStart().length : base + 1
  }
  const lines: Line[] = raw.map((l) => ({ text: bodyLineToRelative(l, indent) }))
  return { node: { t: 'block', header, indent: indent - base, lines }, end }
}

function extractFlow(src: string, tok: CST.FlowCollection, base: number): Extracted {
  const isMap = tok.start.type === 'flow-map-start'
  if (hasProps([tok.start])) throw new Opaque('flow properties')
  const closeTok = tok.end.find((t) => t.type === 'flow-seq-end' || t.type === 'flow-map-end')
  if (!closeTok) throw new Opaque('unclosed flow collection')
  let boundary = tok.offset + 1
  let prevValueEnd = -1
  const items: Array<FlowItem | FlowEntry> = []
  const seen = new Set<string>()
  for (const it of tok.items) {
    if (hasProps(it.start) || hasProps(it.sep)) throw new Opaque('flow item properties')
    const comma = it.start.find((t) => t.type === 'comma')
    if (comma) {
      if (items.length > 0) items[items.length - 1]!.post = toRelative(src.slice(prevValueEnd, comma.offset), base)
      boundary = comma.offset + 1
    }
    if (!it.value && !it.key) continue // only a (trailing) comma
    if (isMap) {
      const k = keyOf(it.key)
      if (seen.has(k.key)) throw new Opaque('two keys with the same text')
      seen.add(k.key)
      const sepTokens = it.sep ?? []
      let sep: string
      let value: Node
      let end: number
      if (it.value) {
        const ex = extractFlowValue(src, it.value, base)
        sep = toRelative(src.slice(k.end, it.value.offset), base)
        value = ex.node
        end = ex.end
      } else {
        const ind = sepTokens.find((t) => t.type === 'map-value-ind')
        end = ind ? ind.offset + 1 : k.end
        sep = src.slice(k.end, end)
        value = { t: 'scalar', raw: '' }
      }
      items.push({ key: k.key, keyRaw: src.slice(k.start, k.end), pre: toRelative(src.slice(boundary, k.start), base), sep, value, post: '' })
      prevValueEnd = end
    } else {
      if (it.key !== undefined || it.sep) throw new Opaque('pair inside a flow sequence')
      const ex = extractFlowValue(src, it.value!, base)
      items.push({ pre: toRelative(src.slice(boundary, it.value!.offset), base), value: ex.node, post: '' })
      prevValueEnd = ex.end
    }
  }
  const lastEnd = items.length > 0 ? prevValueEnd : tok.offset + 1
  // Text after the last value (spaces, comments, a trailing comma) up to the bracket.
  if (items.length > 0) items[items.length - 1]!.post = ''
  const close = toRelative(src.slice(lastEnd, closeTok.offset), base)
  const end = closeTok.offset + 1
  const node: Node = isMap
    ? { t: 'fmap', entries: items as FlowEntry[], close }
    : { t: 'fseq', items: items as FlowItem[], close }
  return { node, end }
}

function extractFlowValue(src: string, tok: Token, base: number): Extracted {
  if (FLOW_SCALARS.has(tok.type) || tok.type === 'flow-collection') return extractNode(src, tok, base)
  throw new Opaque(`${tok.type} inside a flow collection`)
}

/** The file ends inside the body of a block scalar that is the last value of the document. */
function endsInOpenBlockScalar(src: string, root: Token): boolean {
  if (src.endsWith('\n')) return false
  let tok: Token | undefined = root
  while (tok && (tok.type === 'block-map' || tok.type === 'block-seq')) {
    const items = tok.items as CST.CollectionItem[]
    tok = items[items.length - 1]?.value
  }
  return tok?.type === 'block-scalar' && !tok.source.endsWith('\n')
}

/**
 * Extracts the single document of a file. Returns null when the CST holds several documents (the caller
 * refuses such files).
 */
export function extractDoc(src: string, tokens: readonly Token[]): DocIR | null {
  const docs = tokens.filter((t): t is CST.Document => t.type === 'document')
  if (docs.length > 1) return null
  const doc = docs[0]
  const root = doc?.value
  if (!doc || !root || (FLOW_SCALARS.has(root.type) && (root as CST.FlowScalar).source === '' && !hasProps(doc.start))) {
    return { head: src, root: null, trail: '' }
  }
  if (endsInOpenBlockScalar(src, root)) {
    // Extract as if the newline were there; the document remembers that it is not (see NO_FINAL_NEWLINE).
    const full = src + '\n'
    const ir = extractDoc(full, cstTokens(full))
    if (ir && ir.trail === '' && ir.root?.t !== 'opaque') {
      const open = { ...ir, trail: NO_FINAL_NEWLINE }
      if (renderDoc(open) === src) return open
    }
  }
  let ir: DocIR
  const propsTok = doc.start.find((t) => t.type === 'anchor' || t.type === 'tag')
  if (propsTok) {
    const end = lineEndAfter(src, contentEnd(root))
    ir = { head: src.slice(0, propsTok.offset), root: { t: 'opaque', raw: src.slice(propsTok.offset, end) }, trail: src.slice(end) }
  } else {
    const start = valueStart(root)
    const ls = lineStartOf(src, start)
    const ownLine = /^ *$/.test(src.slice(ls, start))
    const ex = extractNode(src, root, 0, ownLine ? ls : null)
    ir = { head: src.slice(0, ownLine ? ls : start), root: ex.node, trail: src.slice(ex.end) }
  }
  if (renderDoc(ir) === src) return ir
  // Not expected for any file the extractor accepts (the whole corpus of test fixtures round-trips), but
  // exactness is not negotiable: keep the root as one exact register rather than risk a changed byte.
  return { head: '', root: { t: 'opaque', raw: src.slice(0, src.length - ir.trail.length) }, trail: ir.trail }
}
