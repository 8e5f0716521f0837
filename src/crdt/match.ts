/**
 * Matching children of two versions of one node: which child of the new text is which child of the base.
 * The Differ (`diff.ts`) and the annotation of a base (`annotate.ts`) both need it, and it decides whether
 * an edit becomes a field write or a delete + insert. Children match by key (maps), by identity value
 * (lists of mappings with `id`), as set elements (what they are), by content (a longest common
 * subsequence) and finally by position within the gaps between matched neighbours (an edited item).
 * Pure functions over the IR; nothing here writes.
 */
import { diffArrays } from 'diff'
import type { Child, Line, Node } from './ir.js'
import { renderNodeText } from './render.js'
import { identityOfIR, setElement, type Rules } from './rules.js'

/**
 * Identity, then equal content, then position inside the remaining gaps. Returns next index → base index.
 * `live(i)`: whether base item `i` is still in the model (the Differ knows; without it, all are).
 */
export function matchItems(bk: Child[], nk: Child[], rules: Rules, path: readonly string[], live?: (i: number) => boolean, elsewhere?: (identity: string) => boolean): Array<number | undefined> {
  const pairs: Array<number | undefined> = new Array(nk.length)
  const usedB = new Set<number>()
  // The very same object: an entry an incremental parse shared with the base because the edit did not
  // touch it. It is that item, whatever its twins look like: matched by content, an item duplicated and
  // then edited would trade places with its twin (the generator's rename inside one of two equal items).
  const at = new Map<Child, number>()
  bk.forEach((c, i) => at.set(c, i))
  nk.forEach((c, j) => {
    const i = at.get(c)
    if (i !== undefined && !usedB.has(i)) {
      pairs[j] = i
      usedB.add(i)
    }
  })
  const bIdent = bk.map((c) => identityOfIR(c.value, rules, path))
  const nIdent = nk.map((c) => identityOfIR(c.value, rules, path))
  const byIdent = new Map<string, number>()
  bIdent.forEach((v, i) => v !== undefined && !usedB.has(i) && !byIdent.has(v) && byIdent.set(v, i))
  nIdent.forEach((v, j) => {
    if (pairs[j] !== undefined) return
    const i = v === undefined ? undefined : byIdent.get(v)
    if (i !== undefined && !usedB.has(i)) {
      pairs[j] = i
      usedB.add(i)
    }
  })
  const freeB = bk.map((_, i) => i).filter((i) => !usedB.has(i))
  const freeN = nk.map((_, j) => j).filter((j) => pairs[j] === undefined)
  // Without the line ending: the last item of a list rendered from the model holds its final newline
  // elsewhere than the same item parsed from a file, and the two did not match (stale-save seed 723611).
  const fp = (c: Child) => renderNodeText(c.value, 0, 0).trimEnd()
  const [fpB, fpN] = [freeB.map((i) => fp(bk[i]!)), freeN.map((j) => fp(nk[j]!))]
  slideTwins(lcsPairs(fpB, fpN), fpB).forEach(([a, b]) => {
    pairs[freeN[b]!] = freeB[a]!
    usedB.add(freeB[a]!)
  })
  // An item moved unchanged, where no identity names it (workflow steps): the common subsequence keeps the
  // order, so it left it out, and it was read as deleted and typed anew — a peer's edit of it revived the old
  // one, and the list showed it twice (stale-save generator seeds 3 and 348825, 'move of an edited item').
  // Paired when its text is found once among the items left on each side.
  const once = (fps: string[], free: number[], used: (k: number) => boolean) => {
    const n = new Map<string, number>()
    fps.forEach((f, k) => !used(free[k]!) && n.set(f, (n.get(f) ?? 0) + 1))
    return n
  }
  const [onceB, onceN] = [once(fpB, freeB, (i) => usedB.has(i)), once(fpN, freeN, (j) => pairs[j] !== undefined)]
  fpN.forEach((f, b) => {
    const a = fpB.indexOf(f)
    if (pairs[freeN[b]!] !== undefined || a < 0 || usedB.has(freeB[a]!) || onceB.get(f) !== 1 || onceN.get(f) !== 1) return
    if (bIdent[freeB[a]!] !== undefined || nIdent[freeN[b]!] !== undefined) return
    pairs[freeN[b]!] = freeB[a]!
    usedB.add(freeB[a]!)
  })
  pairGaps(pairs, bk.length, usedB, (i, j) => {
    const bi = bIdent[i]
    const ni = nIdent[j]
    // An item whose identity changed is the same item only if most of its other fields stayed, and only if
    // it still exists: a new item beside where a peer just deleted one with the same title is a new item
    // (black-box tester: an agent's append took the deleted todo's node, its id changed and a made-up
    // delete conflict appeared, when the save was read as made from the text before the deletion).
    // Nor is it when the model holds a live item under the new identity that the base did not show (a peer
    // added it, the file had not shown it yet): the new item is that one, merged by identity (converge seed
    // 1299: a held file's t10 deleted and t1 added was read as t10 renamed, and the list held t1 twice).
    return (bi === undefined) === (ni === undefined) && (bi === undefined || (similar(bk[i]!.value, nk[j]!.value) && (live?.(i) ?? true) && !(bi !== ni && ni !== undefined && elsewhere?.(ni))))
  })
  return pairs
}

/**
 * A set element's key: the element, and for a repeated one its occurrence (`a`, `a#2`). Files may repeat
 * a tag; the repeat is kept exactly like any other byte, and stays distinct from the first.
 */
export function setKeys(children: Child[]): Array<string | undefined> {
  const seen = new Map<string, number>()
  return children.map((c) => {
    const el = setElement(c.value)
    if (el === undefined) return undefined
    const n = (seen.get(el) ?? 0) + 1
    seen.set(el, n)
    return n === 1 ? el : `${el}\u0000${n}`
  })
}

/** Set elements match by what they are, wherever they moved. */
export function matchSet(bk: Child[], nk: Child[]): Array<number | undefined> {
  const idx = new Map<string, number>()
  setKeys(bk).forEach((k, i) => k !== undefined && idx.set(k, i))
  return setKeys(nk).map((k) => (k === undefined ? undefined : idx.get(k)))
}

/** Lines: equal text first, then position inside the gaps (an edited line). */
export function matchLines(base: Line[], next: Line[]): Array<number | undefined> {
  const pairs: Array<number | undefined> = new Array(next.length)
  const used = new Set<number>()
  lcsPairs(base.map((l) => l.text), next.map((l) => l.text)).forEach(([a, b]) => {
    pairs[b] = a
    used.add(a)
  })
  pairGaps(pairs, base.length, used, () => true)
  return pairs
}

export function matchByKey(bk: Child[], nk: Child[]): Array<number | undefined> {
  const idx = new Map<string, number>()
  bk.forEach((c, i) => idx.set((c as { key: string }).key, i))
  return nk.map((c) => idx.get((c as { key: string }).key))
}

/** Longest common subsequence of two string arrays as index pairs. */
function lcsPairs(a: string[], b: string[]): Array<[number, number]> {
  if (a.length === 0 || b.length === 0) return []
  const out: Array<[number, number]> = []
  let i = 0
  let j = 0
  for (const part of diffArrays(a, b)) {
    const n = part.count ?? part.value.length
    if (part.added) j += n
    else if (part.removed) i += n
    else for (let k = 0; k < n; k++) out.push([i++, j++])
  }
  return out
}

/**
 * Of two equal neighbours (twins), the common subsequence may pair an unchanged item with the wrong one:
 * [X, X] → [X', X] came back as X (first) = X (second), so the edited X' had no partner left in its gap and
 * became a new item while the second X was deleted. A peer's edit of that twin was then shown on the other
 * one, and a value both changed had no record (stale-save generator seeds 723611, 961458). A pair whose
 * new item has more unpaired items before it than its base item (b - a > 0) moves onto an equal free twin
 * to its right, and the other way round, so the edited item is paired in place (`pairGaps`). Equal texts:
 * which twin stays is otherwise undecidable, and in place is what the person sees. Mutates and returns `m`.
 */
export function slideTwins(m: Array<[number, number]>, a: readonly string[]): Array<[number, number]> {
  for (let k = m.length - 1; k >= 0; k--) {
    const next = k + 1 < m.length ? m[k + 1]![0] : a.length
    const p = m[k]!
    while (p[1] > p[0] && p[0] + 1 < next && a[p[0] + 1] === a[p[0]]) p[0]++
  }
  for (let k = 0; k < m.length; k++) {
    const prev = k > 0 ? m[k - 1]![0] : -1
    const p = m[k]!
    while (p[1] < p[0] && p[0] - 1 > prev && a[p[0] - 1] === a[p[0]]) p[0]--
  }
  return m
}

/**
 * Pairs unmatched items that sit in the same gap between matched neighbours, in order: an edited item.
 * Neighbours are taken in the new order; their base positions bound the gap.
 */
function pairGaps(
  pairs: Array<number | undefined>,
  baseLen: number,
  used: Set<number>,
  ok: (i: number, j: number) => boolean,
): void {
  let j = 0
  while (j < pairs.length) {
    if (pairs[j] !== undefined) {
      j++
      continue
    }
    const start = j
    while (j < pairs.length && pairs[j] === undefined) j++
    const lo = start > 0 ? pairs[start - 1]! : -1
    const hi = j < pairs.length ? pairs[j]! : baseLen
    if (hi <= lo) continue
    const free: number[] = []
    for (let i = lo + 1; i < hi; i++) if (!used.has(i)) free.push(i)
    let f = 0
    for (let k = start; k < j && f < free.length; k++) {
      if (ok(free[f]!, k)) {
        pairs[k] = free[f]!
        used.add(free[f]!)
        f++
      }
    }
  }
}

/** Indices of a longest strictly increasing subsequence of the defined keys. */
export function increasingRun<T extends string | number>(keys: Array<T | undefined>): Set<number> {
  const tails: number[] = []
  const prev: number[] = new Array(keys.length).fill(-1)
  for (let j = 0; j < keys.length; j++) {
    const k = keys[j]
    if (k === undefined) continue
    let lo = 0
    let hi = tails.length
    while (lo < hi) {
      const mid = (lo + hi) >> 1
      if (keys[tails[mid]!]! < k) lo = mid + 1
      else hi = mid
    }
    if (lo > 0) prev[j] = tails[lo - 1]!
    tails[lo] = j
  }
  const out = new Set<number>()
  let cur = tails.length ? tails[tails.length - 1]! : -1
  while (cur >= 0) {
    out.add(cur)
    cur = prev[cur]!
  }
  return out
}

/** Share of entries (other than identity) two mappings have in common, compared as text. */
function similar(a: Node, b: Node): boolean {
  const ea = a.t === 'map' || a.t === 'fmap' ? a.entries : []
  const eb = b.t === 'map' || b.t === 'fmap' ? b.entries : []
  if (ea.length === 0 || eb.length === 0) return false
  const text = (e: { key: string; value: Node }) => e.key + '\u0000' + renderNodeText(e.value, 0, 0).trimEnd()
  const texts = new Set(ea.map(text))
  let same = 0
  for (const e of eb) if (texts.has(text(e))) same++
  return same * 2 >= Math.max(ea.length, eb.length)
}
