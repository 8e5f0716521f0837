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
import { RefusedFileError, YamlSyntaxError } from '../crdt/model.js'
import { readTextFile, removeFile, writeFileAtomic } from '../fs/atomic.js'
import { sha256hex } from '../ids.js'
import type { DocEntry } from './entry.js'
import { noteSeen } from './seen.js'
import type { Space } from './space.js'

export type ReconcileResult = 'enrolled' | 'ingested' | 'written' | 'deleted' | null

export async function reconcile(space: Space, e: DocEntry): Promise<ReconcileResult> {
  const abs = path.join(space.root, e.name)
  const read = await readTextFile(abs)
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
  if ((read.hash === e.meta.baseHash || read.hash === e.meta.writing) && !e.meta.baseText) {
    // The file is what we left (or our last write, if we died before noting it as the base); the model
    // moved on (changes arrived, the write was not done yet).
    e.diskHash = read.hash
    e.model.setBase(r)
    return (await writeBack(space, e)) ? 'written' : null
  }
  // Edited while no ctxsync ran: diff against what the file held when we last synced it.
  if (e.meta.baseText && Array.isArray(e.meta.baseIds)) e.model.restoreBase(e.meta.baseText, e.meta.baseIds as string[])
  else if (e.meta.baseHash && r.text !== null && sha256hex(r.text) === e.meta.baseHash) e.model.setBase(r)
  else e.model.setBase({ text: null, ir: null, complete: true })
  return (await enrollOrIngest(space, e, read.text, read.hash)) ? 'ingested' : null
}

/** Takes new file content. Returns true when the model changed. */
export async function enrollOrIngest(space: Space, e: DocEntry, text: string, hash: string): Promise<boolean> {
  if (hash === e.diskHash && e.state === 'ok') return false
  e.diskHash = hash
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
    // Peers' changes arrived meanwhile (e.g. while the file was held): write the merged text.
    await writeText(space, e, out.text, hash)
  }
  e.meta.baseHash = e.diskHash ?? undefined
  delete e.meta.baseText
  delete e.meta.baseIds
  delete e.meta.writing
  noteSeen(e, hash)
  e.saveMeta()
  return out.changed
}

/** Writes the model's rendering if it differs from the file. Returns true when the file was written. */
export async function writeBack(space: Space, e: DocEntry): Promise<boolean> {
  if (e.state !== 'ok') {
    if (e.state === 'held') keepBase(e)
    return false
  }
  // Not looked at the file since the space was opened (e.g. `resolve` without a daemon): without knowing
  // what is on disk a write would either be refused or, worse, the file's stale text later ingested as an
  // edit that undoes this change. Reconcile decides (and writes the model once diskHash is known).
  if (e.diskHash === undefined) return (await reconcile(space, e)) === 'written'
  const r = e.model.render()
  if (!r.complete) return false
  const abs = path.join(space.root, e.name)
  // Anything on disk we have not seen yet is a local edit: take it in first, it writes the merge.
  const read = await readTextFile(abs)
  const now = read.kind === 'missing' ? null : read.kind === 'unreadable' ? 'unreadable' : read.hash
  if (now !== e.diskHash) {
    if (read.kind === 'text') return enrollOrIngest(space, e, read.text, read.hash)
    return false // deleted or unreadable: the watcher reports it, and deletion is handled there
  }
  if (r.text === null) {
    if (!e.diskHash) return false
    await removeFile(abs)
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
  await writeText(space, e, r.text, e.diskHash ?? null)
  e.model.setBase(r)
  e.meta.baseHash = e.diskHash ?? undefined
  delete e.meta.baseText
  delete e.meta.baseIds
  delete e.meta.writing
  e.saveMeta()
  return true
}

/**
 * Writes `text` unless the file changed since `expected` (a newer local save must never be overwritten;
 * the watcher delivers it and the next write includes it).
 */
async function writeText(space: Space, e: DocEntry, text: string, expected: string | null): Promise<void> {
  const abs = path.join(space.root, e.name)
  const read = await readTextFile(abs)
  const now = read.kind === 'text' ? read.hash : read.kind === 'missing' ? null : 'unreadable'
  if (expected !== null && now !== expected) return
  if (expected === null && now !== null) return
  // Note what we are about to write before writing it: a kill -9 right after the write must not leave a
  // file that the next start mistakes for an offline edit (and re-authors every value in it). Not fsynced:
  // this guards against the process dying, and meta can be recomputed.
  e.meta.writing = sha256hex(text)
  await e.saveMeta(true)
  const w = await writeFileAtomic(abs, text)
  e.diskHash = w.hash
  noteSeen(e, w.hash)
  space.written.add(e.name)
  space.emit('file-written', e.name)
}

function hold(space: Space, e: DocEntry, problem: { line: number; col: number; message: string }): void {
  const first = e.state !== 'held' || e.problem?.line !== problem.line || e.problem.message !== problem.message
  e.state = 'held'
  e.problem = problem
  keepBase(e)
  if (first) space.emit('held', e.name, problem)
}

function markUnreadable(space: Space, e: DocEntry, reason: string): void {
  const message =
    reason === 'binary' || reason === 'not-utf8'
      ? 'not UTF-8 text: ctxsync only syncs text YAML files'
      : reason === 'too-large'
        ? 'too large to sync'
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
