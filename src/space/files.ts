/**
 * Keeping a tracked file and its model in step. Three moves, all run serially per document:
 *
 *  - `enrollOrIngest`: the file changed on disk (an editor, an agent, git). A file that does not parse is
 *    *held*: nothing from it reaches the CRDT, and remote changes wait in the CRDT until it parses again;
 *    the edit is then diffed against the text the user last had (the base), so both sides merge.
 *  - `writeBack`: the model changed (a peer, a resolution). The rendering is written atomically — unless
 *    the file is held, or changed on disk since we last saw it (then that change is ingested first and the
 *    merged result written), or the model waits for updates it depends on.
 *  - `reconcile`: startup / `sync` / after git — decides which of the two applies from the hashes kept in
 *    the sidecar meta, so edits made while no ctxsync ran are ingested once and never lost.
 *
 * Echoes are recognised by content hash: the hash of what we wrote is the file's known state, and an event
 * carrying that hash is our own write coming back.
 */
import path from 'node:path'
import { diffLines } from 'diff'
import { RefusedFileError, YamlSyntaxError, type Rendered } from '../crdt/model.js'
import { DamagedStateError } from '../crdt/limits.js'
import { maxFileBytes, readTextFile, removeFile, writeFileAtomicIf } from '../fs/atomic.js'
import { sha256hex } from '../ids.js'
import type { DocEntry } from './entry.js'
import { noteSeen } from './seen.js'
import { tooCostly } from './parsecheck.js'
import type { Space } from './space.js'

export type ReconcileResult = 'enrolled' | 'ingested' | 'written' | 'deleted' | null

export async function reconcile(space: Space, e: DocEntry): Promise<ReconcileResult> {
  return unlessDamaged(space, e, null, () => reconcileFile(space, e))
}

async function reconcileFile(space: Space, e: DocEntry): Promise<ReconcileResult> {
  const abs = path.join(space.root, e.name)
  const read = await readTextFile(abs, { within: space.root })
  if (read.kind === 'missing') {
    if (!e.model.exists()) {
      e.diskHash = null
      return null
    }
    if (e.meta.baseHash) {
      // It was on disk when we last looked and is gone now: deleted while no ctxsync ran.
      e.diskHash = null
      e.model.deleteFile()
      delete e.meta.baseHash
      e.saveMeta()
      return 'deleted'
    }
    e.diskHash = null
    return (await writeBack(space, e)) ? 'written' : null
  }
  if (read.kind === 'unreadable') {
    markUnreadable(space, e, read.reason)
    return null
  }
  if (e.model.isEmpty || !e.model.exists()) return (await enrollOrIngest(space, e, read.text, read.hash)) ? 'enrolled' : null
  // The file usually holds exactly the model's rendering: passing it spares checking the rendering parses.
  const r = e.model.render(read.text)
  if (r.text === read.text) {
    e.model.setBase(r)
    e.diskHash = read.hash
    noteSeen(e, read.hash)
    setOk(e)
    if (e.meta.baseHash !== read.hash) {
      e.meta.baseHash = read.hash
      e.saveMeta()
    }
    return null
  }
  // A kept base text that is not the file's last synced text belongs to a held file: then the file is not
  // simply what we left.
  const baseTextIsFile = !e.meta.baseText || sha256hex(e.meta.baseText) === read.hash
  if (read.hash === e.meta.writing || (read.hash === e.meta.baseHash && baseTextIsFile)) {
    // The file is what we left (or our last write, if we died before noting it as the base); the model
    // moved on (changes arrived, the write was not done yet).
    e.diskHash = read.hash
    e.model.setBase(r)
    return (await writeBack(space, e)) ? 'written' : null
  }
  // Edited while no ctxsync ran: diff against what the file held when we last synced it.
  const base = offlineBase(e, read.text, r)
  if (base === 'render') e.model.setBase(r)
  else if (base) e.model.restoreBase(base.text, base.ids)
  else if (e.meta.baseHash && r.text !== null && sha256hex(r.text) === e.meta.baseHash) e.model.setBase(r)
  else e.model.setBase({ text: null, ir: null, complete: true })
  return (await enrollOrIngest(space, e, read.text, read.hash)) ? 'ingested' : null
}

/**
 * The text an offline edit was made from. While the model is ahead of the file (peers' changes applied,
 * the file not yet rewritten) meta keeps the file's text (`baseText`, see Space.applyRemote), and while
 * such a rewrite is under way also the text being written (`writingText`); and the model's own rendering
 * is what the file holds when we died after a write or an ingest but before meta said so. A process killed
 * at any of these points leaves one of them on disk, and the user's edit sits on top of it: the nearest
 * (fewest changed lines) is the one it was made from. Diffing against the wrong one would re-add, as the
 * user's, todos that arrived meanwhile (doubling them) or undo changes that were already shown.
 */
function offlineBase(e: DocEntry, text: string, r: Rendered): { text: string; ids: string[] } | 'render' | null {
  const found: Array<{ text: string; ids: string[] }> = []
  for (const [t, ids] of [[e.meta.baseText, e.meta.baseIds], [e.meta.writingText, e.meta.writingIds]]) {
    if (typeof t === 'string' && Array.isArray(ids)) found.push({ text: t, ids: ids as string[] })
  }
  if (found.length === 0) return null
  const distance = (from: string) => diffLines(from, text).reduce((n, c) => n + (c.added || c.removed ? (c.count ?? 1) : 0), 0)
  let best: { text: string; ids: string[] } | 'render' | null = null
  let bestD = Infinity
  if (r.complete && r.text !== null && r.ir) {
    best = 'render'
    bestD = distance(r.text)
  }
  for (const f of found) {
    const d = distance(f.text)
    if (d < bestD) [best, bestD] = [f, d]
  }
  return best
}

/** Takes new file content. Returns true when the model changed. */
export async function enrollOrIngest(space: Space, e: DocEntry, text: string, hash: string): Promise<boolean> {
  return unlessDamaged(space, e, false, () => takeText(space, e, text, hash))
}

async function takeText(space: Space, e: DocEntry, text: string, hash: string): Promise<boolean> {
  if (hash === e.diskHash && e.state === 'ok') return false
  e.diskHash = hash
  // A file whose CRDT work would block the daemon for long is held before that work starts.
  const costly = await tooCostly(space.parseCheck, text, e.model.isEmpty ? null : (e.model.baseText?.length ?? null))
  if (costly !== null) {
    hold(space, e, { line: 1, col: 1, message: costly })
    return false
  }
  let out
  try {
    if (e.model.isEmpty) {
      out = { ...e.model.enroll(text), changed: true }
    } else {
      out = e.model.ingest(text)
    }
  } catch (err) {
    if (err instanceof YamlSyntaxError) {
      hold(space, e, { line: err.line, col: err.col, message: err.reason })
      return false
    }
    if (err instanceof RefusedFileError) {
      e.state = 'refused'
      e.problem = { line: 1, col: 1, message: err.reason }
      space.emit('refused', e.name, err.reason)
      return false
    }
    throw err
  }
  const wasHeld = e.state !== 'ok'
  setOk(e)
  if (wasHeld) space.emit('released', e.name)
  if (out.complete && out.text !== null && out.text !== text) {
    // Peers' changes arrived meanwhile (e.g. while the file was held): write the merged text. If the file
    // changed yet again first, that newer text was made from `text`: diff it with that, not with the merge.
    if (!(await writeText(space, e, out.text, hash, e.model.idsOf(out)))) e.model.keepIngestedAsBase()
  }
  e.meta.baseHash = e.diskHash ?? undefined
  delete e.meta.baseText
  delete e.meta.baseIds
  delete e.meta.writing
  delete e.meta.writingText
  delete e.meta.writingIds
  noteSeen(e, hash)
  e.saveMeta()
  return out.changed
}

/** Writes the model's rendering if it differs from the file. Returns true when the file was written. */
export async function writeBack(space: Space, e: DocEntry): Promise<boolean> {
  return unlessDamaged(space, e, false, () => writeModel(space, e))
}

async function writeModel(space: Space, e: DocEntry): Promise<boolean> {
  if (e.state !== 'ok') {
    if (e.state === 'held') keepBase(e)
    return false
  }
  // Not looked at the file since the space was opened (e.g. `resolve` without a daemon): without knowing
  // what is on disk a write would either be refused or, worse, the file's stale text later ingested as an
  // edit that undoes this change. Reconcile decides (and writes the model once diskHash is known).
  if (e.diskHash === undefined) return (await reconcile(space, e)) === 'written'
  const d = e.model.renderDeferred()
  // A state that waits for updates it depends on is never written, so its text needs no check.
  if (!('rendered' in d ? d.rendered : d).complete) return false
  const r = 'rendered' in d ? d.rendered : d.finish(await space.parseCheck.check(d.text))
  const abs = path.join(space.root, e.name)
  // Anything on disk we have not seen yet is a local edit: take it in first, it writes the merge.
  const read = await readTextFile(abs, { within: space.root })
  const now = read.kind === 'missing' ? null : read.kind === 'unreadable' ? 'unreadable' : read.hash
  if (now !== e.diskHash) {
    if (read.kind === 'text') return enrollOrIngest(space, e, read.text, read.hash)
    return false // deleted or unreadable: the watcher reports it, and deletion is handled there
  }
  if (r.text === null) {
    if (!e.diskHash) return false
    await removeFile(abs, { within: space.root })
    e.diskHash = null
    delete e.meta.baseHash
    e.saveMeta()
    space.emit('file-deleted', e.name)
    return true
  }
  if (e.diskHash && sha256hex(r.text) === e.diskHash) {
    e.model.setBase(r)
    return false
  }
  // Not written because a save landed meanwhile: the base stays what that save was made from, and the
  // watcher brings the save (it is ingested, then the merge written).
  if (!(await writeText(space, e, r.text, e.diskHash ?? null, e.model.idsOf(r)))) return false
  e.model.setBase(r)
  e.meta.baseHash = e.diskHash ?? undefined
  delete e.meta.baseText
  delete e.meta.baseIds
  delete e.meta.writing
  delete e.meta.writingText
  delete e.meta.writingIds
  e.saveMeta()
  return true
}

/**
 * Writes `text` unless the file changed since `expected` (a newer local save must never be overwritten;
 * the watcher delivers it and the next write includes it).
 */
async function writeText(space: Space, e: DocEntry, text: string, expected: string | null, ids: string[]): Promise<boolean> {
  const abs = path.join(space.root, e.name)
  const read = await readTextFile(abs, { within: space.root })
  const now = read.kind === 'text' ? read.hash : read.kind === 'missing' ? null : 'unreadable'
  if (expected !== null && now !== expected) return false
  if (expected === null && now !== null) return false
  // Note what we are about to write before writing it: a kill -9 right after the write must not leave a
  // file that the next start mistakes for an offline edit (and re-authors every value in it). Not fsynced:
  // this guards against the process dying, and meta can be recomputed.
  e.meta.writing = sha256hex(text)
  // The model is ahead of the file (baseText kept): should we die around the rename and the user edit the
  // file before the next start, it is one of the two texts; see offlineBase.
  if (e.meta.baseText) {
    e.meta.writingText = text
    e.meta.writingIds = ids
  }
  await e.saveMeta(true)
  // Checked again right at the rename (see writeFileAtomicIf): by then the first check is a meta write and
  // an fsync old, and a save landing in between used to be overwritten.
  const w = await writeFileAtomicIf(abs, text, expected, { within: space.root })
  if (!w) {
    delete e.meta.writing
    delete e.meta.writingText
    delete e.meta.writingIds
    return false
  }
  e.diskHash = w.hash
  noteSeen(e, w.hash)
  space.written.add(e.name)
  space.emit('file-written', e.name)
  return true
}

function hold(space: Space, e: DocEntry, problem: { line: number; col: number; message: string }): void {
  const first = e.state !== 'held' || e.problem?.line !== problem.line || e.problem.message !== problem.message
  e.state = 'held'
  e.problem = problem
  keepBase(e)
  if (first) space.emit('held', e.name, problem)
}

/** A tracked file that cannot be synced as it is (binary, not UTF-8, too large, a link): held with why. */
export function markUnreadable(space: Space, e: DocEntry, reason: string): void {
  const message =
    reason === 'binary' || reason === 'not-utf8'
      ? 'not UTF-8 text: ctxsync only syncs text YAML files'
      : reason === 'too-large'
        ? `too large to sync (over ${maxFileBytes()} bytes; CTXSYNC_MAX_FILE_BYTES raises the limit)`
        : reason === 'symlink'
          ? 'a symbolic link: ctxsync does not follow links'
          : `cannot be read (${reason})`
  e.state = reason === 'symlink' ? 'refused' : 'unreadable'
  e.problem = { line: 1, col: 1, message }
  space.emit('held', e.name, e.problem)
}

function setOk(e: DocEntry): void {
  e.state = 'ok'
  e.problem = null
}

/** While a file is held the model may move ahead of it: remember what the user has, to diff against later. */
function keepBase(e: DocEntry): void {
  const text = e.model.baseText
  if (text === null || e.meta.baseText === text) return
  e.meta.baseText = text
  e.meta.baseIds = e.model.baseIds()
  e.saveMeta()
}

/**
 * Runs file work for a document unless its state is damaged; a rendering that finds it damaged (over the
 * limits of `crdt/limits.ts`) holds it from then on instead of failing the caller.
 */
async function unlessDamaged<T>(space: Space, e: DocEntry, none: T, f: () => Promise<T>): Promise<T> {
  if (e.damaged !== null) return none
  try {
    return await f()
  } catch (err) {
    if (!(err instanceof DamagedStateError)) throw err
    markDamaged(space, e, err.reason)
    return none
  }
}

/**
 * A document whose synced state is outside the limits (stored before they existed): held with the
 * reason, for good. Nothing is written to the file or sent to peers (local edits and deletions are not
 * taken in, its conflicts are not listed), and nothing from them is applied; every other file syncs on.
 * Removing its sidecar (with no ctxsync running) rebuilds it from the file.
 */
export function markDamaged(space: Space, e: DocEntry, reason: string): void {
  if (e.damaged !== null) return
  e.damaged = reason
  e.state = 'refused'
  e.problem = { line: 1, col: 1, message: `its sync state is damaged (${reason}): the file is held and not synced; to rebuild it from the file, stop ctxsync, delete its sidecar under .ctxsync/docs and start again` }
  space.warn(`${e.name}: ${e.problem.message}`)
  space.emit('held', e.name, e.problem)
}
