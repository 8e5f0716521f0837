/**
 * Exact-size copies of decoded register values.
 *
 * Yjs (and lib0's `readAny`) build every decoded array by pushing into an empty one, and V8 gives an
 * array 17 slots on its first push: a register `[desc, at]` arriving from a peer or a sidecar holds two
 * such arrays where a local write holds two of 1–3 slots — about 230 bytes more per register, for as long
 * as the register lives (a loaded 256 KB todos file has ~19,000). And a decoded `Uint8Array` (a
 * tombstone's state vector) is a view into the whole update it came in, so one tombstone keeps a whole
 * sidecar file alive. After each transaction the registers it changed get copies of their values that
 * are equal element for element: the encoded state and every rendering stay the same.
 *
 * Any Yjs document holding plain values can use it: the relay hooks it on its documents too (passed in by
 * `commands/serve.ts`, since `net` does not import `crdt`). This reaches into `ContentAny.arr`, a field
 * Yjs has kept through 13.x; `test/crdt/compact.test.ts` notices if that changes.
 */
import type * as Y from 'yjs'

/** Compacts the registers of every map the transaction changed (hook it on a doc's `afterTransaction`). */
export function compactChanged(tr: Y.Transaction): void {
  for (const [type, keys] of tr.changed) {
    const items = (type as unknown as { _map: Map<string, Y.Item> })._map
    for (const key of keys) {
      const item = key === null ? undefined : items.get(key)
      if (!item || item.deleted) continue
      const content = item.content as unknown as { arr?: unknown[] }
      if (Array.isArray(content.arr)) content.arr = content.arr.map(exact)
    }
  }
}

/** `map` allocates exactly the array's length; `slice` gives a Uint8Array its own buffer. */
function exact(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(exact)
  if (v instanceof Uint8Array) return v.slice()
  return v
}
