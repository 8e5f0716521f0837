/**
 * Writes credited to someone other than the Yjs client that made them: a resolution's kept value (its chosen
 * writer's) and a commit's values and deletions (its writer's, not the clone's that took it in). Records
 * (present.ts) and blame (space/versions/crdtauthors.ts) name those writers.
 */
import * as Y from 'yjs'
import { GIT_MARKS, RESOLVED, revertOf, type Credit, type NodeId } from './schema.js'

/**
 * The writers resolutions credited, by the node, client and time of the value each resolution wrote: a kept
 * value is written afresh by the peer that chose it (present.ts `resolveConflict`), and a later race with it
 * named that peer as the value's writer ("claude and gus changed it" about ann's value claude kept: tester).
 */
export function keptWrites(doc: Y.Doc): Map<string, Credit> {
  const out = new Map<string, Credit>()
  for (const [key, r] of doc.getMap<unknown>(RESOLVED)) {
    if (!Array.isArray(r) || r.length < 3 || !Array.isArray(r[2])) continue
    const k = `${key.slice(0, key.indexOf('|'))}|${r[0] as number}|${r[1] as number}`
    // Its own entry first: the records' marks can be overwritten by a later edit's (`supersede`).
    if (key.endsWith(KEPT) || !out.has(k)) out.set(k, r[2] as Credit)
  }
  return out
}

/**
 * The writers commits credited, by the client and time of the values each git ingestion wrote: a commit's
 * values and deletions are written by the clone that pulled or checked it out, in one transaction with its
 * git mark (`ingestAsGit`), and stamped with the mark's time. A record named that clone as their writer
 * ("(deleted) — ann" for dan's deletion ann pulled: black-box tester stop 31, finding 10), where blame
 * named the commit's (space/versions/crdtauthors.ts). Revert marks (an undo's, a restore's) credit no one else.
 */
export function gitWrites(doc: Y.Doc): Map<string, Credit> {
  const out = new Map<string, Credit>()
  for (const [k, top] of doc.getMap<unknown>(GIT_MARKS)._map) {
    for (let it: Y.Item | null = top; it; it = it.left) {
      const v = it.content.getContent()[0] as unknown
      if (!Array.isArray(v) || v.length !== 3 || typeof v[1] !== 'number' || revertOf(k, v[0])) continue
      out.set(gitWriteKey(it.id.client, v[1]), v[2] as Credit)
    }
  }
  return out
}
export const gitWriteKey = (client: number, time: number): string => `${client}|${time}`

/** The suffix of the resolution entry naming the kept value's writer: `node|client|time|kept` (`keptKey`). */
const KEPT = '|kept'
export const keptKey = (node: NodeId, client: number, time: number): string => `${node}|${client}|${time}${KEPT}`
