/**
 * Last-resort rendering. If the exact rendering of a merged state would not parse (a combination of
 * concurrent formatting edits the repair rules in `render.ts` do not cover), every peer instead renders the
 * same canonical YAML of the merged *values*: formatting is lost for that file until the next local edit,
 * but content is not, the file stays valid, and peers still converge (this is a pure function of the IR).
 */
import { Document, parse, stringify, visit } from 'yaml'
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
    // Checked for duplicate keys when the file was parsed; the yaml package's check is quadratic.
    return parse(text, { uniqueKeys: false })
  } catch {
    return text
  }
}

export function fallbackText(ir: DocIR): string {
  return stringify(valueOf(ir.root))
}

/**
 * A block value (mapping, sequence, block scalar) that a merge placed inside a flow collection — one peer
 * turned `todos:` into `[…]` while another added an item in block style — as the equivalent flow text, on
 * one line: the same value, valid where block syntax is not.
 */
export function asFlowText(node: Node): string {
  // Multi-line strings double-quoted with `\n` escapes: folded over lines (the package's default), their
  // continuation lines started at column 0 inside the block collection around, which then did not parse and
  // the whole file fell back to canonical text (a `|+` name kept in a `scope: {}` a stale save wrote: edit
  // generator seed 777).
  const doc = new Document(valueOf(node))
  visit(doc, { Scalar: (_, s) => void (typeof s.value === 'string' && /[\n\r]/.test(s.value) && (s.type = 'QUOTE_DOUBLE')) })
  return doc.toString({ collectionStyle: 'flow', lineWidth: 0, doubleQuotedAsJSON: true }).trimEnd()
}
