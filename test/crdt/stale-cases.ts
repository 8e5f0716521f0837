/**
 * The stale-save generator's hand-made cases (`stalesave-gen.ts`): both sides change one value, a stale save
 * moves the item a peer edited, both append an item at the end of a list.
 */
import type { Rng } from '../helpers/random.js'

export const SCALAR = /^(\s*(?:- )?[\w.-]+: )(?![|>[{&*!#]|$)[^#]*$/

/**
 * Both sides change the same one-line value: B to one word, A to another. Half the time B also adds a line
 * elsewhere (a peer rarely changes one value alone): that line is what tells a stale save from a fresh edit
 * of B's value. Without it the two are the same bytes from different histories, and the save is taken as a
 * fresh edit — its value shown, no record (recent.ts: ties go to the newest text).
 */
export function sameValue(text: string, r: Rng): { b: string; a: string; line: string; evidence: boolean } | null {
  const lines = text.split('\n')
  // Not an item's `id`: changing it makes another item (identity), not another value of the same one.
  const idx = lines.map((l, i) => (SCALAR.test(l) && !/^\s*(- )?id:/.test(l) ? i : -1)).filter((i) => i >= 0)
  if (!idx.length) return null
  const i = idx[Math.floor(r() * idx.length)]!
  const head = lines[i]!.match(SCALAR)![1]!
  const old = lines[i]!.slice(head.length).trim()
  const n = Math.floor(r() * 1000)
  const b = [...lines]
  b[i] = `${head}peer value ${n}`
  const evidence = r() < 0.5
  if (evidence) b.splice(b[b.length - 1] === '' ? b.length - 1 : b.length, 0, `# a peer's note ${n}`)
  // A edits the value its buffer shows, as a person does (B's value it never saw).
  const a = [...lines]
  a[i] = /^["']/.test(old) ? `${head}${old.slice(0, -1)} mine ${n}${old.slice(-1)}` : `${head}${JSON.stringify(`${old} mine ${n}`)}`
  return { b: b.join('\n'), a: a.join('\n'), line: a[i]!, evidence }
}


/**
 * The tie (black-box tester, stop 30, finding 3): B changes the value A will edit and saves, then changes
 * another value and saves again; A's buffer still shows the text before both and changes that value. By
 * lines the save is as near the text before B's first save as the one after it: read as made from the
 * newer, as if A had seen B's value, it was overwritten with no record. B's first save is `bs`. `more`: B's
 * further saves, each of another value (the same few again and again): past MAX_RECENT the text before B's
 * first save is an older text (`recentolder.ts`), where the tie went to the newer too (black-box tester
 * stop 31, finding 6: 8 writes or more).
 */
export function tieValue(text: string, r: Rng, more = 1): { bs: string[]; b: string; a: string; line: string } | null {
  const sv = sameValue(text, r)
  if (!sv) return null
  const b1 = sv.b.split('\n')
  const a = sv.a.split('\n')
  const i = a.findIndex((l, k) => l !== b1[k])
  // B's other changes: other values, two lines or more from A's (a neighbour would make it one hunk).
  const idx = b1.map((l, k) => (Math.abs(k - i) > 1 && SCALAR.test(l) && !/^\s*(- )?id:/.test(l) ? k : -1)).filter((k) => k >= 0)
  if (i < 0 || !idx.length) return null
  const few = [0, 1, 2].map(() => idx[Math.floor(r() * idx.length)]!)
  const bs = [sv.b]
  let cur = b1
  for (let k = 0; k < more; k++) {
    const j = few[k % few.length]!
    cur = [...cur]
    cur[j] = `${b1[j]!.match(SCALAR)![1]!}peer value ${Math.floor(r() * 1000)} again ${k}`
    bs.push(cur.join('\n'))
  }
  const b = bs.pop()!
  return { bs, b, a: sv.a, line: sv.line }
}

/**
 * B changes one value of an item; A's stale save moves that item (its block, unchanged) before the first item
 * of its list. Both must hold: the item where A put it, with B's value (black-box tester, issue 13: the
 * save was read as made from the newer text, and the peer's new title went back to the old one on every
 * peer, with no record).
 */
export function moveEdited(r1: string, r: Rng): { a: string; b: string; moved: { mine: string; theirs: string } } | null {
  const l = r1.split('\n')
  const col = (x: string) => x.length - x.trimStart().length
  const heads = l.map((x, i) => (/^\s*- [\w-]+: \S/.test(x) ? i : -1)).filter((i) => i >= 0)
  // Items after the first of their list: [head, end) blocks with a scalar line inside to change.
  const blocks: Array<[number, number, number]> = []
  for (const i of heads) {
    const c = col(l[i]!)
    // The first item of the list (nothing at a lower column, nor a key at this one, between).
    let first = i
    for (let k = i - 1; k >= 0; k--) {
      const x = l[k]!
      if (x.trim() === '' || col(x) > c) continue
      if (col(x) < c || !/^\s*- /.test(x)) break
      first = k
    }
    if (first === i) continue
    // Two items with the same first line (`- id: T-104` twice): moving one past the other reads as well as
    // moving the lines that differ between them, a comment, the other way (seed 3 at 8,431: not a loss).
    if (l.filter((x) => x === l[i]).length > 1) continue
    let e = i + 1
    while (e < l.length && l[e]!.trim() !== '' && col(l[e]!) > c && !l[e]!.trimStart().startsWith('#')) e++
    // The item ends there: the next line that is not blank is the list's next item or beyond it (not a comment).
    const next = l.slice(e).find((x) => x.trim() !== '')
    if (next !== undefined && (col(next) > c || next.trimStart().startsWith('#'))) continue
    const inner = l.slice(i + 1, e).map((x, k) => (SCALAR.test(x) && !/^\s*(- )?id:/.test(x) && col(x) === c + 2 ? i + 1 + k : -1)).filter((k) => k >= 0)
    if (!inner.length) continue
    blocks.push([first, i, e])
  }
  if (!blocks.length) return null
  const [first, i, e] = blocks[Math.floor(r() * blocks.length)]!
  const inner = l.slice(i + 1, e).map((x, k) => (SCALAR.test(x) && !/^\s*(- )?id:/.test(x) ? i + 1 + k : -1)).filter((k) => k >= 0)
  const at = inner[Math.floor(r() * inner.length)]!
  const head = l[at]!.match(SCALAR)![1]!
  const theirs = `${head}peer value ${Math.floor(r() * 1000)}`
  const b = [...l]
  b[at] = theirs
  const a = [...l.slice(0, first), ...l.slice(i, e), ...l.slice(first, i), ...l.slice(e)]
  return { a: a.join('\n'), b: b.join('\n'), moved: { mine: l[at]!, theirs } }
}

/** Both peers append a copy of the last item of a list, with a new first value each. */
export function bothAppend(r1: string, r: Rng): { a: string; b: string; lines: [string, string] } | null {
  const l = r1.split('\n')
  const items = l.map((x, i) => (/^\s*- [\w-]+: \S/.test(x) ? i : -1)).filter((i) => i >= 0)
  if (!items.length) return null
  const i = items[Math.floor(r() * items.length)]!
  const col = l[i]!.length - l[i]!.trimStart().length
  let e = i + 1
  while (e < l.length && (l[e]!.trim() === '' || l[e]!.length - l[e]!.trimStart().length > col || l[e]!.trimStart().startsWith('#'))) e++
  // Only the last item of its list (nothing after it at its indentation): both append at the same place.
  if (e < l.length && l[e]!.length - l[e]!.trimStart().length === col && /^\s*- /.test(l[e]!)) return null
  while (e > i + 1 && l[e - 1]!.trim() === '') e--
  const copy = (tag: string) => {
    const n = Math.floor(r() * 100_000)
    const first = l[i]!.replace(/: [^\r]*/, `: NEW-${tag}-${n}`)
    return { first, text: [...l.slice(0, e), first, ...l.slice(i + 1, e), ...l.slice(e)].join('\n') }
  }
  const [b, a] = [copy('B'), copy('A')]
  return { a: a.text, b: b.text, lines: [b.first, a.first] }
}

