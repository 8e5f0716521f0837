/**
 * The intermediate representation (IR) of one YAML file: its meaning and its exact concrete syntax, split
 * along the lines where concurrent edits must merge.
 *
 * Every byte of the file belongs to exactly one string field below, so `render(parse(text)) === text`.
 * IR objects are immutable once rendered (the renderer reuses an entry's text by object identity): change
 * a copy, never the object itself. Only bookkeeping that does not affect text (`id`, `span`) may be set.
 * Text that spans several lines is stored with its indentation *relative* to the column of the block
 * collection it sits in (see `indent.ts`), so re-indenting a collection is one change and items that a peer
 * inserted concurrently follow the new indentation.
 *
 * A block entry is `head` (verbatim comment and blank lines) + indentation (derived from the collection's
 * column) + its own text; only an entry continuing its parent's line (`- id: 7`) has no head.
 */

export type Node = ScalarNode | BlockScalarNode | MapNode | SeqNode | FlowSeqNode | FlowMapNode | OpaqueNode

/** A plain or quoted scalar: `raw` is the token as written, quotes included (relative indentation). */
export interface ScalarNode {
  t: 'scalar'
  raw: string
}

/** A literal/folded block scalar: header line (verbatim, with its newline) and body lines. */
export interface BlockScalarNode {
  t: 'block'
  /** `|`, `>-`, `|2`, … plus anything after it on the header line, including the newline. */
  header: string
  /** Content indentation relative to the column of the enclosing block collection. */
  indent: number
  /** Body lines without their newline, with `indent` removed (see `indent.ts` for short blank lines). */
  lines: Line[]
}

export interface Line {
  text: string
  id?: string
}

/**
 * Block collections know their column relative to the enclosing collection (`indent`): when one starts
 * on a line of its own its entries are indented by that; when it continues a line (`- key: v`) it starts
 * where the cursor is. Each entry owns the comment lines above it, the first one included.
 */
export interface MapNode {
  t: 'map'
  entries: MapEntry[]
  indent: number
}

export interface SeqNode {
  t: 'seq'
  items: SeqItem[]
  indent: number
}

export interface FlowSeqNode {
  t: 'fseq'
  items: FlowItem[]
  /** Text between the last item and `]` (spaces, comments, a trailing comma). */
  close: string
}

export interface FlowMapNode {
  t: 'fmap'
  entries: FlowEntry[]
  close: string
}

/**
 * A subtree kept exactly as one register: anchors, aliases, tags, complex keys — constructs whose parts
 * cannot be merged independently without changing meaning. `raw` uses relative indentation.
 */
export interface OpaqueNode {
  t: 'opaque'
  raw: string
}

/** Fields shared by every child of a collection. `id` is set when the IR came from (or went to) a CRDT. */
interface ChildBase {
  id?: string
  value: Node
  /**
   * Block entries only: where the entry (head to trail) sits in the text this IR was parsed from or
   * rendered to. Lets an edit be re-parsed from the entries it touched alone (`incremental.ts`).
   */
  span?: [number, number]
}

export interface MapEntry extends ChildBase {
  /** The key as a string: the identity of the entry within its map. */
  key: string
  /** The key token as written (quotes included). */
  keyRaw: string
  /** Comment and blank lines above the entry, verbatim. */
  head: string
  /**
   * From the end of the key to the start of the value: `: `, `:\n  ` (relative). Before a block collection
   * on its own lines it ends with the newline of the key's line (`:  # note\n`).
   */
  sep: string
  /** After the value on its last line, up to and including the newline (`  # note\n`). */
  trail: string
}

export interface SeqItem extends ChildBase {
  head: string
  /** The dash and what follows up to the value: `- `, `-   `, `-\n    ` (relative). */
  sep: string
  trail: string
}

export interface FlowItem extends ChildBase {
  /** Text after `[` or the comma, before the value (relative). */
  pre: string
  /** Text after the value, before the next comma (relative; '' for the last item, see `close`). */
  post: string
}

export interface FlowEntry extends ChildBase {
  key: string
  keyRaw: string
  pre: string
  /** From the end of the key to the value (`: `); '' for a key without value. */
  sep: string
  post: string
}

export interface DocIR {
  /** The text holds aliases: an edit anywhere may change what they mean, so it is always parsed whole. */
  aliases?: boolean
  /** Everything before the root value: comments, directives, `---`. Verbatim. */
  head: string
  root: Node | null
  /**
   * Everything after the root value: trailing comments, blank lines, `...`. Verbatim — or exactly
   * `NO_FINAL_NEWLINE`, for a file whose last line ends a block scalar without a newline.
   */
  trail: string
}

/**
 * A block scalar's lines always end with their newline in the IR, so the one missing at the end of a file
 * is a property of the document rather than of the scalar: otherwise deleting the file's last newline
 * would turn the last description into an opaque value — a content write that brings back a todo another
 * peer deleted and hides concurrent line edits. Alone it cannot be a real trail (it is not valid YAML).
 */
export const NO_FINAL_NEWLINE = '\u0002'

export type Child = MapEntry | SeqItem | FlowItem | FlowEntry

export function childrenOf(node: Node): Child[] | null {
  switch (node.t) {
    case 'map':
      return node.entries
    case 'seq':
      return node.items
    case 'fseq':
      return node.items
    case 'fmap':
      return node.entries
    default:
      return null
  }
}

/** Every slot that can carry a node id (entries, items, block lines), in document order. */
export function slotsOf(ir: DocIR): Array<Child | Line> {
  const out: Array<Child | Line> = []
  const walk = (n: Node | null) => {
    if (!n) return
    if (n.t === 'block') for (const l of n.lines) out.push(l)
    for (const c of childrenOf(n) ?? []) {
      out.push(c)
      walk(c.value)
    }
  }
  walk(ir.root)
  return out
}
