/**
 * Text → IR, with the checks that decide whether a file may be synced at all.
 *
 * A file that is not valid YAML is *held*: `YamlSyntaxError` carries a 1-based line and column and the
 * parser's reason. A file that is valid but that ctxsync will not model (several documents in one file) is
 * *refused*: `RefusedFileError` says why. Neither ever reaches the CRDT.
 */
import { Composer, isAlias, isMap, isNode, isPair, isScalar, isSeq, type CST, type Node as YamlNode } from 'yaml'
import type { DocIR } from './ir.js'
import { extractDoc } from './extract.js'
import { positionOf } from './position.js'
import { checkIR } from './limits.js'
import { cstTokens } from './srclines.js'

export class YamlSyntaxError extends Error {
  readonly line: number
  readonly col: number
  readonly reason: string
  constructor(line: number, col: number, reason: string) {
    super(`${line}:${col}: ${reason}`)
    this.name = 'YamlSyntaxError'
    this.line = line
    this.col = col
    this.reason = reason
  }
}

export class RefusedFileError extends Error {
  readonly reason: string
  constructor(reason: string) {
    super(reason)
    this.name = 'RefusedFileError'
    this.reason = reason
  }
}

export interface ParseLimits {
  /** Bytes; larger files are held with a clear reason rather than parsed. */
  maxBytes: number
  /** Nesting depth of collections. */
  maxDepth: number
}

export const DEFAULT_LIMITS: ParseLimits = { maxBytes: 16 * 1024 * 1024, maxDepth: 256 }

export { positionOf }

/** One line of the message, without the code frame the yaml package appends. */
function plainReason(message: string): string {
  const first = message.split('\n')[0] ?? message
  return first.replace(/ at line \d+, column \d+:?$/, '').trim()
}

export function parseYaml(text: string, limits: ParseLimits = DEFAULT_LIMITS): DocIR {
  return parseYamlMeasured(text, limits).ir
}

/**
 * `parseYaml`, also counting the file's entries (mapping pairs and sequence items, at every depth): what the
 * CRDT work on the file grows with, so that a daemon can hold a file too big to sync live before it starts.
 */
export function parseYamlMeasured(text: string, limits: ParseLimits = DEFAULT_LIMITS): { ir: DocIR; entries: number } {
  if (text.length > limits.maxBytes) {
    throw new YamlSyntaxError(1, 1, `file is larger than ${limits.maxBytes} bytes`)
  }
  const nul = text.indexOf('\u0000')
  if (nul >= 0) {
    const p = positionOf(text, nul)
    throw new YamlSyntaxError(p.line, p.col, 'NUL character: this does not look like a text file')
  }
  const tokens = cstTokens(text)
  const { aliases, entries } = checkDepth(text, tokens, limits.maxDepth)
  // The composer leaves an alias without an anchor for later (toJS throws); a file that every reader fails
  // on is held here, at the alias, and so never reaches a peer (black-box tester finding 6).
  const unresolved = aliases ? firstUnresolvedAlias(tokens) : null
  if (unresolved) {
    const p = positionOf(text, unresolved.offset)
    throw new YamlSyntaxError(p.line, p.col, `${UNRESOLVED_ALIAS}: ${unresolved.source} (no anchor &${unresolved.source.slice(1)} before it)`)
  }
  // The yaml package's own duplicate-key check compares each key with every earlier one (a flat mapping of
  // 30k keys took ~40 s); `firstDuplicateKey` does the same check with a Set.
  const composer = new Composer({ uniqueKeys: false, strict: true })
  let documents = 0
  for (const doc of composer.compose(tokens, false, text.length)) {
    documents++
    const err = doc.errors[0]
    if (err) {
      // git's markers break the YAML somewhere near them; the parser's message about that line hid what it is.
      const marker = conflictMarkerLine(text)
      if (marker !== null) throw new YamlSyntaxError(marker, 1, CONFLICT_MARKERS)
      const p = positionOf(text, err.pos[0])
      throw new YamlSyntaxError(p.line, p.col, plainReason(err.message))
    }
    const dup = firstDuplicateKey(doc.contents)
    if (dup !== null) {
      const p = positionOf(text, dup)
      throw new YamlSyntaxError(p.line, p.col, DUPLICATE_KEY)
    }
    const bad = aliases ? firstBadAlias(doc.contents) : null
    if (bad) {
      const p = positionOf(text, bad.offset)
      throw new YamlSyntaxError(p.line, p.col, badAliasReason(bad))
    }
  }
  if (documents > 1) {
    throw new RefusedFileError(`it holds ${documents} YAML documents; ctxsync syncs files with one document`)
  }
  const ir = extractDoc(text, tokens)
  if (!ir) throw new RefusedFileError('it holds several YAML documents; ctxsync syncs files with one document')
  if (aliases) ir.aliases = true
  return { ir, entries }
}

export const DUPLICATE_KEY = 'Map keys must be unique'
export const UNRESOLVED_ALIAS = 'unresolved alias'

export const CYCLIC_ALIAS = 'alias inside its own anchor'

/**
 * The first alias inside the very node its anchor names (`a: &x {b: *x}`: valid YAML, but its value contains
 * itself, which JSON and most programs reading the file cannot hold; the model's own walks overflowed the
 * stack on it: edit generator seed 404, addAlias), or with no anchor before it. Walks the composed document
 * in text order, iteratively.
 */
export function firstBadAlias(root: unknown): { offset: number; name: string; cyclic: boolean } | null {
  const anchors = new Map<string, readonly number[]>()
  const stack: unknown[] = [root]
  while (stack.length > 0) {
    const node = stack.pop()
    if (isAlias(node)) {
      const range = anchors.get(node.source)
      const at = node.range?.[0] ?? 0
      if (!range) return { offset: at, name: node.source, cyclic: false }
      if (range[0]! <= at && at < range[2]!) return { offset: at, name: node.source, cyclic: true }
      continue
    }
    if (isNode(node) && node.anchor && node.range) anchors.set(node.anchor, node.range)
    // Pushed last-first, so that items come off the stack in text order (keys before their values).
    if (isMap(node)) for (let i = node.items.length - 1; i >= 0; i--) stack.push(node.items[i]!.value, node.items[i]!.key)
    else if (isSeq(node)) for (let i = node.items.length - 1; i >= 0; i--) stack.push(node.items[i])
    else if (isPair(node)) stack.push(node.value, node.key)
  }
  return null
}

/** The reason a file with `firstBadAlias`'s alias is held (and `ctxsync.yaml` refused). */
export function badAliasReason(bad: { name: string; cyclic: boolean }): string {
  return bad.cyclic
    ? `${CYCLIC_ALIAS}: *${bad.name} is inside the node anchored &${bad.name} (a value that contains itself)`
    : `${UNRESOLVED_ALIAS}: *${bad.name} (no anchor &${bad.name} before it)`
}

/**
 * The first alias whose name no anchor before it in the text defines (an alias means the last node so
 * anchored before it), else null. Anchors sit in whatever token list precedes their node (an item's start,
 * a separator, a block scalar's props), so every token is walked; iterative, and only for texts with aliases.
 */
export function firstUnresolvedAlias(tokens: readonly CST.Token[]): { offset: number; source: string } | null {
  const marks: Array<{ type: string; offset: number; source: string }> = []
  const stack: unknown[] = [...tokens]
  while (stack.length > 0) {
    const x = stack.pop()
    if (!x || typeof x !== 'object') continue
    if (Array.isArray(x)) {
      for (const y of x) stack.push(y)
      continue
    }
    const t = x as { type?: unknown; offset?: unknown; source?: unknown }
    if ((t.type === 'anchor' || t.type === 'alias') && typeof t.source === 'string') marks.push(t as { type: string; offset: number; source: string })
    for (const v of Object.values(x)) if (v && typeof v === 'object') stack.push(v)
  }
  marks.sort((a, b) => a.offset - b.offset)
  const anchors = new Set<string>()
  for (const m of marks) {
    const name = m.source.trimEnd().slice(1)
    if (m.type === 'anchor') anchors.add(name)
    else if (!anchors.has(name)) return m
  }
  return null
}

/** The reason given for a file git left mid-merge: what it is, and the ways to finish it. */
export const CONFLICT_MARKERS =
  'holds git conflict markers (an unfinished merge): finish the merge — edit the file to keep what each side should, ' +
  'or take one side with `git checkout --ours <file>` or `--theirs <file>` — then `git add` it; ' +
  '`ctxsync hooks install` sets up the merge driver, which merges context files without markers'

/**
 * The line (1-based) of the first `<<<<<<<` that a later `>>>>>>>` closes, both at the start of a line as
 * git writes them, else null. Asked only of a text that does not parse: markers inside a block scalar are
 * indented, and such a text is valid.
 */
export function conflictMarkerLine(text: string): number | null {
  const open = /^<{7}(?: |$)/m.exec(text)
  if (!open || !/^>{7}(?: |$)/m.test(text.slice(open.index))) return null
  return text.slice(0, open.index).split('\n').length
}

/**
 * The offset of the earliest key that repeats an earlier key of its mapping, else null. Keys compare as the
 * yaml package's `uniqueKeys` does (two scalars with the same value; other keys never equal), in linear time.
 * Iterative: a composed document may be as deep as `maxDepth` allows.
 */
export function firstDuplicateKey(root: unknown): number | null {
  let first: number | null = null
  const stack: unknown[] = [root]
  while (stack.length > 0) {
    const node = stack.pop()
    if (isMap(node)) {
      const seen = new Set<unknown>()
      for (const pair of node.items) {
        const key = pair.key as YamlNode | null
        if (isScalar(key)) {
          if (seen.has(key.value)) {
            const at = key.range?.[0] ?? 0
            if (first === null || at < first) first = at
          }
          seen.add(key.value)
        }
        stack.push(key, pair.value)
      }
    } else if (isSeq(node)) {
      for (const it of node.items) stack.push(isPair(it) ? it.value : it)
    } else if (isPair(node)) {
      stack.push(node.key, node.value)
    }
  }
  return first
}

/** Deep nesting is refused early so that hostile files cannot exhaust the stack of the recursive walks. */
function checkDepth(text: string, tokens: readonly CST.Token[], maxDepth: number): { aliases: boolean; entries: number } {
  let aliases = false
  let entries = 0
  const visit = (tok: CST.Token | null | undefined, depth: number): void => {
    if (!tok) return
    if (tok.type === 'alias') aliases = true
    if (depth > maxDepth) {
      const p = positionOf(text, tok.offset)
      throw new YamlSyntaxError(p.line, p.col, `nesting deeper than ${maxDepth} levels`)
    }
    if (tok.type === 'document') return visit(tok.value, depth)
    if (tok.type === 'block-map' || tok.type === 'block-seq' || tok.type === 'flow-collection') {
      for (const it of tok.items as CST.CollectionItem[]) {
        entries++
        visit(it.key, depth + 1)
        visit(it.value, depth + 1)
      }
    }
  }
  for (const t of tokens) visit(t, 0)
  return { aliases, entries }
}

/** Whether `text` is a file ctxsync may write: it parses, within the limits, as one document. */
export function parses(text: string, limits: ParseLimits = DEFAULT_LIMITS): boolean {
  try {
    parseYaml(text, limits)
    return true
  } catch (e) {
    if (e instanceof YamlSyntaxError || e instanceof RefusedFileError) return false
    throw e
  }
}

/** A file beyond the limits every peer checks (crdt/guard.ts) is refused here, not by its peers. */
export function withinLimits(ir: DocIR): DocIR {
  const bad = checkIR(ir)
  if (bad) throw new RefusedFileError(bad)
  return ir
}
