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
 * bob's Y over it; `crdt/heldbefore.ts`). Open: the commit's writer also set the value live before, to another value,
 * and committed X from a clone that never showed it — read as superseded.
 * Without `by` (a pull or checkout the daemon takes in, `gitnew.ts`), time alone: that take-in records no race
 * either way (its merge of texts keeps none), and by time the later value stands — else git's merge of the
 * texts would pick one by its tie rule, the older as often as not.
 */
import { diffArrays } from 'diff'
import type { FileModel } from '../crdt/model.js'
import { heldBefore } from '../crdt/heldbefore.js'
import type { Credit } from '../crdt/schema.js'
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
    if (by !== undefined && !(by && heldBefore(model, model.tree.item(node!, 'v'), by, sha256hex(text).slice(0, 16)))) return null
    superseded++
  }
  if (superseded === 0) return null
  return { clean: apply(new Set(hunks.filter((h) => !colliding.has(h)))), old }
}
