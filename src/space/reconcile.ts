/**
 * Keeping a tracked file and its model in step. Three moves, each run inside a turn of the document's
 * worker (`worker.ts`), so they never interleave for one document:
 *
 *  - `takeInSave`: the file changed on disk (an editor, an agent, git). A file that does not parse is
 *    *held*: nothing from it reaches the CRDT, and remote changes wait in the CRDT until it parses again;
 *    the edit is then diffed against the text the user last had (the base), so both sides merge.
 *  - `writeBack`: the model changed (a peer, a resolution). The rendering is written atomically — unless
 *    the file is held, or changed on disk since we last saw it (then that change is taken in first and the
 *    merged result written), or the model waits for updates it depends on.
 *  - `reconcile`: startup / `sync` / after git — decides which of the two applies from the hashes kept in
 *    the sidecar meta, so edits made while no ctxsync ran are taken in once and never lost.
 *
 * Echoes are recognised by content hash: the hash of what we wrote is the file's known state, and an event
 * carrying that hash is our own write coming back. All state changes go through `TrackedFile`'s methods.
 */
import path from 'node:path'
import { RefusedFileError, YamlSyntaxError } from '../crdt/model.js'
import { DamagedStateError } from '../crdt/limits.js'
import { describeKept, keepFormat, type KeepFormatResult } from '../crdt/keepformat.js'
import { readTextFile, removeFile, SymlinkRefusedError, writeFileAtomicIf } from '../fs/atomic.js'
import { sha256hex } from '../ids.js'
import type { DocTurn, FileContext } from './context.js'
import { tooCostly } from './parsecheck.js'
import type { FileProblem, TrackedFile } from './trackedfile.js'
import { awaitingJoin, joined, takeJoin, type JoinBase } from './join.js'
import { saveMerge } from './mergestore.js'
import { spacePaths } from './paths.js'
import { committedCredit } from './enrollcredit.js'
import { noteSave, untilWriterDone } from './midsave.js'
import { CUT, cutMidSave, mayBeFirstPart, settleMs } from './cuthold.js'
import { ingestTimed, racedPeers, writeTime, writtenAt } from './saverace.js'
import { heldReason } from './markers.js'

export type ReconcileResult = 'enrolled' | 'ingested' | 'written' | 'deleted' | null

export async function reconcile(cx: FileContext, d: DocTurn): Promise<ReconcileResult> {
  return unlessDamaged(cx, d.file, null, () => reconcileFile(cx, d))
}

async function reconcileFile(cx: FileContext, d: DocTurn): Promise<ReconcileResult> {
  const f = d.file
  const read = await readTextFile(path.join(cx.root, f.name), { within: cx.root })
  if (read.kind === 'missing') {
    if (!f.model.exists()) {
      f.sawAbsent()
      return null
    }
    // It was on disk when we last looked and is gone now: deleted while no ctxsync ran.
    if (f.baseHash) return void f.deletedWhileAway(), cx.notify('deleted-here', f.name), 'deleted'
    f.sawAbsent()
    return (await writeBack(cx, d)) ? 'written' : null
  }
  if (read.kind === 'unreadable') {
    markUnreadable(cx, f, read.reason)
    return null
  }
  const j = awaitingJoin(f)
  if (j) return (await joinOrWait(cx, d, j, read.hash)) ? 'ingested' : null
  if (f.model.isEmpty || !f.model.exists()) return (await takeInSave(cx, d, read.text, read.hash)) ? 'enrolled' : null
  // Seen on disk in this session (a scan at a join's end, the take-in after a git command): what changed since
  // is a save like any the watcher reports, diffed against the texts the file held (crdt/recent.ts). The
  // paths below are for a first look; taken for an offline edit made from no text they know, the save was
  // diffed against nothing and re-authored every value the file had not shown yet (network-faults relay,
  // seed 68571: a peer's old titles and deleted items written back over three peers' work).
  if (f.disk.kind === 'file' && f.state === 'ok' && f.model.baseText !== null) {
    if (!f.diskIs(read.hash)) return (await takeInSave(cx, d, read.text, read.hash)) ? 'ingested' : null
    return (await writeBack(cx, d)) ? 'written' : null
  }
  // The file usually holds exactly the model's rendering: passing it spares checking the rendering parses.
  const r = f.model.render(read.text)
  if (r.text === read.text) {
    f.matchesRendering(r, read.hash)
    return null
  }
  // What we left: the text meta kept (the file's while the model was ahead of it: a write under way, peers'
  // changes arrived, a hold), else the last synced text. A kept text other than the last synced one is the
  // truth: a save taken in whose merge was not written yet, or the last good text of a held file.
  const kept = f.keptBase
  const left = kept?.text ? sha256hex(kept.text) : f.baseHash
  if (read.hash === f.writing?.hash || read.hash === left || f.tookInBeforeDeath(read.hash)) {
    // The file is what we left (our last write, or a save taken in, if we died before noting it as the
    // base); the model moved on (changes arrived, the write was not done yet).
    f.sawOnDisk(read.hash)
    // Its text is the base until the write-back, and meta keeps it before that write: should we die before
    // the rename and the user edit the file, the edit is diffed against it (found by the crash test: a
    // restart that took the model's rendering for the base undid peers' changes the file had not shown).
    const known = [f.keptBase, f.writing].find((m) => m?.text === read.text && Array.isArray(m.ids))
    f.model.fileBehind(read.text, r, known?.ids ?? null)
    await d.persist(f.keepBase() ? 'now' : null)
    return (await writeBack(cx, d)) ? 'written' : null
  }
  // Edited while no ctxsync ran: diffed against the text it was made from (restartBases).
  const { certain, maybe, history } = f.restartBases()
  if (certain) f.model.recall([certain, ...(maybe ? [maybe] : [])], r)
  else if (f.baseHash && r.text !== null && sha256hex(r.text) === f.baseHash) {
    // The file was the rendering; a save made from a text it held before (an editor buffer, an agent that
    // read it earlier) is told by those texts (newest first in meta), as in a live session (`crdt/recent.ts`).
    if (history.length === 0) f.model.setBase(r)
    else f.model.recall([...[...history].reverse().map((text) => ({ text, ids: null })), { text: r.text, ids: f.model.idsOf(r) }], r)
  } else f.model.setBase({ text: null, ir: null, complete: true })
  // Timed when it was saved: an offline value older than a peer's live one must not win as the later edit.
  return (await takeInSave(cx, d, read.text, read.hash, true, Math.min(read.mtimeMs, Date.now()) / 1000)) ? 'ingested' : null
}

/**
 * Takes in new file content (a save, or what was found on disk). Returns true when the model changed.
 * `write: false`: the file is left as it is even when peers' changes were merged in (a file `git stash`
 * holds: gitwatch.ts); the next save is diffed against `text`. `at`: when it was written (seconds:
 * `writeTime` of the mtime read with it); else from the file's mtime now.
 */
export async function takeInSave(cx: FileContext, d: DocTurn, text: string, hash: string, write = true, at?: number): Promise<boolean> {
  return unlessDamaged(cx, d.file, false, () => takeText(cx, d, text, hash, false, write, at))
}

/**
 * Takes in git's revert of the file (`git checkout -- FILE`, `git restore FILE`: gitingest.ts) as a whole-file
 * write on purpose, as `restore` writes one: diffed against the file's last text, never read as a stale save
 * nor held as cut short (git is done writing when its watch hands the file over). Read as any save, HEAD's
 * text made after more saves than the recent texts keep matched none of them, and the revert was taken as
 * a stale buffer: the newest saves stayed, said as peers' changes (black-box tester, issue 15).
 */
export async function takeInRevert(cx: FileContext, d: DocTurn, text: string, hash: string): Promise<boolean> {
  return unlessDamaged(cx, d.file, false, () => takeText(cx, d, text, hash, false, true, undefined, true))
}

async function settleCut(cx: FileContext, d: DocTurn): Promise<void> {
  if (d.file.problem !== CUT) return // taken in or held for another reason meanwhile
  const read = await readTextFile(path.join(cx.root, d.file.name), { within: cx.root })
  if (read.kind !== 'text') return // gone or unreadable: the watcher reports it
  // Written again since (the save still under way, or the next one): look again once it has been left alone.
  const age = Date.now() - read.mtimeMs
  const wait = settleMs(d.file, read.text)
  if (age < wait) return d.later(wait - age, () => settleCut(cx, d))
  await unlessDamaged(cx, d.file, false, () => takeText(cx, d, read.text, read.hash, true, true, writeTime(d.file, read.mtimeMs)))
}

async function takeText(cx: FileContext, d: DocTurn, text: string, hash: string, settled = false, write = true, at?: number, revert = false): Promise<boolean> {
  const f = d.file
  const j = awaitingJoin(f)
  if (j) return joinOrWait(cx, d, j, hash)
  if (f.diskIs(hash) && f.state === 'ok' && !settled) return false
  f.sawOnDisk(hash)
  if (!settled && !revert && mayBeFirstPart(f, text)) {
    if (f.problem !== CUT) d.later(settleMs(f, text), () => settleCut(cx, d))
    f.held(CUT)
    return false
  }
  const wasCut = f.problem === CUT
  // Still cut when the hold ended: the save that completes it is diffed against it (crdt/recent.ts).
  const cut = settled && cutMidSave(f, text)
  // A file whose CRDT work would block the daemon for long is held before that work starts.
  const costly = await tooCostly(cx.parseCheck, text, f.model.isEmpty ? null : (f.model.baseText?.length ?? null))
  if (costly !== null) {
    await hold(cx, f, { line: 1, col: 1, message: costly })
    return false
  }
  let out: ReturnType<typeof f.model.ingest>
  // Should we die once its operations are stored but before the merge is written, the next start must know
  // the file holds a save already taken in (reconcileFile): taken in again, against an older text, it
  // doubled what it added; against the model's rendering, it undid the peers' changes it was merged with.
  if (!f.model.isEmpty) await d.persist(f.takingIn(text, hash))
  const deliberate = !f.model.isEmpty && ((await cx.deliberate(f.name, hash)) ?? revert)
  at ??= await writtenAt(f, path.join(cx.root, f.name))
  const before = f.model.baseText
  const credit = f.model.isEmpty ? await committedCredit(cx, f.name, text) : undefined
  const raced = racedPeers(f)
  try {
    out = f.model.isEmpty ? { ...f.model.enroll(text, undefined, credit), changed: true } : deliberate ? ingestTimed(f.model, text, cut, at, deliberate) : ingestTimed(f.model, keptFormat(cx, f, text), cut, at)
  } catch (err) {
    if (err instanceof YamlSyntaxError) {
      await hold(cx, f, { line: err.line, col: err.col, message: err.reason })
      return false
    }
    if (err instanceof RefusedFileError) {
      f.refused(err.reason)
      cx.notify('refused', f.name, err.reason)
      return false
    }
    throw err
  }
  noteSave(f, text, before)
  if (f.tookIn() && !wasCut) cx.notify('released', f.name)
  if (out.changed) cx.notify('took-in', f.name, out.undid)
  // Made from an older text than the file's last: say what was kept (a person wrote over a newer file).
  if (out.stale && (out.stale.kept || out.stale.overwritten || out.stale.values?.length) && !raced) cx.notify('stale-save', f.name, out.stale)
  if (out.complete && out.text !== null && out.text !== text) {
    // Peers' changes arrived meanwhile (e.g. while the file was held): write the merged text. If the file
    // changed yet again first, that newer text was made from `text`: diff it with that, not with the merge
    // (the watcher brings it).
    if (!write || (await writeText(cx, d, out.text, hash, f.model.idsOf(out))) !== 'written') f.model.keepIngestedAsBase()
  }
  f.finishedWrite()
  f.noteSeen(hash)
  return out.changed
}

/**
 * A whole-file rewrite by a YAML library, from a peer whose saves keep the format (`keep-format`), is taken
 * in as its data changes applied to the base text (crdt/keepformat.ts): the caller then writes that text
 * back over the dump, as it writes any merge. Everything else is taken in as it is.
 */
function keptFormat(cx: FileContext, f: TrackedFile, text: string): string {
  // The text the dump was made from (an older one when its data shows none of the peers' changes since).
  const base = f.model.dumpBase(text)
  const rules = base === null ? null : cx.keepFormat(f.name)
  if (base === null || rules === null) return text
  let r: KeepFormatResult
  try {
    r = keepFormat(base, text, rules)
  } catch (err) {
    r = { kind: 'failed', reason: (err as Error).message }
  }
  if (r.kind === 'none') return text
  if (r.kind === 'failed') {
    cx.warn(`${f.name}: a whole-file rewrite by a YAML library was taken in as it is (formatting not kept: ${r.reason})`)
    return text
  }
  const message = describeKept(f.name, r.changes)
  f.keptFormat(message)
  cx.notify('format-kept', f.name, message)
  cx.notify('summary')
  return r.text
}

/** Writes the model's rendering if it differs from the file. Returns true when the file was written. */
export async function writeBack(cx: FileContext, d: DocTurn): Promise<boolean> {
  return unlessDamaged(cx, d.file, false, () => writeModel(cx, d))
}

async function writeModel(cx: FileContext, d: DocTurn): Promise<boolean> {
  const f = d.file
  if (f.state !== 'ok') {
    if (f.state === 'held') f.keepBase()
    return false
  }
  // No state at all (a file awaiting the live state of a join no peer answered yet): nothing to write. Written,
  // the empty model removed the file and the member's offline edit in it after any git command (tester stop 33 N1).
  if (f.model.isEmpty) return false
  const j = awaitingJoin(f)
  if (j) return joinLive(cx, d, j)
  // Not looked at the file since the space was opened (e.g. `resolve` without a daemon): without knowing
  // what is on disk a write would either be refused or, worse, the file's stale text later taken in as an
  // edit that undoes this change. Reconcile decides (and writes the model once the disk is known).
  if (f.disk.kind === 'unknown') return (await reconcile(cx, d)) === 'written'
  const def = f.model.renderDeferred()
  // A state that waits for updates it depends on is not written, for a while (`incomplete.ts`).
  const complete = ('rendered' in def ? def.rendered : def).complete
  if (!f.incomplete.writable(complete, (ms) => d.later(ms, async () => (f.incomplete.retried(), writeBack(cx, d)), false))) return false
  if (f.incomplete.firstLateWrite(complete)) cx.warn(`${f.name}: a peer's update still waits for one it depends on; the file shows what arrived meanwhile (the rest is applied when it comes)`)
  const r = 'rendered' in def ? def.rendered : def.finish(await cx.parseCheck.check(def.text))
  const abs = path.join(cx.root, f.name)
  if (r.text === null) {
    // Anything on disk we have not seen yet is a local edit: take it in first (it writes the merge).
    const read = await readTextFile(abs, { within: cx.root })
    const now = read.kind === 'missing' ? null : read.kind === 'unreadable' ? 'unreadable' : read.hash
    if (now !== f.diskHash) return read.kind === 'text' ? takeInSave(cx, d, read.text, read.hash, true, writeTime(f, read.mtimeMs)) : false
    if (!f.diskHash || cx.gitHold?.(f.name)) return false
    await removeFile(abs, { within: cx.root })
    f.removed()
    cx.notify('file-deleted', f.name)
    return true
  }
  if (f.diskHash && sha256hex(r.text) === f.diskHash) {
    f.model.setBase(r)
    return false
  }
  // The file is not read first: the write checks at the rename that the file still holds what we last saw,
  // and reports what it holds instead. Anything we have not seen is a local edit: taken in first, which
  // writes the merge. Deleted or unreadable: the watcher reports it, and deletion is handled there.
  const w = await writeText(cx, d, r.text, f.diskHash, f.model.idsOf(r))
  if (w !== 'written') return w !== null && w.text !== null ? takeInSave(cx, d, w.text, w.hash) : false
  f.model.setBase(r)
  f.finishedWrite()
  return true
}

/**
 * A file awaiting the join (join.ts): with no live state yet it stays as it is (saves stay on disk, none
 * is enrolled); once the live state arrived it is joined.
 */
async function joinOrWait(cx: FileContext, d: DocTurn, j: JoinBase, hash: string): Promise<boolean> {
  if (d.file.model.isEmpty) {
    d.file.sawOnDisk(hash)
    return false
  }
  return joinLive(cx, d, j)
}

/**
 * The live state arrived for a file that held a committed version: that version is an old rendering, so
 * only the member's own changes since (join.ts `joinedText`) are taken in, diffed against the live
 * rendering, and the merge is written. Returns true when the file or the model changed.
 */
async function joinLive(cx: FileContext, d: DocTurn, j: JoinBase): Promise<boolean> {
  const f = d.file
  const r = f.model.render()
  // The state waits for updates it depends on: the write-back that completes it joins.
  if (!r.complete) return false
  const read = await readTextFile(path.join(cx.root, f.name), { within: cx.root })
  if (read.kind === 'unreadable') {
    markUnreadable(cx, f, read.reason)
    return false
  }
  joined(f)
  if (read.kind === 'missing') {
    f.sawAbsent()
    return writeModel(cx, d)
  }
  f.sawOnDisk(read.hash)
  f.noteSeen(read.hash)
  let took: boolean
  try {
    // Timed when the file was last written: that is when the clone made its edits.
    took = await takeJoin(f.model, j, r, read.text, Math.min(read.mtimeMs, Date.now()) / 1000, cx.author && {
      author: cx.author, save: (text, model) => saveMerge(spacePaths(cx.root), f.name, [{ whole: true, wrapper: null, text, model }]),
    })
  } catch (err) {
    if (err instanceof YamlSyntaxError) await hold(cx, f, { line: err.line, col: err.col, message: err.reason })
    else if (err instanceof RefusedFileError) f.refused(err.reason)
    else throw err
    return false
  }
  const wrote = await writeModel(cx, d)
  f.recordSettledBase(f.diskHash)
  return wrote || took
}

/**
 * Writes `text` unless the file changed since `expected` (a newer local save must never be overwritten;
 * the caller takes it in). Returns 'written', or what the file held instead (null: absent or unknown).
 */
async function writeText(cx: FileContext, d: DocTurn, text: string, expected: string | null, ids: string[]): Promise<'written' | { hash: string; text: string | null } | null> {
  const f = d.file
  // What the file holds now, as one of the model's recent texts (the base, or a save just taken in).
  await untilWriterDone(f, path.join(cx.root, f.name))
  const replaced = expected === null ? null : f.model.heldText((t) => sha256hex(t) === expected)
  // Note what we are about to write before writing it: a kill -9 right after the write must not leave a
  // file that the next start mistakes for an offline edit (and re-authors every value in it). Not fsynced:
  // this guards against the process dying, and meta can be recomputed. This is the one meta write that
  // cannot wait for the end of the turn.
  await d.persist(f.startedWrite(text, ids, replaced))
  // Checked right at the rename (see writeFileAtomicIf): a save landing while the temp file is written and
  // fsynced is never overwritten.
  // A write begun before git started must not land under its feet: `git pull --rebase` refused its pick
  // over a context file the daemon wrote after the checkout onto upstream (issue 15). Asked at the rename.
  const hold = cx.gitHold ? () => cx.gitHold!(f.name) : undefined
  const w = await writeFileAtomicIf(path.join(cx.root, f.name), text, expected, { within: cx.root, hold }).catch((err: unknown) => {
    // The file (or a directory on its way) became a link: not ours to write; the watcher reports it.
    if (err instanceof SymlinkRefusedError) return { kind: 'changed' as const, now: null }
    throw err
  })
  if (w.kind === 'held') return void f.abortedWrite(), null
  if (w.kind === 'changed') {
    f.abortedWrite()
    return w.now
  }
  f.wrote(w.hash)
  cx.notify('file-written', f.name)
  return 'written'
}

async function hold(cx: FileContext, f: TrackedFile, problem: FileProblem): Promise<void> {
  const p = { ...problem, message: await heldReason(cx.root, f.name, problem.message) }
  if (f.held(p)) cx.notify('held', f.name, p)
}

/** A tracked file that cannot be synced as it is (binary, not UTF-8, too large, a link): held with why. */
export function markUnreadable(cx: FileContext, f: TrackedFile, reason: string): void {
  cx.notify('held', f.name, f.unreadable(reason))
}

/**
 * Runs file work for a document unless its state is damaged; a rendering that finds it damaged (over the
 * limits of `crdt/limits.ts`) holds it from then on instead of failing the caller.
 */
export async function unlessDamaged<T>(cx: FileContext, f: TrackedFile, none: T, work: () => Promise<T>): Promise<T> {
  if (f.damaged !== null) return none
  try {
    return await work()
  } catch (err) {
    if (!(err instanceof DamagedStateError)) throw err
    markDamaged(cx, f, err.reason)
    return none
  }
}

/**
 * A document whose synced state is outside the limits (stored before they existed): held with the
 * reason, for good. Nothing is written to the file or sent to peers (local edits and deletions are not
 * taken in, its conflicts are not listed), and nothing from them is applied; every other file syncs on.
 * Removing its sidecar (with no ctxsync running) rebuilds it from the file.
 */
export function markDamaged(cx: FileContext, f: TrackedFile, reason: string): void {
  const problem = f.damagedState(reason)
  if (!problem) return
  cx.warn(`${f.name}: ${problem.message}`)
  cx.notify('held', f.name, problem)
}
