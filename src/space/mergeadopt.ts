/**
 * The merge driver's conflicts move into the live context (issue 15): a record the driver kept in this
 * clone (`mergestore.ts`) becomes a synced conflict record of the document (`crdt/merge/place.ts`), so every
 * peer lists it and a `resolve` on any of them clears it everywhere — as a conflict the live CRDT found.
 *
 * Done after every take-in of the files (startup, `sync`, after git), in the document's turn, and only once
 * the document has taken in what the file holds now (the merged text, or an edit made since): the merged
 * value is then what the place shows, or it was changed since and the record is moot — dropped, and the
 * log says why. A file that is held (it does not parse) keeps its record until it parses again.
 */
import path from 'node:path'
import { adoptConflict, nodeAtPath, placeConflict, writerAt, type MergeEntry, type Placement } from '../crdt/merge/place.js'
import type { FileModel } from '../crdt/model.js'
import { readTextFile } from '../fs/atomic.js'
import { asDocName } from '../ids.js'
import { logger } from '../debuglog.js'
import type { GitContext } from './context.js'
import { readTeamConfig } from './config.js'
import { spacePaths } from './paths.js'
import { awaitingJoin } from './join.js'
import { droppedLine, markDone, openEntries, records } from './mergestore.js'
import { noteMoved, type MergeRecord } from './mergefile.js'
import { deletesInOrder, heldBefore, madeByCheckout, seenInOrder } from './mergeseen.js'

const log = logger('space:merge')

export async function adoptMerges(cx: GitContext): Promise<void> {
  // Never in the way of the take-in that called it (a daemon's start, a sync): a record left waits.
  await besideAdoptions(cx.root, () => adopt(cx)).catch((e: Error) => cx.warn(`the merge driver's conflict records: ${e.message}`))
}

/** Per space root, the adoption (or reader) running now: the next one starts once it is done. */
const running = new Map<string, Promise<unknown>>()

/**
 * Runs `fn` when no adoption runs in this space, and none starts until it is done: a reader of both the
 * live conflicts and the records left (the daemon's `status`) sees a record in one or the other, never in
 * neither. Read apart (the `status` command asked the daemon, then read the records), a status whose
 * question came before the adoption and whose read came after it counted none (CI, e2e plain-git 'a
 * conflict the merge driver kept counts in status', 1 run in 10 under load).
 */
export function besideAdoptions<T>(root: string, fn: () => Promise<T>): Promise<T> {
  const next = (running.get(root) ?? Promise.resolve()).then(fn, fn)
  const tail = next.catch(() => undefined)
  running.set(root, tail)
  void tail.then(() => running.get(root) === tail && running.delete(root))
  return next
}

async function adopt(cx: GitContext): Promise<void> {
  // The driver keeps its records where `resolve` looks for them: the space's own state directory.
  const paths = spacePaths(cx.root)
  const recs = await records(paths)
  if (recs.length === 0) return
  const rules = (await readTeamConfig(paths.config).catch(() => null))?.rules ?? []
  for (const { file, rec } of recs) {
    if (!cx.match(rec.file) || cx.gitPaused()) continue
    await cx.turn(asDocName(rec.file), async (d) => {
      const f = d.file
      if (cx.gitPaused() || f.state !== 'ok' || f.model.isEmpty || awaitingJoin(f)) return
      const now = await readTextFile(path.join(cx.root, rec.file), { within: cx.root })
      // Not taken in yet (an edit under way): the next take-in comes back here.
      if (now.kind === 'unreadable' || !f.diskIs(now.kind === 'text' ? now.hash : null)) return
      const { entries, deletes } = openEntries(rec, rules)
      const done: string[] = []
      const moved: Record<string, string> = {}
      const held = entries.length ? await heldBefore(paths.state, rec.file, Date.parse(rec.at)) : null
      // A checkout or switch never makes a conflict: what it merged was the live context and a commit.
      const carried = entries.length + deletes.length > 0 && (await madeByCheckout(await cx.gitRepo(), Date.parse(rec.at)))
      // Delete-versus-edit records are not placed in the live context (mergestore.ts): the same rules drop
      // those the live context had already ordered; the others stay this clone's, for `resolve`.
      const ordered = carried ? new Set(deletes.map((c) => c.id)) : await deletesInOrder(paths.state, rec.file, Date.parse(rec.at), deletes)
      for (const c of deletes) if (ordered.has(c.id)) log('%s: merge conflict %s (%s, deleted and edited) is no race: the live context held both in turn', rec.file, c.id, c.display)
      if (carried) log('%s: the merge driver\'s record was made by git checkout/switch -m: no conflict', rec.file)
      for (const e0 of entries) {
        const p0 = placeConflict(f.model, e0)
        const kept = keptByLive(f.model, e0, p0, Date.parse(rec.at))
        const e = kept?.entry ?? e0
        const p = kept?.place ?? p0
        if (kept) log('%s: merge conflict %s (%s): the live context kept a value it held before the merge, %s: listed with it', rec.file, e.id, e.display, JSON.stringify(e.values[e.winner]!.desc))
        if (carried || (p.kind === 'here' && seenInOrder(held, e))) {
          // Every value had been in the live context before the merge: one was written after the other.
          log('%s: merge conflict %s (%s) is no race: the live context held each value in turn', rec.file, e.id, e.display)
        } else if (p.kind === 'here') {
          adoptConflict(f.model, p.node, e)
          const now = f.model.conflicts().find((c) => c.path.length === e.path.length && c.path.every((x, i) => x === e.path[i]))
          if (now) moved[e.id] = now.id
          log('%s: merge conflict %s (%s) now a record of the live context (%s)', rec.file, e.id, e.display, now?.id)
        } else cx.warn(droppedLine(rec.file, e, p))
        done.push(e.id)
      }
      done.push(...ordered)
      // Every value of the merge is the live context's now (or moot): its sides are known content. A side's
      // value was otherwise only in a record — a later merge with that commit (a teammate's, pulled after the
      // resolve) met a side no rule knew and listed the resolved conflict again (black-box tester, stop 29,
      // finding 4). Not while a delete-versus-edit record is still this clone's: the edit is in it alone.
      if (deletes.length === ordered.size) markSides(f.model, rec, cx.peerId)
      await noteMoved(paths, moved)
      await markDone(file, rec, done, deletes.length - ordered.size)
    })
  }
  cx.notify('summary')
}

function markSides(model: FileModel, rec: MergeRecord, by: string): void {
  const at = Math.floor((Number.isFinite(Date.parse(rec.at)) ? Date.parse(rec.at) : Date.now()) / 1000)
  const hashes = [...new Set(rec.parts.flatMap((p) => p.sides ?? []))].filter((h) => !model.gitMarked(h))
  if (hashes.length) model.local(() => { for (const h of hashes) model.markFromGit(h, by, at) }, false)
}

/**
 * A place showing another of the conflict's values than the merge kept, written *before* the merge: no
 * choice made since, but the live context ordering the same race its own way — its value was written later
 * than the commit's time it took in (times of commits are whole seconds; a live write has milliseconds), or
 * git dropped a pick the merge left empty and the live context kept its value over the upstream one. The
 * conflict stands, with the value shown as the one kept; dropping it ("chosen since") lost the other value
 * without a word, on every peer. A value written after the merge (`resolve`, an edit) is a choice.
 */
export function keptByLive(model: FileModel, e: MergeEntry, p: Placement, mergedAtMs: number): { entry: MergeEntry; place: Placement } | null {
  if (p.kind !== 'changed' || !p.taken || !Number.isFinite(mergedAtMs)) return null
  const node = nodeAtPath(model.tree, e.path)
  const shown = node === null ? undefined : model.tree.desc(node)
  const k = e.values.findIndex((v) => v.desc === shown)
  const w = k < 0 ? null : writerAt(model, e.path, shown!)
  if (node === null || k < 0 || !w || w.at * 1000 >= mergedAtMs) return null
  return { entry: { ...e, winner: k }, place: { kind: 'here', node } }
}
