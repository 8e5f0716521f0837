/**
 * Pass on nothing of a document while it is incomplete.
 *
 * Yjs integrates an update whose structs depend on one not yet received as far as it can: the structs wait
 * in the store as pending, but its deletions of items this replica holds are applied at once. The
 * transaction's `update` event then carries only what was applied — for a retitle that arrived before the
 * change it follows, the deletion of the old title alone. Passed on as it is (a daemon forwarding to the
 * next peer, a relay to every member), the next replica, missing nothing it knows of, renders the value the
 * deletion removed as empty and writes `title: ` into a file: a value nobody wrote, shown for as long as the
 * missing update takes the long way round (seconds in the network-faults ring, seed 880341).
 *
 * So what a remote update leaves incomplete is held here, and passed on merged with the update that makes the
 * document whole again. Holding the update itself back from Yjs was tried first (stop 29) and reverted: a
 * relay's sync diff carries its own pending structs, so one lost update stopped a peer's whole sync. Here
 * Yjs applies everything as always and only the passing on waits, and only for a while: an update whose
 * predecessor never comes (lost for good, or a hostile member's gap) must not hold a document back forever,
 * so once an incomplete spell has lasted `WHOLE_WAIT_MS` what is held goes out and later updates pass
 * straight through until the document is whole again (then the next spell may hold once more). The
 * replica's own file waits the same while (`space/incomplete.ts`).
 */
import * as Y from 'yjs'

/**
 * How long one incomplete spell may hold a document's updates back (the missing update is usually a sync
 * round away). `CTXSYNC_WHOLE_WAIT_MS` sets it for a process (tests of the bound).
 */
export const WHOLE_WAIT_MS = 10_000
export const wholeWaitMs = (): number => Number(process.env.CTXSYNC_WHOLE_WAIT_MS) || WHOLE_WAIT_MS

/** Whether Yjs holds structs or deletions of `doc` it could not apply yet (they wait for an earlier update). */
export function isWhole(doc: Y.Doc): boolean {
  return doc.store.pendingStructs === null && doc.store.pendingDs === null
}

export class WholeGate<O> {
  #held: Array<{ update: Uint8Array; origin: O | null }> = []
  #timer: ReturnType<typeof setTimeout> | null = null
  /** This incomplete spell has held its while: updates pass until the document is whole again. */
  #spent = false

  /** @param release passes an update on (merged when several waited; `origin` kept when all came from one). */
  constructor(
    private readonly release: (update: Uint8Array, origin: O | null) => void,
    private readonly waitMs: number = wholeWaitMs(),
  ) {}

  /**
   * An update of the document, with whether the document was whole right after it (read in the update
   * event, before anything else can apply). `remote`: only peers' updates are held; a local change depends
   * on nothing missing and goes out at once.
   */
  push(update: Uint8Array, origin: O | null, whole: boolean, remote: boolean): void {
    if (whole) {
      this.#spent = false
      if (this.#held.length === 0) return this.release(update, origin)
      this.#held.push({ update, origin })
      return this.#releaseHeld()
    }
    if (!remote || this.#spent) return this.release(update, origin)
    this.#held.push({ update, origin })
    if (this.#timer) return
    this.#timer = setTimeout(() => {
      this.#timer = null
      this.#spent = true
      this.#releaseHeld()
    }, this.waitMs)
    this.#timer.unref?.()
  }

  /** Updates are waiting for the document to be whole. */
  get holding(): boolean {
    return this.#held.length > 0
  }

  close(): void {
    if (this.#timer) clearTimeout(this.#timer)
    this.#timer = null
    this.#held = []
  }

  #releaseHeld(): void {
    if (this.#timer) clearTimeout(this.#timer)
    this.#timer = null
    const held = this.#held
    this.#held = []
    if (held.length === 0) return
    const origin = held.every((h) => h.origin === held[0]!.origin) ? held[0]!.origin : null
    this.release(held.length === 1 ? held[0]!.update : Y.mergeUpdates(held.map((h) => h.update)), origin)
  }
}
