/**
 * A small memo of pure functions of whole file texts, the least recently used out first. A save is compared
 * with each text of its file's recent ring (`recent.ts`), and the same ring texts again at the next save: the
 * line distances and data leaves of one pair of texts were computed up to a dozen times per save, a quarter
 * of a save's CPU time in the edit generator. Strings are keys by value, so an equal text read again from
 * disk finds its entry. Bounded by the characters of its keys (a daemon's files may be megabytes: a count of
 * entries alone could keep hundreds of them alive); a key over a quarter of the budget is not kept.
 */
export class TextMemo<T> {
  readonly #map = new Map<string, T>()
  #chars = 0
  constructor(private readonly budget: number) {}

  get(key: string): T | undefined {
    const v = this.#map.get(key)
    if (v === undefined) return undefined
    // Used again: to the end of the insertion order, last to go.
    this.#map.delete(key)
    this.#map.set(key, v)
    return v
  }

  set(key: string, value: T): T {
    if (key.length * 4 > this.budget) return value
    if (this.#map.delete(key)) this.#chars -= key.length
    this.#map.set(key, value)
    this.#chars += key.length
    for (const k of this.#map.keys()) {
      if (this.#chars <= this.budget) break
      this.#map.delete(k)
      this.#chars -= k.length
    }
    return value
  }
}
