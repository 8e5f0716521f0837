/**
 * A commit's change that the live context had already superseded is not git's news (issue 13; black-box
 * tester stop 31, finding 1, in a team without the hooks). Ann commits X; bob then sets Y live; dan (plain
 * git) commits something else on top of X. A new member's `git checkout -m` of dan's commit, with no sync
 * point saying X was ever held live (and this clone never held it), diffed dan's version against the commit
 * it joined from: X collided with Y, and the CRDT merge's tie (by client id, the texts' hash) gave X, stamped
 * with dan's time — Y rolled back on every peer, with no record.
 *
 * The commits' own steps (`gitsteps.ts`) say when each change was made. A step's lines that collide with the
 * live text, where every value they change the live context holds already or had held the commit's value and
 * replaced it since, were superseded: counted as known (the base of HEAD's merge moves past them), never taken
 * in; the step's other lines are taken in as usual. A collision where the commit is newer stays with the merge.
 *
 * Time alone cannot tell superseded from a race: a teammate's commit and a live edit made after it that never
 * saw it (the commit was offline, or pulled later) are a race, which the merge driver records (e2e
 * history-merge-resolve; 17aab64 dropped its record). With `by`, the commit's writer, what tells them apart
 * is what the live value was written over: its register's item names the item its writer saw there (Yjs
 * `origin`), and so on back. The overwritten values' content is gone (Yjs collects it, and a joiner never had
 * it), but how they were written is known. The commit's value as the live context held it is a value written
 * live by the commit's own writer (a peer whose sync point names the commit, or a git author of the same name
 * — ctxsync's default name is git's user.name; ann sets X live and commits it, bob sets Y over it), not the
 * register's first write (an enrollment's: the value the commit started from) nor an enrollment credited to a
 * git author (`git:`); or a value a peer's take-in of the commit's very text wrote (carl's commit pulled live,
 * bob's Y over it: `takenIn`). Open: the commit's writer also set the value live before, to another value,
 * and committed X from a clone that never showed it — read as superseded.
 * Without `by` (a pull or checkout the daemon takes in, `gitnew.ts`), time alone: that take-in records no race
 * either way (its merge of texts keeps none), and by time the later value stands — else git's merge of the
 * texts would pick one by its tie rule, the older as often as not.
 */
import { diffArrays } from 'diff'
import * as Y from 'yjs'
import type { FileModel } from '../crdt/model.js'
import { AUTHORS, GIT_MARKS, NODES, type Credit } from '../crdt/schema.js'
import { sha256hex } from '../ids.js'
import { nodeAtPath } from '../crdt/merge/place.js'
import { mergeClean } from './gitbase.js'
import { diffFlat, flatten } from './versions/fields.js'
import { keyPath } from './versions/crdtauthors.js'

/** What of a change (`base` → `text`) to take in against `live`, and what the live context superseded. */
export interface StepSplit {
  /** `base` with the change's lines that merge cleanly into `live`. */
  clean: string
  /** `base` with the lines the live context superseded. */
  old: string
}

/**
 * Splits the change `base` → `text` (made at `at`, unix seconds, by `by`) by its hunks: null unless some
 * collide with `live` and all that collide were superseded there (each value they change holds, in `model`, a
 * live value other than the commit's, written after `at` and, with `by`, over the commit's writer's live value:
 * `heldBefore`).
 */
export async function supersededSplit(model: FileModel, base: string, text: string, live: string, at: number, by?: Credit | null): Promise<StepSplit | null> {
  const a = base.split('\n')
  const parts = diffArrays(a, text.split('\n')) as Array<{ added?: boolean; removed?: boolean; value: string[] }>
  // Hunks: runs of removed/added parts between unchanged ones, each applied or not.
  const hunks: number[] = []
  parts.forEach((p, i) => { if ((p.added || p.removed) && !(i > 0 && (parts[i - 1]!.added || parts[i - 1]!.removed))) hunks.push(i) })
  const hunkOf = (i: number): number => { let h = -1; for (const s of hunks) if (s <= i) h = s; return h }
  const apply = (take: Set<number>): string => parts.flatMap((p, i) => {
    if (!p.added && !p.removed) return p.value
    const on = take.has(hunkOf(i))
    return (p.added && on) || (p.removed && !on) ? p.value : []
  }).join('\n')
  const colliding = new Set<number>()
  for (const h of hunks) if ((await mergeClean(base, live, apply(new Set([h])))) === null) colliding.add(h)
  if (colliding.size === 0) return null
  const old = apply(colliding)
  const [fb, fo, fl] = [flatten(base), flatten(old), flatten(live)]
  const changes = diffFlat(fb, fo)
  if (changes.length === 0) return null
  let superseded = 0
  for (const c of changes) {
    const lv = fl.leaves.get(c.path)
    if (lv === undefined) return null
    // The live context holds the commit's value already (a commit of this clone's own, rebased): no news,
    // and no collision of its own — a line beside it collided (git schedule generator, seed 2018).
    if (lv === fo.leaves.get(c.path)) continue
    const kp = keyPath(c.path)
    const node = kp && nodeAtPath(model.tree, kp)
    const when = node ? model.tree.value(node)?.[1] : undefined
    if (when === undefined || !(when > at)) return null
    if (by !== undefined && !(by && heldBefore(model, model.tree.item(node!, 'v'), by, text))) return null
    superseded++
  }
  if (superseded === 0) return null
  return { clean: apply(new Set(hunks.filter((h) => !colliding.has(h)))), old }
}

/**
 * Was `item` (a register's live value) written over the commit's value as the live context held it: a value
 * the commit's writer `by` had set live, or one a peer took in from git with the commit's version `text`?
 * Walks the items each writer saw there (`origin`, found among the register's earlier items, `left`), not the
 * ones it raced with.
 */
function heldBefore(model: FileModel, item: Y.Item | undefined, by: Credit, text: string): boolean {
  const authors = model.doc.getMap<[string, string, string]>(AUTHORS)
  const named = (client: number): boolean => {
    const a = authors.get(String(client))
    if (!a || a[0].startsWith('git:')) return false
    return a[0] === by[0] || (by[0].startsWith('git:') && a[1] === by[1])
  }
  const taken = takenIn(model, text)
  const has = (z: Y.Item, id: Y.ID) => z.id.client === id.client && z.id.clock <= id.clock && id.clock < z.id.clock + z.length
  let want = item?.origin ?? null
  for (let z = item?.left ?? null, n = 0; z && want && n < 10_000; z = z.left, n++) {
    if (!has(z, want)) continue
    want = z.origin
    if ((want && named(z.id.client)) || taken(z)) return true
  }
  return false
}

/**
 * Was a register write made by a peer's take-in of `text` from git (a teammate's commit pulled live: the
 * value's writer is the peer that pulled)? The take-in writes the registers and then, in the same
 * transaction, the git mark of `text` (`ingestAsGit`): the write is the mark's client's, and that client wrote
 * only registers (and its author entry) from it to the mark.
 */
function takenIn(model: FileModel, text: string): (z: Y.Item) => boolean {
  const marks = (model.doc.getMap(GIT_MARKS) as unknown as { _map: Map<string, Y.Item> })._map
  const within = new Set<unknown>([model.doc.getMap(NODES), model.doc.getMap(AUTHORS)])
  const at: Y.Item[] = []
  for (let m = marks.get(sha256hex(text).slice(0, 16)) ?? null, n = 0; m && n < 64; m = m.left, n++) at.push(m)
  return (z) => at.some((m) => {
    if (m.id.client !== z.id.client || m.id.clock <= z.id.clock) return false
    const list = model.doc.store.clients.get(m.id.client) as Array<Y.Item | Y.GC> | undefined
    if (!list) return false
    for (let i = Y.findIndexSS(list, z.id.clock) + 1, n = 0; i < list.length && list[i]!.id.clock < m.id.clock; i++, n++) {
      const x = list[i]!
      if (n > 10_000 || !(x instanceof Y.Item) || !within.has(x.parent)) return false
    }
    return true
  })
}
