/**
 * Last-resort rendering. If the exact rendering of a merged state would not parse (a combination of
 * concurrent formatting edits the repair rules in `render.ts` do not cover), every peer instead renders the
 * same canonical YAML of the merged *values*: formatting is lost for that file until the next local edit,
 * but content is not, the file stays valid, and peers still converge (this is a pure function of the IR).
 */
import { Document, isAlias, isNode, isPair, isScalar, parse, parseDocument, Pair, Scalar, stringify, visit, YAMLMap, YAMLSeq, type Node as YamlNode } from 'yaml'
import type { DocIR, Node } from './ir.js'
import { bodyLineToAbsolute, toAbsolute } from './indent.js'

export function valueOf(node: Node | null): unknown {
  if (!node) return null
  switch (node.t) {
    case 'scalar':
    case 'opaque':
      return safeParse(toAbsolute(node.raw, 0))
    case 'block': {
      // Re-indent the body under a key with an explicit indicator: valid whatever the lines start with.
      const m = /^([|>])([-+]?)[1-9]?([-+]?)/.exec(node.header)
      const header = `${m?.[1] ?? '|'}2${m?.[2] || m?.[3] || ''}`
      const body = node.lines.map((l) => bodyLineToAbsolute(l.text, 2) + '\n').join('')
      const parsed = safeParse(`v: ${header}\n${body}`) as { v?: unknown } | string
      return typeof parsed === 'object' && parsed !== null ? parsed.v : body
    }
    case 'map':
    case 'fmap': {
      const out: Record<string, unknown> = {}
      for (const e of node.entries) out[e.key] = valueOf(e.value)
      return out
    }
    case 'seq':
    case 'fseq':
      return node.items.map((i) => valueOf(i.value))
  }
}

function safeParse(text: string): unknown {
  try {
    // Checked for duplicate keys when the file was parsed; the yaml package's check is quadratic. A tag no
    // schema knows (`!mytag`) is kept as written, silently: the package's warning went to the daemon's stderr.
    return parse(text, { uniqueKeys: false, logLevel: 'error' })
  } catch {
    return text
  }
}

export function fallbackText(ir: DocIR): string {
  return holdsAliases(ir.root) ? aliasedText(ir.root) : stringify(valueOf(ir.root))
}

/** Whether an opaque node of the tree may hold an anchor or an alias (a tag alone gives a false yes: no harm). */
const TAGS: Array<'binary' | 'set' | 'omap' | 'pairs' | 'timestamp'> = ['binary', 'set', 'omap', 'pairs', 'timestamp']

function holdsAliases(node: Node | null): boolean {
  if (!node) return false
  const stack: Node[] = [node]
  while (stack.length > 0) {
    const n = stack.pop()!
    if (n.t === 'opaque' && /[&*]/.test(n.raw)) return true
    if (n.t === 'map' || n.t === 'fmap' || n.t === 'seq' || n.t === 'fseq') {
      for (const c of n.t === 'map' || n.t === 'fmap' ? n.entries : n.items) {
        if ('sep' in c && sepAnchor(c.sep) !== null) return true
        stack.push(c.value)
      }
    }
  }
  return false
}

/**
 * The canonical text of a tree with anchors and aliases, which its values alone would lose: an opaque node's
 * value taken alone made every alias the string `*x` (black-box tester finding 6: a merge that moved an
 * alias above its anchor, or a concurrent edit that dropped the anchor, wrote `b: "*x"` for every alias of
 * the file). Anchors and aliases are kept as written; an alias with no anchor before it becomes a copy of the
 * node anchored so after it; one whose anchor is gone becomes null with a comment that says so, in the file.
 */
function aliasedText(root: Node | null): string {
  // The tags an opaque node's own parse resolves (`!!binary` as a Buffer, …) must be known to write them back.
  const doc = new Document(null, { customTags: TAGS })
  doc.contents = yamlNode(doc, root) as never
  const defined = new Map<string, YamlNode[]>()
  const anchored = new Map<string, YamlNode>()
  visit(doc, { Node: (_, n) => void (n.anchor && !anchored.has(n.anchor) && anchored.set(n.anchor, n)) })
  visit(doc, {
    Node: (_, n, path) => {
      if (isAlias(n)) {
        const defs = defined.get(n.source) ?? []
        if (defs.length > 0 && !path.includes(defs[defs.length - 1]!)) return undefined
        // Inside the very node its name anchors now (a peer anchored a collection so while another wrote the alias
        // in it: anchor races seed 3): a value that contains itself. It meant the node so anchored before, if any.
        const before = defs.slice(0, -1).reverse().find((d) => !path.includes(d))
        const later = defs.length > 0 ? before : anchored.get(n.source)
        if (later) {
          const copy = later.clone() as YamlNode
          copy.anchor = undefined
          return copy
        }
        // A merge key's value must be a mapping for YAML 1.1 readers (PyYAML): `<<: {}` merges nothing.
        const lost = isPair(path[path.length - 1]) && isScalar((path[path.length - 1] as Pair).key) && ((path[path.length - 1] as Pair<Scalar>).key.value === '<<') ? new YAMLMap() : new Scalar(null)
        if (lost instanceof YAMLMap) lost.flow = true
        lost.comment = ` unresolved alias *${n.source}: its anchor &${n.source} was removed or renamed by an edit made at the same time`
        return lost
      }
      if (n.anchor) defined.set(n.anchor, [...(defined.get(n.anchor) ?? []), n])
      return undefined
    },
  })
  return doc.toString()
}

function yamlNode(doc: Document, node: Node | null): unknown {
  if (!node) return null
  switch (node.t) {
    case 'opaque': {
      const d = parseDocument(toAbsolute(node.raw, 0), { uniqueKeys: false })
      return d.errors.length === 0 && isNode(d.contents) ? d.contents : doc.createNode(valueOf(node))
    }
    case 'map':
    case 'fmap': {
      const m = new YAMLMap()
      for (const e of node.entries) m.items.push(new Pair(new Scalar(e.key), anchored(yamlNode(doc, e.value), e.sep)))
      return m
    }
    case 'seq':
    case 'fseq': {
      const s = new YAMLSeq()
      for (const i of node.items) s.items.push(anchored(yamlNode(doc, i.value), 'sep' in i ? i.sep : ''))
      return s
    }
    default:
      return doc.createNode(valueOf(node))
  }
}

/**
 * The anchor a separator gives the collection after it (`: &base`, `- &x `, or alone on the next line,
 * `:\n  &base\n`: `anchorsep.ts` anchoredCollection).
 */
export function sepAnchor(sep: string): string | null {
  return /^[ \t]*[:-](?:[ \t]+|(?:[ \t]+#.*)?[ \t]*\r?\n(?:[\u0001 \t]*(?:#.*)?\r?\n)*[\u0001 ]*)&([^\s,[\]{}]+)/.exec(sep)?.[1] ?? null
}

function anchored(n: unknown, sep: string): unknown {
  const name = sepAnchor(sep)
  if (name !== null && isNode(n)) n.anchor = name
  return n
}

/**
 * A block value (mapping, sequence, block scalar) that a merge placed inside a flow collection — one peer
 * turned `todos:` into `[…]` while another added an item in block style — as the equivalent flow text, on
 * one line: the same value, valid where block syntax is not.
 */
export function asFlowText(node: Node): string {
  // Built from YAML nodes when it holds aliases: its values alone made each alias the string `*x` (an item
  // under an alias typed into a list a peer had emptied to `[]`: anchor races, seed 2).
  let doc: Document
  if (holdsAliases(node)) {
    doc = new Document(null, { customTags: TAGS })
    doc.contents = yamlNode(doc, node) as never
  } else doc = new Document(valueOf(node))
  // Multi-line strings double-quoted with `\n` escapes: folded over lines (the package's default), their
  // continuation lines started at column 0 inside the block collection around, which then did not parse and
  // the whole file fell back to canonical text (a `|+` name kept in a `scope: {}` a stale save wrote: edit
  // generator seed 777).
  visit(doc, { Scalar: (_, s) => void (typeof s.value === 'string' && /[\n\r]/.test(s.value) && (s.type = 'QUOTE_DOUBLE')) })
  // Its aliases' anchors are in the text around it, not in this fragment.
  return doc.toString({ collectionStyle: 'flow', lineWidth: 0, doubleQuotedAsJSON: true, verifyAliasOrder: false }).trimEnd()
}
