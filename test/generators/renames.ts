/**
 * A seeded generator of the rename race (issue 13 item 5): in a real file, one peer renames a mapping key
 * while the other changes that key's value — a plain or quoted scalar, a block scalar, a nested mapping or
 * a list. Both edits are made on lines, as an editor makes them, and touch different lines (or, for a
 * one-line scalar, different parts of the same line), so the text holding both is known exactly: that is
 * what every peer must end with, unless the model records a conflict (then nothing was silently lost).
 */
import type { Rng } from '../helpers/random.js'

export type ValueKind = 'scalar' | 'block' | 'map' | 'list' | 'flow'

export interface RenameRace {
  kind: ValueKind
  /** The key renamed, and its new name. */
  key: string
  renamed: string
  /** The text before, with only the rename, only the value change, and with both. */
  text: string
  rename: string
  change: string
  both: string
  /** The key's lines in `change` (the changed value under the old name). */
  changedBlock: string
}

const pick = <T>(a: readonly T[], r: Rng): T => a[Math.floor(r() * a.length)]!
const indentOf = (s: string) => s.match(/^\s*/)![0].length
const keyCol = (s: string) => indentOf(s) + (/^\s*- /.test(s) ? 2 : 0)

/** A mapping key at the start of a line (after `- ` for the first key of a list item). */
const KEY = /^(\s*(?:- )?)([A-Za-z_][\w.-]*)(:)(\s|$)/
const SCALAR_VALUE = /^(\s*(?:- )?[A-Za-z_][\w.-]*: )((?![|>[{&*!#])[^#]*?)(\s+#.*)?$/
const BLOCK_HEADER = /^\s*(?:- )?[A-Za-z_][\w.-]*: [|>][-+]?\d?\s*(#.*)?$/
const FLOW = /^(\s*(?:- )?[A-Za-z_][\w.-]*: \[)(.*)(\]\s*)$/
const NAMES = ['_renamed', '_v2', '_old', 'Name', '2']
const WORDS = ['changed', 'edited later', 'v3', 'café']

/** The index after the block under line `i` (lines deeper than its key, and blank lines inside it). */
function blockEnd(l: string[], i: number): number {
  const col = keyCol(l[i]!)
  let j = i + 1
  while (j < l.length && (l[j]!.trim() === '' || indentOf(l[j]!) > col || (/^\s*- /.test(l[j]!) && indentOf(l[j]!) === col && !/^\s*- /.test(l[i]!)))) j++
  while (j > i + 1 && l[j - 1]!.trim() === '') j--
  return j
}

/** The value change of the entry on line `i`, or null when this generator does not know how to make it. */
function changeValue(l: string[], i: number, r: Rng): { kind: ValueKind; lines: string[] } | null {
  const line = l[i]!
  const end = blockEnd(l, i)
  const w = pick(WORDS, r)
  const flow = line.match(FLOW)
  if (flow) {
    const c = [...l]
    c[i] = `${flow[1]}${flow[2]!.trim() ? `${flow[2]}, ${w}` : w}${flow[3]}`
    return { kind: 'flow', lines: c }
  }
  if (BLOCK_HEADER.test(line)) {
    if (end === i + 1) return null
    const at = i + 1 + Math.floor(r() * (end - i - 1)) + 1
    return { kind: 'block', lines: [...l.slice(0, at), `${l[i + 1]!.match(/^\s*/)![0]}${w} added`, ...l.slice(at)] }
  }
  const m = line.match(SCALAR_VALUE)
  if (m && m[2]!.trim() !== '' && end === i + 1) {
    const v = m[2]!
    const nv = /^".*"$/.test(v) ? v.replace(/"$/, ` ${w}"`) : /^'.*'$/.test(v) ? v.replace(/'$/, ` ${w}'`) : JSON.stringify(`${v} ${w}`)
    const c = [...l]
    c[i] = `${m[1]}${nv}${m[3] ?? ''}`
    return { kind: 'scalar', lines: c }
  }
  if (!/:\s*(#.*)?$/.test(line) || end === i + 1) return null
  // A nested collection: edit a one-line scalar inside it, or add an item/field at its end.
  const first = l.slice(i + 1, end).find((x) => x.trim() !== '' && !x.trim().startsWith('#'))
  if (!first) return null
  const isList = /^\s*- /.test(first)
  const inner = []
  for (let k = i + 1; k < end; k++) if (SCALAR_VALUE.test(l[k]!) && blockEnd(l, k) === k + 1) inner.push(k)
  if (inner.length && r() < 0.5) {
    const k = pick(inner, r)
    const mm = l[k]!.match(SCALAR_VALUE)!
    if (mm[2]!.trim() === '') return null
    const c = [...l]
    c[k] = `${mm[1]}${JSON.stringify(`${mm[2]!.replace(/^["']|["']$/g, '')} ${w}`)}${mm[3] ?? ''}`
    return { kind: isList ? 'list' : 'map', lines: c }
  }
  const pad = ' '.repeat(indentOf(first))
  const col = indentOf(first)
  const entries = []
  for (let k = i + 1; k < end; k++) if (indentOf(l[k]!) === col && l[k]!.trim() !== '' && !l[k]!.trim().startsWith('#')) entries.push(k)
  if (entries.length > 1 && r() < 0.4) {
    // Delete one item or field of several (its block with it).
    const k = pick(entries, r)
    let e = k + 1
    while (e < end && (l[e]!.trim() === '' || indentOf(l[e]!) > col || (!isList && /^\s*- /.test(l[e]!) && indentOf(l[e]!) === col))) e++
    return { kind: isList ? 'list' : 'map', lines: [...l.slice(0, k), ...l.slice(e)] }
  }
  const add = isList ? `${pad}- ${w} item` : `${pad}added_${Math.floor(r() * 100)}: ${w}`
  return { kind: isList ? 'list' : 'map', lines: [...l.slice(0, end), add, ...l.slice(end)] }
}

/** One rename race on `text`, or null when the picked line offers none. */
export function renameRace(text: string, r: Rng, kinds?: readonly ValueKind[]): RenameRace | null {
  const l = text.split('\n')
  const keys = l.map((x, i) => (KEY.test(x) ? i : -1)).filter((i) => i >= 0)
  if (!keys.length) return null
  const i = pick(keys, r)
  const ch = changeValue(l, i, r)
  if (!ch || (kinds && !kinds.includes(ch.kind))) return null
  const m = l[i]!.match(KEY)!
  const renamed = m[2]! + pick(NAMES, r)
  const siblings = new Set(l.filter((x) => keyCol(x) === keyCol(l[i]!)).map((x) => x.match(KEY)?.[2]))
  if (siblings.has(renamed)) return null
  const ren = (s: string) => s.replace(KEY, `$1${renamed}$3$4`)
  const rename = [...l]
  rename[i] = ren(l[i]!)
  const both = [...ch.lines]
  both[i] = ren(ch.lines[i]!)
  const changedBlock = ch.lines.slice(i, blockEnd(ch.lines, i)).join('\n')
  return { kind: ch.kind, text, key: m[2]!, renamed, rename: rename.join('\n'), change: ch.lines.join('\n'), both: both.join('\n'), changedBlock }
}
