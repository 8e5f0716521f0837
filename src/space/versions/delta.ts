/**
 * How the version store writes one text as a change of the text before it. Three shapes:
 *
 * - `Delta` `[prefix, suffix, middle]`: the lengths kept from the previous text's start and end, and what
 *   replaces the rest. An append's record: one edit of a large file costs a few dozen bytes.
 * - `Hunks` `[[at, del, ins], …]`: several changes far apart, by character offset (older logs' wide deltas).
 * - `LineHunks` `[[gap, del, …], …]`: a compacted log's deltas (compact.ts). A thinned log's versions are
 *   many edits apart (an hourly version spans a dozen saves), so one delta names many places: by line
 *   counts relative to the hunk before (small numbers that repeat with the file's shape, which the
 *   compressor takes almost for free) and, when lines are replaced, only the characters that differ
 *   inside them (`[gap, del, p, cut, mid]`: the removed lines' text with `cut` characters at `p` replaced by
 *   `mid`; `[gap, del, ins]` inserts `ins` whole).
 */
import { diffArrays, diffLines } from 'diff'

export type Delta = [prefix: number, suffix: number, middle: string]
export type Hunks = Array<[at: number, del: number, ins: string]>
export type LineHunk = [gap: number, del: number, ins: string] | [gap: number, del: number, p: number, cut: number, mid: string]

/** Above this many characters between the first and last change, a line diff gives the hunks instead. */
const WIDE_DELTA = 256

export function delta(prev: string, next: string): Delta {
  const max = Math.min(prev.length, next.length)
  let p = 0
  while (p < max && prev.charCodeAt(p) === next.charCodeAt(p)) p++
  let s = 0
  while (s < max - p && prev.charCodeAt(prev.length - 1 - s) === next.charCodeAt(next.length - 1 - s)) s++
  return [p, s, next.slice(p, next.length - s)]
}

export function applyDelta(prev: string, x: Delta | Hunks): string {
  if (!Array.isArray(x[0])) {
    const [p, s, mid] = x as Delta
    return prev.slice(0, p) + mid + prev.slice(prev.length - s)
  }
  let out = ''
  let at = 0
  for (const [pos, del, ins] of x as Hunks) {
    out += prev.slice(at, pos) + ins
    at = pos + del
  }
  return out + prev.slice(at)
}

function hunks(prev: string, next: string): Hunks {
  const out: Hunks = []
  let at = 0
  for (const c of diffLines(prev, next)) {
    const last = out.at(-1)
    if (c.added) {
      if (last && last[0] + last[1] === at) last[2] += c.value
      else out.push([at, 0, c.value])
    } else if (c.removed) {
      if (last && last[0] + last[1] === at) last[1] += c.value.length
      else out.push([at, c.value.length, ''])
      at += c.value.length
    } else at += c.value.length
  }
  return out
}

/** The smaller of a prefix/suffix delta and, when that spans much, a line diff's hunks. */
export function encodeDelta(prev: string, next: string): Delta | Hunks {
  const d = delta(prev, next)
  if (d[2].length <= WIDE_DELTA && prev.length - d[0] - d[1] <= WIDE_DELTA) return d
  const h = hunks(prev, next)
  return JSON.stringify(h).length < JSON.stringify(d).length ? h : d
}

/** A text's lines, each with its '\n' (the last one without, when the text does not end in one). */
export function lines(s: string): string[] {
  const out: string[] = []
  for (let at = 0; at < s.length; ) {
    const i = s.indexOf('\n', at)
    const end = i < 0 ? s.length : i + 1
    out.push(s.slice(at, end))
    at = end
  }
  return out
}

/** `next` as line hunks against `prev`; null when they would not read back exactly (never expected). */
export function lineDelta(prev: string, next: string): LineHunk[] | null {
  const raw: Array<{ gap: number; del: string[]; ins: string[] }> = []
  let cur: (typeof raw)[number] | null = null
  // The lines both keep at the start and end are counted, not diffed (most deltas change a few lines).
  const a = lines(prev)
  const b = lines(next)
  let gap = 0
  while (gap < a.length && gap < b.length && a[gap] === b[gap]) gap++
  let s = 0
  while (s < a.length - gap && s < b.length - gap && a[a.length - 1 - s] === b[b.length - 1 - s]) s++
  for (const c of diffArrays(a.slice(gap, a.length - s), b.slice(gap, b.length - s))) {
    if (!c.added && !c.removed) {
      gap += c.value.length
      cur = null
      continue
    }
    if (!cur) raw.push((cur = { gap, del: [], ins: [] }))
    gap = 0
    ;(c.added ? cur.ins : cur.del).push(...c.value)
  }
  const out = raw.map(({ gap, del, ins }): LineHunk => {
    const d = del.join('')
    const i = ins.join('')
    if (!d || !i) return [gap, del.length, i]
    const [p, s, mid] = delta(d, i)
    return [gap, del.length, p, d.length - p - s, mid]
  })
  return applyLines(prev, out) === next ? out : null
}

export function applyLines(prev: string, hs: LineHunk[]): string {
  const ls = lines(prev)
  let out = ''
  let at = 0
  for (const h of hs) {
    out += ls.slice(at, at + h[0]).join('')
    at += h[0]
    const removed = ls.slice(at, at + h[1]).join('')
    at += h[1]
    out += h.length === 3 ? h[2] : removed.slice(0, h[2]) + h[4] + removed.slice(h[2] + h[3])
  }
  return out + ls.slice(at).join('')
}
