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

/** An older text: `text = next.slice(0, pre) + mid + next.slice(next.length - suf)`, `next` the text after it. */
interface Older {
  pre: number
  suf: number
  mid: string
  ours: boolean
  sv?: Map<number, number>
  used?: boolean
}

export interface OlderText {
  text: string
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

  /** `h` left the ring; `next` is the text after it (the ring's oldest now). */
  add(h: { text: string; ours: boolean; sv?: Map<number, number>; used?: boolean }, next: string, fileSize: number): void {
    const t = h.text
    let pre = 0
    const max = Math.min(t.length, next.length)
    while (pre < max && t.charCodeAt(pre) === next.charCodeAt(pre)) pre++
    let suf = 0
    while (suf < max - pre && t.charCodeAt(t.length - 1 - suf) === next.charCodeAt(next.length - 1 - suf)) suf++
    const mid = t.slice(pre, t.length - suf)
    this.#list.unshift({ pre, suf, mid, ours: h.ours, ...(h.sv ? { sv: h.sv } : {}), ...(h.used ? { used: true } : {}) })
    this.#chars += mid.length
    while (this.#list.length > MAX_OLDER || (this.#list.length > 1 && this.#chars > fileSize + OLDER_SLACK)) this.#chars -= this.#list.pop()!.mid.length
  }

  /** The texts, newest first, rebuilt from `oldest` (the ring's oldest text); `ours` of an entry, or a later one. */
  *texts(oldest: string): Generator<OlderText> {
    let next = oldest
    let oursAfter = false
    for (const o of this.#list) {
      const text = next.slice(0, o.pre) + o.mid + next.slice(next.length - o.suf)
      yield { text, ours: o.ours, oursAfter, ...(o.sv ? { sv: o.sv } : {}), used: Boolean(o.used), use: () => void (o.used = true) }
      oursAfter ||= o.ours
      next = text
    }
  }
}
