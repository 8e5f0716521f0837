/**
 * A save racing peers' changes on live peers (issue 13 item 6, bench/simultaneous.mjs): two people change
 * one value at about the same time, each daemon takes its own save in when its document's turn comes.
 */
import { stat } from 'node:fs/promises'
import type { FileModel } from '../crdt/model.js'
import { CONFLICTS, type RevertMark } from '../crdt/schema.js'
import type { TrackedFile } from './trackedfile.js'

/** Beyond this a file's mtime is a time carried with it (`cp -p`, tar, rsync -t), not when it was saved here. */
const LIVE_SAVE_MS = 60_000
/**
 * How far a file's mtime may lag the write: file times come from the kernel's coarse clock, up to one tick
 * behind the clock Date.now() reads (4 ms at HZ=250, measured here up to 4.6 ms; 10 ms at HZ=100). Two saves
 * further apart than this are ordered right; closer, either may win (the same on every peer).
 */
const MTIME_LAG_MS = 10
/** A file system that keeps whole seconds (HFS+, FAT, some network mounts): an mtime lags up to one. */
const SECOND_MS = 1000

/**
 * When a save was written (seconds), from the mtime read with its text: a time not before the write and at
 * most one lag after it — the mtime plus its clock's lag, but never later than now (the save was read by
 * then) nor earlier than our last write to the file (the save replaced it). So two saves, or a save and a
 * value timed when it was made, compare as their writes did whenever these were more than the lag apart.
 * Timed by when the model took it in instead (parsing and diffing came first: up to 180 ms after the turn
 * looked, on a loaded machine), the later *detected* of two saves won on every peer (tester finding 7;
 * bench/simultaneous.mjs --apart 20-400: 7 races of 21 won by the earlier write). Undefined (then: now)
 * for an mtime carried from elsewhere.
 */
export function writeTime(file: TrackedFile, mtimeMs: number): number | undefined {
  const now = Date.now()
  if (now - mtimeMs > LIVE_SAVE_MS) return undefined
  const lag = mtimeMs % SECOND_MS === 0 ? SECOND_MS : MTIME_LAG_MS
  return Math.max(Math.min(mtimeMs + lag, now), file.wroteAt) / 1000
}

/**
 * `writeTime` of a save whose read did not keep its mtime (git's writes, a write-back that found the file
 * changed): the file's mtime now. Written again since, that is a later write's: still not before `text`'s.
 */
export async function writtenAt(file: TrackedFile, abs: string): Promise<number | undefined> {
  const st = await stat(abs).catch(() => null)
  return st ? writeTime(file, st.mtimeMs) : undefined
}

/**
 * The file has not shown changes the model holds (peers' changes whose write-back is not done yet, the
 * text kept for them in meta; or a hold): a save of it races those changes. The model takes it in as a
 * stale save of that text (what it overwrote is recorded, the later write shows), but it is no old buffer of
 * the person's: nothing to say beyond the conflict ("you and b changed it at once"). Asked right before the
 * save is taken in: peers' updates are applied between the steps of its turn (bench/simultaneous.mjs found
 * one landing while the turn stored what it was about to take in).
 */
export function racedPeers(f: TrackedFile): boolean {
  return f.keptBase !== null && f.model.render().text !== f.model.baseText
}

/**
 * `model.ingest` of a save timed `at`. Its rendering is made before the races it joined are settled (the
 * later write shows: crdt/heads.ts), so where the model holds records the rendering to write is the one
 * after: with the first, a save taken in at a write-back that found it kept its own value in the file while
 * both models showed the peer's later one (simultaneous.test.ts). `deliberate`: a whole-file write on purpose
 * (`restore`, `undo`, git's revert), timed by its write too: timed when taken in, it won over a later save.
 */
export function ingestTimed(model: FileModel, text: string, cut: boolean, at: number | undefined, deliberate: boolean | RevertMark = false): ReturnType<FileModel['ingest']> {
  const out = model.ingest(text, cut, deliberate, at)
  if (at === undefined || !out.complete || model.doc.getMap(CONFLICTS).size === 0) return out
  const after = model.render(text)
  // The rendering written is the next save's base, not the one `ingest` kept (before the later write was
  // shown): diffed against that, a save made from the file took the peer's value the file showed for its
  // own edit, and wrote it again over what the peer had written since (the network-faults ring: a peer's
  // old value re-authored by another).
  if (after.complete && after.text !== out.text) {
    model.keepIngestedAsBase()
    model.setBase(after)
  }
  return { ...out, ...after }
}
