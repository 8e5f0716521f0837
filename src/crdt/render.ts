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
 *  - an inline first entry (after `- `) that carries comment lines moves to its own line;
 *  - a block scalar whose first body line starts with a space gets an explicit indentation indicator.
 */
import type { BlockScalarNode, DocIR, FlowEntry, FlowItem, MapEntry, Node, SeqItem } from './ir.js'
import { bodyLineToAbsolute, toAbsolute } from './indent.js'

class Out {
  parts: string[] = []
  col = 0
  last = '\n'

  push(s: string): void {
    if (s.length === 0) return
    this.parts.push(s)
    const nl = s.lastIndexOf('\n')
    this.col = nl < 0 ? this.col + s.length : s.length - nl - 1
    this.last = s[s.length - 1]!
  }

  get atLineStart(): boolean {
    return this.last === '\n'
  }

  ensureLineStart(): void {
    if (!this.atLineStart) this.push('\n')
  }

  toString(): string {
    return this.parts.join('')
  }
}

export function renderDoc(ir: DocIR): string {
  const out = new Out()
  out.push(ir.head)
  if (ir.root) {
    if ((ir.root.t === 'map' || ir.root.t === 'seq') && !out.atLineStart && /#[^\n]*$/.test(ir.head)) out.push('\n')
    renderNode(out, ir.root, 0, 0)
  }
  out.push(ir.trail)
  return out.toString()
}

/** Renders one node alone, starting at column `col` inside a block collection at column `base`. */
export function renderNodeText(node: Node, col: number, base: number): string {
  const out = new Out()
  out.col = col
  out.last = col === 0 ? '\n' : ' '
  renderNode(out, node, base, base)
  return out.toString()
}

/**
 * `base`: column of the enclosing block collection (relative text is relative to it). `min`: the least
 * column a block collection starting on its own line may take here.
 */
function renderNode(out: Out, node: Node, base: number, min: number): void {
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
      const inline = !out.atLineStart && children[0]!.head === ''
      let col = base + node.indent
      if (inline) col = out.col
      else {
        if (col < min) col = Math.max(min, base + 2)
        out.ensureLineStart()
      }
      children.forEach((c, i) => {
        if (i > 0 || !inline) {
          out.ensureLineStart()
          pushHead(out, c.head)
          out.push(' '.repeat(col))
        }
        if (node.t === 'map') renderMapEntry(out, c as MapEntry, col)
        else renderSeqItem(out, c as SeqItem, col)
      })
      return
    }
    case 'fseq':
      out.push('[')
      renderFlow(out, node.items, node.close, base, (it) => renderNode(out, it.value, base, base))
      out.push(']')
      return
    case 'fmap':
      out.push('{')
      renderFlow(out, node.entries, node.close, base, (e) => renderFlowEntry(out, e, base))
      out.push('}')
      return
  }
}

function pushHead(out: Out, head: string): void {
  if (head === '') return
  out.push(head)
  out.ensureLineStart()
}

function renderMapEntry(out: Out, e: MapEntry, col: number): void {
  out.push(e.keyRaw)
  out.push(valueSep(e.sep, e.value, col))
  // A sequence may sit level with its key; a nested mapping must be deeper.
  renderNode(out, e.value, col, e.value.t === 'seq' ? col : col + 1)
  out.push(e.trail)
}

function renderSeqItem(out: Out, it: SeqItem, col: number): void {
  out.push(valueSep(it.sep, it.value, col, true))
  renderNode(out, it.value, col, col + 1)
  out.push(it.trail)
}

function isBlockCollection(n: Node): boolean {
  return (n.t === 'map' && n.entries.length > 0) || (n.t === 'seq' && n.items.length > 0)
}

/** The separator in absolute form, repaired when the value's kind no longer fits it (see header). */
function valueSep(rel: string, value: Node, col: number, seqItem = false): string {
  const sep = toAbsolute(rel, col)
  const nl = sep.lastIndexOf('\n')
  if (isBlockCollection(value)) {
    // After `key: ` only a scalar or flow value may follow on the same line; after `- ` anything may.
    if (nl < 0 && !seqItem) return sep.replace(/[ \t]*$/, '') + '\n'
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

function renderFlow<T extends FlowItem | FlowEntry>(
  out: Out,
  items: T[],
  close: string,
  base: number,
  each: (it: T) => void,
): void {
  for (let i = 0; i < items.length; i++) {
    const it = items[i]!
    if (i > 0) out.push(',')
    out.push(toAbsolute(it.pre, base))
    each(it)
    out.push(toAbsolute(it.post, base))
  }
  let tail = toAbsolute(close, base)
  // A trailing comma only makes sense after an item.
  if (items.length === 0) tail = tail.replace(/^\s*,/, '')
  out.push(tail)
}

function renderFlowEntry(out: Out, e: FlowEntry, base: number): void {
  out.push(e.keyRaw)
  out.push(toAbsolute(e.sep, base))
  if (e.sep !== '') renderNode(out, e.value, base, base)
}

function renderBlockScalar(out: Out, node: BlockScalarNode, base: number): void {
  const indent = base + node.indent
  out.push(blockHeader(node))
  for (const line of node.lines) out.push(bodyLineToAbsolute(line.text, indent) + '\n')
}

/**
 * With an auto-detected indentation, a first content line that starts with a space would make the parser
 * detect a deeper indentation than the other lines have; an explicit indicator keeps the body valid.
 */
function blockHeader(node: BlockScalarNode): string {
  const first = node.lines.find((l) => l.text.trim() !== '' && l.text.charCodeAt(0) !== 1)
  const m = /^([|>])([-+]?)([1-9]?)([-+]?)/.exec(node.header)
  if (!first || !m || m[3] !== '' || first.text.charCodeAt(0) !== 32) return node.header
  const digit = node.indent
  if (digit < 1 || digit > 9) return node.header
  return m[1]! + m[2]! + String(digit) + m[4]! + node.header.slice(m[0].length)
}
