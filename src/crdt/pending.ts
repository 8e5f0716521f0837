/**
 * Which of a document's operations are local changes no peer holds yet (`TrackedFile.pending`): every
 * operation beyond the state peers acknowledged, except a creator's credit of an enrollment. A live model
 * names itself the author of the enrollment's Yjs client when it enrolls a file (`FileModel.enroll`), so
 * a file a peer created is credited to someone on the others. But every member that enrolls the same text
 * (a fresh checkout's committed files) does so, and peers already hold that enrollment: counted as a
 * change, the credit left such a file pending for good on a checkout with a read-only token (its sync
 * exited 5, "local changes to 1 file(s) were not sent", though nothing was edited). The credit is no edit;
 * it still goes with the next exchange (sessions send what a peer's state vector lacks, not what is pending).
 */
import * as Y from 'yjs'
import { AUTHORS } from './schema.js'

/**
 * Does `doc` hold operations beyond `acked` other than enrollment credits (an author entry in AUTHORS
 * keyed by another client than its writer's: `FileModel.local` keys its own entry by its own client)?
 */
export function pendingBeyond(doc: Y.Doc, acked: ReadonlyMap<number, number>): boolean {
  const authors = doc.getMap(AUTHORS)
  for (const [client, structs] of doc.store.clients) {
    const from = acked.get(client) ?? 0
    for (let i = structs.length - 1; i >= 0; i--) {
      const s = structs[i]!
      if (s.id.clock + s.length <= from) break
      const credit = s instanceof Y.Item && s.parent === authors && s.parentSub !== null && s.parentSub !== String(client)
      if (!credit) return true
    }
  }
  return false
}
