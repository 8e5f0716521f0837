/**
 * The texts a file held before the recent ring (`recent.ts`), for a save made from a buffer read before more
 * than MAX_RECENT rewrites (black-box tester finding 3, issue 13). Diffed against the ring's oldest text, such
 * a save read as undoing everything peers did between, and their work vanished on every peer.
 *
 * The ring keeps each text with its annotated IR (several times the text's size), so it stays small; these
 * keep text only, each as a delta against the text after it (one save's change is a few dozen bytes), so a
 * file's last MAX_OLDER versions cost little more than the file. A text is rebuilt, and parsed and given
 * node ids (by matching against the newest rendering, as a joining clone's committed text is), only when the
 * ring holds no good match for a save (`RecentTexts.baseFor`).
 */

export const MAX_OLDER = 200
/** Delta characters kept beyond the file's own size (a peer rewriting the whole file each time keeps fewer). */
const OLDER_SLACK = 64 * 1024

/** A part of `T` that differs from the one after it: `x = next.slice(0, pre) + mid + next.slice(next.length - suf)`. */
interface Delta<T extends string | string[]> {
  pre: number
  suf: number
  mid: T
}

function delta<T extends string | string[]>(x: T, next: T): Delta<T> {
  let pre = 0
  const max = Math.min(x.length, next.length)
  while (pre < max && x[pre] === next[pre]) pre++
  let suf = 0
  while (suf < max - pre && x[x.length - 1 - suf] === next[next.length - 1 - suf]) suf++
  return { pre, suf, mid: x.slice(pre, x.length - suf) as T }
}

const undelta = <T extends string | string[]>(d: Delta<T>, next: T): T =>
  (typeof next === 'string' ? next.slice(0, d.pre) + (d.mid as string) + next.slice(next.length - d.suf) : [...next.slice(0, d.pre), ...d.mid, ...next.slice(next.length - d.suf)]) as T

/**
 * An older text and its node ids (the ids of its IR, in document order, as meta keeps them: `restored`), each
 * a delta against the text after it: a rebuilt text diffed against the save gets the very ids it showed, so
 * a value or item deleted since is known for the tombstone it is (matched against the newest rendering
 * instead, a field a peer deleted since came back twice: stale-deep generator).
 */
interface Older {
  text: Delta<string>
  ids: Delta<string[]>
  ours: boolean
  sv?: Map<number, number>
  used?: boolean
}

export interface OlderText {
  text: string
  ids: string[]
  ours: boolean
  /** One of the texts after it (before the ring) was ours: peers' changes came in after it. */
  oursAfter: boolean
  sv?: Map<number, number>
  used: boolean
  /** A stale save was diffed against it (a text serves once, as in the ring). */
  use(): void
}

export class OlderTexts {
  /** Newest first: the first is a delta against the ring's oldest text. */
  #list: Older[] = []
  #chars = 0

  get size(): number {
    return this.#list.length
  }

  clear(): void {
    this.#list = []
    this.#chars = 0
  }

  /** `h` left the ring; `next` is the text after it (the ring's oldest now); `ids` theirs (`collectIds`). */
  add(h: { text: string; ours: boolean; sv?: Map<number, number>; used?: boolean }, ids: string[], next: { text: string; ids: string[] }, fileSize: number): void {
    const o: Older = { text: delta(h.text, next.text), ids: delta(ids, next.ids), ours: h.ours, ...(h.sv ? { sv: h.sv } : {}), ...(h.used ? { used: true } : {}) }
    this.#list.unshift(o)
    this.#chars += o.text.mid.length + o.ids.mid.length * 16
    while (this.#list.length > MAX_OLDER || (this.#list.length > 1 && this.#chars > fileSize + OLDER_SLACK)) {
      const x = this.#list.pop()!
      this.#chars -= x.text.mid.length + x.ids.mid.length * 16
    }
  }

  /** None serves as a stale base any more (`RecentTexts.push`). */
  useAll(): void {
    for (const o of this.#list) o.used = true
  }

  /** The texts, newest first, rebuilt from `oldest` (the ring's oldest text and ids). */
  *texts(oldest: { text: string; ids: string[] }): Generator<OlderText> {
    let next = oldest
    let oursAfter = false
    for (const o of this.#list) {
      const cur = { text: undelta(o.text, next.text), ids: undelta(o.ids, next.ids) }
      yield { ...cur, ours: o.ours, oursAfter, ...(o.sv ? { sv: o.sv } : {}), used: Boolean(o.used), use: () => void (o.used = true) }
      oursAfter ||= o.ours
      next = cur
    }
  }
}
