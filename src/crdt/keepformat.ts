/**
 * Library dumps keep the team's formatting (issue 13 item 7). Agents change a file by loading it with a
 * YAML library and dumping it again (PyYAML `safe_load`/`safe_dump`, `yaml.stringify`): one status changed,
 * and every comment wiped, quoting and indentation normalised, keys maybe sorted. Taken in byte for byte
 * (as every other save is), that rewrite would reach every peer. Here such a save is recognised and turned
 * into what the agent meant — its *data* changes applied to the text it was made from (`datamerge.ts`) —
 * so comments and formatting survive and only the changed values' lines change.
 *
 * Recognised as a dump: a save with no comment at all, made from a base that had comments (two or more), or
 * whose lines differ from the base far beyond what its data changes explain (a re-serialisation of a file
 * without comments). Anything else — a person's edit, an agent's precise edit — is not touched, and neither
 * is a dump whose data the merge cannot reproduce exactly (it is checked: the result must parse to the
 * dump's data, else the dump is taken as it is). Pure: no I/O; the space decides whose saves get this.
 */
import { diffArrays } from 'diff'
import { parse } from 'yaml'
import { childrenOf, type DocIR, type Node } from './ir.js'
import { parseYaml } from './parse.js'
import { renderDoc } from './render.js'
import type { Rules } from './rules.js'
import { DataMerge, sameData, type DataChange } from './datamerge.js'

export type { DataChange }

export type KeepFormatResult =
  /** A dump, taken in as its data changes: `text` is what the file should hold. */
  | { kind: 'kept'; text: string; changes: DataChange[] }
  /** Not a dump: take the save as it is. */
  | { kind: 'none' }
  /** Looked like a dump, but its data could not be put into the old text exactly: taken as it is. */
  | { kind: 'failed'; reason: string }

/** Formatting lines a dump must change beyond its data, in a file without comments, to count as one. */
const MIN_REFORMATTED = 3
const REFORMATTED_SHARE = 0.25

export function keepFormat(baseText: string, text: string, rules: Rules): KeepFormatResult {
  if (text === baseText) return { kind: 'none' }
  let base: DocIR
  let next: DocIR
  try {
    base = parseYaml(baseText)
    next = parseYaml(text)
  } catch {
    return { kind: 'none' }
  }
  // Libraries never write comments: a save with one was edited, not dumped.
  if (commentLines(next) > 0 || base.aliases || next.aliases || !base.root) return { kind: 'none' }
  const lostComments = commentLines(base)
  const want = dataOf(text)
  if (want === undefined) return { kind: 'none' }
  const m = new DataMerge(rules, base)
  let merged: string | null = null
  try {
    const ir = m.apply(base, want)
    merged = ir && renderDoc(ir)
  } catch {
    merged = null
  }
  const reformatted = merged === null ? Infinity : changedLines(strip(merged), strip(text))
  const lines = strip(text).length
  const dump = lostComments >= 2 || reformatted >= Math.max(MIN_REFORMATTED, REFORMATTED_SHARE * lines)
  if (!dump) return { kind: 'none' }
  if (merged === null) return { kind: 'failed', reason: 'the data changed shape at the top' }
  if (merged === baseText) return { kind: 'kept', text: merged, changes: [] }
  // The result must be a file we sync and hold exactly the dump's data; otherwise the dump is what we have.
  try {
    parseYaml(merged)
  } catch (e) {
    return { kind: 'failed', reason: `the merged text does not parse (${(e as Error).message})` }
  }
  if (!sameData(dataOf(merged), want)) return { kind: 'failed', reason: 'the merged text does not hold the same data' }
  return { kind: 'kept', text: merged, changes: m.changes }
}

/** What `status` and the daemon's log say about a dump that was taken in as its data changes. */
export function describeKept(name: string, changes: readonly DataChange[]): string {
  const n = changes.length
  const what = n === 0 ? 'no value change' : `${n} value change${n === 1 ? '' : 's'}`
  return `${name}: a whole-file rewrite by a YAML library was taken in as ${what}; comments and formatting kept`
}

function dataOf(text: string): unknown {
  try {
    // Duplicate keys were refused by our parser already; the yaml package's check is quadratic.
    return parse(text, { uniqueKeys: false, maxAliasCount: 100 }) as unknown
  } catch {
    return undefined
  }
}

/** Lines of the file's formatting (heads, separators, trails) holding a comment. */
function commentLines(ir: DocIR): number {
  let n = 0
  const count = (s: string | undefined) => {
    if (s && s.includes('#')) for (const l of s.split('\n')) if (/(^|\s)#/.test(l)) n++
  }
  count(ir.head)
  count(ir.trail)
  const walk = (node: Node | null, depth: number) => {
    if (!node || depth > 300) return
    if (node.t === 'fseq' || node.t === 'fmap') count(node.close)
    if (node.t === 'opaque' && /(^|\s)#/.test(node.raw)) n++
    for (const c of childrenOf(node) ?? []) {
      if ('head' in c) count(c.head)
      if ('pre' in c) count(c.pre)
      if ('post' in c) count(c.post)
      if ('trail' in c) count(c.trail)
      if ('sep' in c) count(c.sep)
      walk(c.value, depth + 1)
    }
  }
  walk(ir.root, 0)
  return n
}

/** The text's lines without blank lines, comment lines and trailing spaces: what a dump reformats. */
function strip(text: string): string[] {
  return text.split('\n').map((l) => l.trimEnd()).filter((l) => l !== '' && !/^\s*#/.test(l))
}

function changedLines(a: string[], b: string[]): number {
  let n = 0
  for (const c of diffArrays(a, b)) if (c.added || c.removed) n += c.count ?? c.value.length
  return Math.ceil(n / 2)
}
