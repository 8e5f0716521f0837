/**
 * Stale-save generator cases about an item's identity (black-box tester, issue 13), run by
 * `stalesave-gen.ts` among its other cases:
 *  - 'readd': B deletes the last item of a list; A, having read the file after the deletion, appends a new
 *    item with a new `id` and the deleted item's other fields. It is a new item: A's text exactly, no
 *    conflict, the deleted item stays deleted (it took the deleted item's node when the save was read as
 *    made from the text before the deletion: matched by its other fields).
 *  - 'same-id': B and A each append an item with one new `id` and other values; A saves from the text
 *    before B's item, which A's file shows already (`written`) or not yet. One item, A's values (the later)
 *    shown, every value of B's it overwrote recorded on both (B's values vanished with no record: the save
 *    was read as an edit of B's item, or its new item landed on B's node unrecorded).
 */
import type { Rng } from '../helpers/random.js'

export interface IdentityCase {
  kind: 'readd' | 'same-id'
  /** readd: the deleted item's id line; same-id: B's values, each to be in a conflict. */
  gone?: string
  values?: string[]
  /** The lines A typed, each to show once. */
  mine: string[]
  /** same-id: A's file shows B's item when A saves (its daemon wrote it). */
  written?: boolean
}

const ID_LINE = /^(\s*)- id: (\S.*)$/
const FIELD = /^(\s*[\w.-]+: )(?![|>[{&*!#]|$)[^#]*$/

/** The last item of a list whose first line is `- id: …`, one of them at random: its line range [i, e). */
function lastIdItem(l: string[], r: Rng): [number, number] | null {
  const found: Array<[number, number]> = []
  for (let i = 0; i < l.length; i++) {
    if (!ID_LINE.test(l[i]!)) continue
    const col = l[i]!.length - l[i]!.trimStart().length
    let e = i + 1
    while (e < l.length && (l[e]!.trim() === '' || l[e]!.length - l[e]!.trimStart().length > col || l[e]!.trimStart().startsWith('#'))) e++
    if (e < l.length && l[e]!.length - l[e]!.trimStart().length === col && /^\s*- /.test(l[e]!)) continue
    while (e > i + 1 && l[e - 1]!.trim() === '') e--
    // Comments around or in the item belong to neighbours or to the item by rules of their own (kept where
    // they were when it goes): cases about identity leave them out.
    // Above it too, past blank lines (seed 348825: `# Parked until Q1`, a blank line, then the item: the
    // deletion kept the comment, the new item was typed under it, and it showed twice).
    let h = i
    while (h > 0 && (l[h - 1]!.trim() === '' || l[h - 1]!.trimStart().startsWith('#'))) h--
    if (e > i + 1 && !l.slice(h, e).some((x) => x.includes('#'))) found.push([i, e])
  }
  return found.length ? found[Math.floor(r() * found.length)]! : null
}

export function identityCase(r1: string, r: Rng, kind: IdentityCase['kind']): { a: string; b: string; check: IdentityCase } | null {
  const l = r1.split('\n')
  const at = lastIdItem(l, r)
  if (!at) return null
  const [i, e] = at
  const n = Math.floor(r() * 100_000)
  const idLine = l[i]!.replace(ID_LINE, `$1- id: NEW-${n}`)
  if (kind === 'readd') {
    // B deletes it with the blank lines before it; A appends its new item right after the last one left.
    let s = i
    while (s > 0 && l[s - 1]!.trim() === '') s--
    const b = [...l.slice(0, s), ...l.slice(e)].join('\n')
    const a = [...l.slice(0, s), idLine, ...l.slice(i + 1)].join('\n')
    return { a, b, check: { kind, gone: l[i]!, mine: [idLine] } }
  }
  // Two items written apart: the item's one-line fields (its nested parts would be copied alike on both,
  // which two people never write), each with a value of its own; a third and later field alike on both.
  const fields = l.slice(i + 1, e).filter((x) => FIELD.test(x) && x.length - x.trimStart().length === l[i + 1]!.length - l[i + 1]!.trimStart().length)
  if (!fields.length) return null
  const copy = (tag: string) => [idLine, ...fields.map((x, k) => (k >= 2 && k === fields.length - 1 ? x : x.replace(FIELD, `$1${tag}-${n}-${k}`)))]
  const [cb, ca] = [copy('b'), copy('a')]
  const b = [...l.slice(0, e), ...cb, ...l.slice(e)].join('\n')
  const a = [...l.slice(0, e), ...ca, ...l.slice(e)].join('\n')
  const own = fields.map((_, k) => k).filter((k) => !(k >= 2 && k === fields.length - 1))
  return { a, b, check: { kind, values: own.map((k) => `b-${n}-${k}`), mine: own.map((k) => ca[k + 1]!), written: r() < 0.5 } }
}

/** What is wrong with the merged text `ta` (both peers converged on it), or null. */
export function identityFailure(c: IdentityCase, a: string, ta: string | null, conflicts: Array<Array<{ raw: string }>>): string | null {
  const lines = ta?.split('\n') ?? []
  if (c.kind === 'readd') {
    if (ta !== a) return lines.includes(c.gone!) ? 'readd: the deleted item came back' : 'readd: the new item not as typed'
    if (conflicts.some((cs) => cs.length)) return 'readd: a conflict nobody had'
    return null
  }
  if (c.mine.some((m) => lines.filter((x) => x === m).length !== 1)) return 'same id: my values not shown once'
  const listed = (cs: Array<{ raw: string }>, v: string) => cs.some((x) => x.raw.includes(v))
  if (c.values!.some((v) => conflicts.some((cs) => !listed(cs, v)))) return "same id: the peer's value overwritten with no record"
  return null
}
