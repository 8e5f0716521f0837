/**
 * Which data is which, for `datamerge.ts`: equality of YAML data (mapping key order does not count), and
 * which old list item each item of a library dump's list is — by identity key, then equal data, then
 * position between matched neighbours — so an edited item keeps its text and comments, and a removed one
 * does not shift its neighbours' values onto each other. Like `match.ts`, but on loaded data: a dump's
 * formatting says nothing about which item is which.
 */

export type Obj = Record<string, unknown>
export const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v)

/** Deep equality of YAML data, ignoring mapping key order. */
export function sameData(a: unknown, b: unknown): boolean {
  if (a === b) return true
  if (typeof a === 'number' && typeof b === 'number') return Number.isNaN(a) && Number.isNaN(b)
  if (Array.isArray(a)) return Array.isArray(b) && a.length === b.length && a.every((x, i) => sameData(x, b[i]))
  if (isObj(a) && isObj(b)) {
    const ka = Object.keys(a)
    return ka.length === Object.keys(b).length && ka.every((k) => Object.hasOwn(b, k) && sameData(a[k], b[k]))
  }
  return false
}

/**
 * Which old item each wanted item is (index into `have`, or undefined for a new one): the same identity
 * value, then equal data, then — between neighbours already matched — the old items left, in order, when
 * they are of the same shape (an edited item).
 */
export function matchData(have: unknown[], want: unknown[], identity: readonly string[]): Array<number | undefined> {
  const pairs: Array<number | undefined> = new Array(want.length)
  const used = new Set<number>()
  const idOf = (v: unknown) => {
    if (!isObj(v)) return undefined
    for (const k of identity) {
      const x = v[k]
      if (x !== undefined && x !== null && typeof x !== 'object') return `${k}\u0000${String(x)}`
    }
    return undefined
  }
  const byId = new Map<string, number>()
  have.forEach((v, i) => {
    const id = idOf(v)
    if (id !== undefined && !byId.has(id)) byId.set(id, i)
  })
  want.forEach((w, j) => {
    const id = idOf(w)
    const i = id === undefined ? undefined : byId.get(id)
    if (i !== undefined && !used.has(i)) {
      pairs[j] = i
      used.add(i)
    }
  })
  // Equal data, preferring the old item nearest after the last one matched (keeps order where it was).
  let cursor = 0
  want.forEach((w, j) => {
    if (pairs[j] !== undefined) return void (cursor = pairs[j]! + 1)
    let found = -1
    for (let k = 0; k < have.length && found < 0; k++) {
      const i = (cursor + k) % have.length
      if (!used.has(i) && idOf(have[i]) === idOf(w) && sameData(have[i], w)) found = i
    }
    if (found >= 0) {
      pairs[j] = found
      cursor = found + 1
      used.add(found)
    }
  })
  // Gaps: an unmatched wanted item takes the first unmatched old item after the previous match, before the next.
  want.forEach((w, j) => {
    if (pairs[j] !== undefined) return
    let lo = -1
    for (let k = j - 1; k >= 0; k--) if (pairs[k] !== undefined) { lo = pairs[k]!; break }
    let hi = have.length
    for (let k = j + 1; k < want.length; k++) if (pairs[k] !== undefined) { hi = pairs[k]!; break }
    for (let i = lo + 1; i < hi; i++) {
      if (used.has(i) || isObj(have[i]) !== isObj(w) || Array.isArray(have[i]) !== Array.isArray(w)) continue
      // An item whose identity changed is the same item only if most of its other fields stayed.
      if (idOf(have[i]) !== undefined && idOf(w) !== undefined && !similar(have[i] as Obj, w as Obj, identity)) continue
      pairs[j] = i
      used.add(i)
      break
    }
  })
  return pairs
}

function similar(a: Obj, b: Obj, identity: readonly string[]): boolean {
  const keys = new Set([...Object.keys(a), ...Object.keys(b)].filter((k) => !identity.includes(k)))
  let same = 0
  for (const k of keys) if (Object.hasOwn(a, k) && Object.hasOwn(b, k) && sameData(a[k], b[k])) same++
  return keys.size > 0 && same * 2 >= keys.size
}
