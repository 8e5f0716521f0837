/**
 * IR → text. A pure walk: the same IR gives the same bytes on every peer.
 *
 * For an IR that came from a real file the walk reproduces it exactly. For an IR that only exists because
 * concurrent edits were merged, a few deterministic repairs keep the text valid YAML:
 *  - an entry that would start on a line the previous entry left open (no final newline) gets a newline;
 *  - an emptied block collection renders as `[]` / `{}` (its key keeps its meaning: empty, not null);
 *  - a block collection whose separator has no line break (it was a scalar on one side) gets one, and a
 *    collection indented no deeper than its key (after a concurrent re-indent) is indented by two;
 *  - a value after `key:` / `-` with no space gets one; a scalar on the next line gets indentation;
 *  - a scalar that won a race over a peer's block collection, in that collection's layout (`key:` and a bare
 *    newline, no trail), is written `key: value` and a newline;
 *  - an inline first entry (after `- `) that carries comment lines moves to its own line;
 *  - a block scalar's blank line kept verbatim (it was shorter than the body's indentation) is cut to the
 *    indentation when a concurrent re-indent made the body shallower: it stays an empty line, where it
 *    would otherwise become content or, before the first content line, make the scalar invalid;
 *  - a block scalar whose first body line starts with a space, or whose leading blank lines are longer
 *    than its indentation, gets an explicit indentation indicator;
 *  - a document marked NO_FINAL_NEWLINE drops the final newline of whatever ends it now; a document trail
 *    after a block collection whose last entry lost its newline (a peer's) starts a line of its own;
 *  - comment lines right after a block scalar that are indented as deep as its body or led by a tab (a
 *    re-indent on one side, a comment above the next entry or after the value on the other) move to the
 *    next entry's column, so they are not read as part of the text.
 * Flow items and block entries share their registers (`pre`/`head`, `post`/`trail`), so after concurrent
 * edits on both sides of a switch between `[a, b]` and `- a` style an item's text is of the other kind:
 *  - a head renders whole lines only: the partial line a flow item's `pre` leaves (` `) is dropped;
 *  - inside a flow collection in block context, a token that text leaves at the start of a line (a
 *    block comment or newline read as flow text) is indented past the block collection's column (the
 *    closing bracket up to it), as the flow collection would otherwise end there.
 */
import { asFlowText } from './canonical.js'
import { NO_FINAL_NEWLINE, type BlockScalarNode, type DocIR, type FlowEntry, type FlowItem, type MapEntry, type Node, type SeqItem } from './ir.js'
import { blockHeader, bodyLine } from './blockheader.js'
import { toAbsolute as toAbsoluteUnbounded, VERBATIM } from './indent.js'
import { spend } from './limits.js'

/** A block entry's rendered text, reusable while the entry object and the context are the same. */
interface Chunk {
  key: string
  text: string
  /** Length of `text`, known before the text itself is cut from the output (see `Out.pending`). */
  len: number
  /** Where the entry's span starts within `text` (after a newline the chunk may begin with). */
  spanAt: number
  /** The spans of the entry and the block entries inside it, relative to the start of `text`. */
  spans: Array<[MapEntry | SeqItem, number, number]>
  blockIndent: number | null
}

/**
 * Entries built by the CRDT tree are immutable (the tree hands out a new object when anything in an entry
 * changes), so their text can be reused: rendering a file after one edit re-renders one entry. IR parsed
 * from text is not cached — callers may edit it (tests do) — only what the tree marked.
 *
 * The chunk lives on the entry itself, under a symbol that is not enumerable (a spread copy of an entry
 * does not take it along), so it dies with the entry. A WeakMap did this before, and its table kept the
 * capacity that entries dying between full GCs made it reach: ~110 bytes more per edit, still growing
 * after 20,000 overwrites (heap snapshots).
 */
const CHUNK = Symbol('chunk')
type Cached = { [CHUNK]?: Chunk | null }

/** Declares an entry immutable: its rendered text may be reused (see `CHUNK`). */
export function markImmutable(c: object): void {
  Object.defineProperty(c, CHUNK, { value: null, writable: true, enumerable: false, configurable: false })
}

class Out {
  parts: string[] = []
  len = 0
  /** Block entries rendered afresh (not reused), for the caller to validate just those. */
  fresh: Array<MapEntry | SeqItem> = []
  /** Where each block entry sits in this rendering (entries may appear in other renderings elsewhere). */
  spans = new Map<MapEntry | SeqItem, Span>()
  /**
   * Chunks rendered afresh, with the range of `parts` they span. Their text is joined from those parts,
   * not cut from the finished output: a substring would keep that whole output alive for as long as the
   * chunk is cached, and a long-running daemon would hold one old copy of a big file per edited entry.
   */
  pending: Array<[Chunk, number, number]> = []
  col = 0
  last = '\n'
  /** The current line holds nothing but spaces so far. */
  blank = true
  /** Content indentation of a block scalar that ended right here (its body would swallow deeper lines). */
  blockIndent: number | null = null

  push(s: string): void {
    if (s.length === 0) return
    // Whatever a state holds, a rendering stops at MAX_RENDER_CHARS (limits.ts) instead of exhausting memory.
    spend(this.len, s.length)
    // The file's BOM is no column: a line after it starts as any line does (see srclines.ts lineStartOf).
    const bom = this.len === 0 && s.charCodeAt(0) === 0xfeff ? 1 : 0
    this.blockIndent = null
    this.parts.push(s)
    this.len += s.length
    const nl = s.lastIndexOf('\n')
    this.col = nl < 0 ? this.col + s.length - bom : s.length - nl - 1
    if (s.length > bom) this.last = s[s.length - 1]!
    if (nl >= 0) this.blank = true
    for (let i = Math.max(nl + 1, bom); this.blank && i < s.length; i++) if (s.charCodeAt(i) !== 32) this.blank = false
  }

  /** Pads a line that so far holds only spaces to column `col`. */
  padBlank(col: number): void {
    if (this.blank && this.col < col) this.push(' '.repeat(col - this.col))
  }

  get atLineStart(): boolean {
    return this.last === '\n'
  }

  /**
   * A line left open by a value that ends in a lone `\r` (a CRLF file's last line without its `\n`, moved
   * or followed by a merged entry): `\r` is that value's text, so a bare `\n` would make it the CRLF line end
   * and change the value (`b\r` read as `b`); a save of the text shown then wrote nothing (edit seed 983031).
   */
  ensureLineStart(): void {
    if (!this.atLineStart) this.push(this.last === '\r' ? '\r\n' : '\n')
  }

  toString(): string {
    for (const [chunk, a, b] of this.pending) chunk.text = this.parts.slice(a, b).join('')
    this.pending = []
    return this.parts.join('')
  }
}

export function renderDoc(ir: DocIR): string {
  return renderDocInfo(ir).text
}

export type Span = [number, number]

/** Renders and also reports which block entries were rendered afresh, and where every block entry sits. */
export function renderDocInfo(ir: DocIR): { text: string; fresh: Array<MapEntry | SeqItem>; spans: Map<MapEntry | SeqItem, Span> } {
  const out = new Out()
  out.push(ir.head)
  if (ir.root) {
    if ((ir.root.t === 'map' || ir.root.t === 'seq') && !out.atLineStart && /#[^\n]*$/.test(ir.head)) out.push('\n')
    renderNode(out, ir.root, 0, 0, -1)
  }
  // After a block collection the trail starts a line; a merged last entry may have lost its newline (a peer's).
  if (ir.trail !== NO_FINAL_NEWLINE && ir.trail !== '' && ir.root && isBlockCollection(ir.root)) out.ensureLineStart()
  if (ir.trail !== NO_FINAL_NEWLINE) out.push(afterBlock(out, ir.trail, 0))
  const text = out.toString()
  return { text: ir.trail === NO_FINAL_NEWLINE && text.endsWith('\n') ? text.slice(0, -1) : text, fresh: out.fresh, spans: out.spans }
}

/** Renders one node alone, starting at column `col` inside a block collection at column `base`. */
export function renderNodeText(node: Node, col: number, base: number): string {
  const out = new Out()
  out.col = col
  out.last = col === 0 ? '\n' : ' '
  out.blank = col === 0
  renderNode(out, node, base, base)
  return out.toString()
}

/**
 * `base`: column of the enclosing block collection (relative text is relative to it). `min`: the least
 * column a block collection starting on its own line may take here. `floor`: the column the lines of a
 * flow collection must go beyond (-1 outside block collections).
 */
function renderNode(out: Out, node: Node, base: number, min: number, floor = base): void {
  switch (node.t) {
    case 'scalar':
    case 'opaque':
      out.push(toAbsolute(node.raw, base))
      return
    case 'block':
      renderBlockScalar(out, node, base)
      return
    case 'map':
    case 'seq': {
      const children: Array<MapEntry | SeqItem> = node.t === 'map' ? node.entries : node.items
      if (children.length === 0) {
        if (out.atLineStart) out.push(' '.repeat(Math.max(min, base + 2)))
        out.push(node.t === 'map' ? '{}' : '[]')
        return
      }
      const inline = !out.atLineStart && wholeLines(children[0]!.head) === ''
      let col = base + node.indent
      if (inline) col = out.col
      else {
        if (col < min) col = Math.max(min, base + 2)
        out.ensureLineStart()
      }
      children.forEach((c, i) => {
        const own = i > 0 || !inline
        const key = `${col}|${own ? 1 : 0}|${out.atLineStart ? 1 : out.last === '\r' ? 2 : 0}|${out.blockIndent ?? ''}`
        const cacheable = CHUNK in c
        const hit = cacheable ? (c as Cached)[CHUNK] : undefined
        if (hit && hit.key === key && hit.text.length === hit.len) {
          const at = out.len
          out.push(hit.text)
          out.blockIndent = hit.blockIndent
          for (const [e, a, b] of hit.spans) out.spans.set(e, [at + a, at + b])
          return
        }
        const at = out.len
        const firstPart = out.parts.length
        if (own) out.ensureLineStart()
        const spanAt = out.len - at
        if (own) {
          pushHead(out, c.head, col)
          out.push(' '.repeat(col))
        }
        if (node.t === 'map') renderMapEntry(out, c as MapEntry, col)
        else renderSeqItem(out, c as SeqItem, col)
        out.spans.set(c, [at + spanAt, out.len])
        const spans: Chunk['spans'] = []
        collectSpans(c, at, out.spans, spans)
        if (cacheable) {
          const chunk: Chunk = { key, text: '', len: out.len - at, spanAt, spans, blockIndent: out.blockIndent }
          ;(c as Cached)[CHUNK] = chunk
          out.pending.push([chunk, firstPart, out.parts.length])
        }
        out.fresh.push(c)
      })
      return
    }
    case 'fseq':
      out.push('[')
      renderFlow(out, node.items, node.close, base, floor, (it) => renderFlowValue(out, it.value, base, floor))
      out.push(']')
      return
    case 'fmap':
      out.push('{')
      renderFlow(out, node.entries, node.close, base, floor, (e) => renderFlowEntry(out, e, base, floor))
      out.push('}')
      return
  }
}

/** The spans of an entry and of the block entries inside it, relative to `at`. */
function collectSpans(c: MapEntry | SeqItem, at: number, all: Map<MapEntry | SeqItem, Span>, out: Chunk['spans']): void {
  const span = all.get(c)
  if (span) out.push([c, span[0] - at, span[1] - at])
  const v = c.value
  const kids = v.t === 'map' ? v.entries : v.t === 'seq' ? v.items : null
  if (kids) for (const k of kids) collectSpans(k, at, all, out)
}

/** A head's comment and blank lines; a partial last line can only be a flow item's `pre` (see header). */
function wholeLines(head: string): string {
  return head.slice(0, head.lastIndexOf('\n') + 1)
}

function pushHead(out: Out, head: string, col: number): void {
  out.push(afterBlock(out, wholeLines(unmark(head)), col))
}

/**
 * A flow item's `pre`/`post` is stored with relative indentation (`indent.ts`); once a merge makes it a
 * block entry's head or trail, which are verbatim, its marks must not reach the file.
 */
function unmark(text: string): string {
  return text.indexOf(VERBATIM) < 0 ? text : text.replace(VERBATIM_AT_LINE_START, '$1')
}
const VERBATIM_AT_LINE_START = new RegExp(`(^|\n)${VERBATIM}`, 'g')

/**
 * Comment lines right after a block scalar, indented as deep as its body or led by a tab, would be read as part
 * of it (or break it): after a concurrent re-indent (or a todo deleted between them), or a same-line comment
 * typed after a value a peer made a block scalar, they move to the entry's column.
 */
function afterBlock(out: Out, text: string, col: number): string {
  const bi = out.blockIndent
  if (bi === null || text === '') return text
  // Only the first line with content can be read into the body: it ends the block (as typed or moved), and the
  // comment lines after it are comments at any depth (`#` at column 0, then `      # …`: moved, the text did not
  // render back and the whole file was one opaque value, so a peer's new key was recorded as overwritten).
  const lines = text.split('\n')
  const i = lines.findIndex((l) => l.trim() !== '')
  const l = lines[i]
  if (l === undefined || (l.length - l.trimStart().length < bi && !/^ *\t/.test(l))) return text
  lines[i] = ' '.repeat(Math.max(0, Math.min(col, bi - 1))) + l.trimStart()
  return lines.join('\n')
}

/**
 * A block collection's layout (`key:` or `key: &a`, a bare newline, no trail: its entries carry their lines)
 * around a scalar: a peer's list lost a race to a value written at once by a writer who had the scalar's layout
 * (a scalar on its own line has indentation after the newline). Written `key: value` and a newline instead.
 */
function lostLayout(e: MapEntry): string | null {
  const m = e.value.t === 'scalar' && e.trail === '' ? /^[:-]?((?:[ \t]+&[^\s,[\]{}]+)?)[ \t]*\n$/.exec(e.sep) : null
  return m ? `:${m[1]}${e.value.t === 'scalar' && e.value.raw === '' ? '' : ' '}` : null
}

function renderMapEntry(out: Out, e: MapEntry, col: number): void {
  const lost = lostLayout(e)
  out.push(e.keyRaw)
  out.push(lost ?? valueSep(e.sep, e.value, col))
  // A sequence may sit level with its key; a nested mapping must be deeper.
  renderNode(out, e.value, col, e.value.t === 'seq' ? col : col + 1)
  out.push(lost !== null ? '\n' : afterBlock(out, unmark(e.trail), col))
}

function renderSeqItem(out: Out, it: SeqItem, col: number): void {
  out.push(valueSep(it.sep, it.value, col, true))
  renderNode(out, it.value, col, col + 1)
  out.push(afterBlock(out, unmark(it.trail), col))
}

function isBlockCollection(n: Node): boolean {
  return (n.t === 'map' && n.entries.length > 0) || (n.t === 'seq' && n.items.length > 0)
}

/** The separator in absolute form, repaired when the value's kind no longer fits it (see header). */
function valueSep(rel: string, value: Node, col: number, seqItem = false): string {
  const sep = toAbsolute(rel, col)
  const nl = sep.lastIndexOf('\n')
  if (isBlockCollection(value)) {
    // After `key: ` only a scalar or flow value may follow on the same line; after `- ` anything may, but
    // not after `- &x `: the anchor would name the first key, not the collection (a peer made it block).
    if (nl < 0 && (!seqItem || /&[^\s,[\]{}]+[ \t]*$/.test(sep))) return sep.replace(/[ \t]*$/, '') + '\n'
    if (nl >= 0 && nl !== sep.length - 1) return sep.slice(0, nl + 1)
    return sep
  }
  if (nl < 0) {
    // `key:` of an empty value, merged with a value written elsewhere: the indicator needs a space.
    if (/[:-]$/.test(sep) && !(value.t === 'scalar' && value.raw === '')) return sep + ' '
    return sep
  }
  const indent = sep.length - nl - 1
  if (indent > col) return sep
  // A value on its own line must be indented deeper than its key; an empty one needs nothing.
  if (value.t === 'scalar' && value.raw === '' && indent === 0) return sep
  return sep + ' '.repeat(col + 2 - indent)
}

/**
 * Text between the tokens of a flow collection; the token after it must lie beyond `floor` (the closing
 * bracket may sit at it) when the text ends a line.
 */
function flowText(out: Out, rel: string, base: number, floor: number, closing = false): void {
  let text = toAbsolute(rel, base)
  // A comment ending this text would swallow the token after it (a block item's trailing comment that a
  // merge moved inside `[…]`): its line ends here.
  if (ENDS_IN_COMMENT.test(text)) text += '\n'
  out.push(text)
  if (floor >= 0) out.padBlank(closing ? floor : floor + 1)
}

const ENDS_IN_COMMENT = /(^|[ \t])#[^\n]*$/

function renderFlow<T extends FlowItem | FlowEntry>(
  out: Out,
  items: T[],
  close: string,
  base: number,
  floor: number,
  each: (it: T) => void,
): void {
  for (let i = 0; i < items.length; i++) {
    const it = items[i]!
    if (i > 0) out.push(',')
    flowText(out, it.pre, base, floor)
    each(it)
    flowText(out, it.post, base, floor)
  }
  // A trailing comma only makes sense after an item.
  flowText(out, items.length === 0 ? close.replace(/^\s*,/, '') : close, base, floor, true)
}

function renderFlowEntry(out: Out, e: FlowEntry, base: number, floor: number): void {
  out.push(e.keyRaw)
  flowText(out, e.sep, base, floor)
  if (e.sep !== '') renderFlowValue(out, e.value, base, floor)
}

function renderFlowValue(out: Out, v: Node, base: number, floor: number): void {
  if (v.t === 'map' || v.t === 'seq' || v.t === 'block') out.push(asFlowText(v))
  else renderNode(out, v, base, base, floor)
}

function renderBlockScalar(out: Out, node: BlockScalarNode, base: number): void {
  const indent = base + node.indent
  spend(out.len, node.lines.length * Math.max(0, indent))
  const body = node.lines.map((l) => bodyLine(l.text, indent))
  out.push(blockHeader(node, body, indent))
  for (const line of body) out.push(line + '\n')
  out.blockIndent = indent
}

/**
 * `toAbsolute` within the rendering budget: every line of a multi-line text gets `base` spaces, so a
 * large base times many lines is refused before that string is built.
 */
function toAbsolute(text: string, base: number): string {
  if (base > 0 && text.length > 0) {
    let lines = 0
    for (let i = text.indexOf('\n'); i >= 0; i = text.indexOf('\n', i + 1)) lines++
    if (lines > 0) spend(text.length, lines * base)
  }
  return toAbsoluteUnbounded(text, base)
}
