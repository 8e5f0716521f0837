/** A document's state as a map (kept with each recent text, `recent.ts`), and byte comparison. */
import * as Y from 'yjs'

export const stateOf = (doc: Y.Doc): Map<number, number> => Y.decodeStateVector(Y.encodeStateVector(doc))

/**
 * The state a saved text shows when the model renders it otherwise: what the text it was made from showed
 * (`sv`), and the saver's own writes. Such a text stays the base while its rendering is not written (the
 * state incomplete, the file changed again first); read as showing the whole state, the next save
 * overwrote, with no record, a peer's value the file never showed (converge seeds 40 and 147).
 */
export const madeFrom = (sv: Map<number, number>, doc: Y.Doc): Map<number, number> => new Map([...sv, [doc.clientID, Y.getState(doc.store, doc.clientID)]])

export function equalBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false
  return true
}
