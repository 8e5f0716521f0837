/**
 * Updates that arrive before one they depend on are held whole, not half applied.
 *
 * Yjs integrates what it can of an update and keeps the rest pending — but it applies the update's
 * deletions at once. A value overwritten in that update (a title set again: the old value deleted, the new
 * one inserted after the writer's earlier change) is then gone with nothing in its place: the model renders
 * `title: ` until the missing update comes. This peer does not write that (its render is incomplete), but
 * the deletion alone is what the document's `update` event carries, so it was stored and passed on, and
 * the next peer — missing nothing it knew of — wrote `title: `, a value nobody wrote, into its file for
 * seconds (network-faults ring, seed 880341; `test/space/forwarded-deletion.test.ts`).
 *
 * So an update whose structs start past what this document holds of their writer, or point at items it
 * does not hold, is kept aside and applied once what it needs is there. Nothing of it is stored,
 * announced or acknowledged meanwhile (the state vector does not move), so a peer that has it sends it
 * again on the next exchange; this is why the list may drop its oldest when full.
 */
import * as Y from 'yjs'

/** At most this many updates and bytes wait; the oldest are dropped past it (peers send them again from state vectors). */
const MAX_HELD = 128
const MAX_HELD_BYTES = 4 * 1024 * 1024 // bounds the re-check after each applied update under a flood too
/** Past this size an update's structs are not decoded to check what they point at (the gap check stays). */
const DECODE_MAX_BYTES = 256 * 1024

export interface Held { update: Uint8Array; from: string }

export class HeldUpdates {
  #held: Held[] = []
  #bytes = 0

  get size(): number {
    return this.#held.length
  }

  /** True when `update` cannot be applied whole to `doc` now; it is then kept until `ready` hands it back. */
  holdIfGapped(doc: Y.Doc, update: Uint8Array, from: string): boolean {
    if (!gapped(doc, update)) return false
    this.#held.push({ update, from })
    this.#bytes += update.byteLength
    while (this.#held.length > MAX_HELD || (this.#bytes > MAX_HELD_BYTES && this.#held.length > 1)) this.#bytes -= this.#held.shift()!.update.byteLength
    return true
  }

  /** The held updates that can now be applied whole, in the order to apply them (removed from the list). */
  ready(doc: Y.Doc): Held[] {
    const out: Held[] = []
    for (let progress = true; progress && this.#held.length > 0; ) {
      progress = false
      for (const h of [...this.#held]) {
        if (gapped(doc, h.update, out.map((o) => o.update))) continue
        out.push(h)
        this.#held.splice(this.#held.indexOf(h), 1)
        this.#bytes -= h.update.byteLength
        progress = true
      }
    }
    return out
  }
}

/** Whether `update` needs operations neither `doc` nor `also` (updates about to be applied) hold. */
function gapped(doc: Y.Doc, update: Uint8Array, also: Uint8Array[] = []): boolean {
  const meta = Y.parseUpdateMeta(update)
  const have = new Map<number, number>()
  const state = (c: number): number => have.get(c) ?? Y.getState(doc.store, c)
  for (const u of also) {
    const m = Y.parseUpdateMeta(u)
    for (const [c, from] of m.from) if (from <= state(c)) have.set(c, Math.max(state(c), m.to.get(c) ?? 0))
  }
  for (const [c, from] of meta.from) {
    if (from > state(c)) return true
  }
  if (update.byteLength > DECODE_MAX_BYTES) return false
  const covered = (id: Y.ID | null): boolean => id === null || id.clock < Math.max(state(id.client), meta.from.has(id.client) ? (meta.to.get(id.client) ?? 0) : 0)
  for (const s of Y.decodeUpdate(update).structs) {
    // A merged update with a hole in one writer's clocks: what follows the hole waits like a gap.
    if (s instanceof Y.Skip) {
      if (s.id.clock + s.length > state(s.id.client)) return true
      continue
    }
    if (!(s instanceof Y.Item)) continue
    if (!covered(s.origin) || !covered(s.rightOrigin) || (s.parent instanceof Y.ID && !covered(s.parent))) return true
  }
  return false
}
