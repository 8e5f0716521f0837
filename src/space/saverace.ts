/**
 * A save racing peers' changes on live peers (issue 13 item 6, bench/simultaneous.mjs): two people change
 * one value at about the same time, each daemon takes its own save in when its document's turn comes.
 */
import { stat } from 'node:fs/promises'
import type { FileModel } from '../crdt/model.js'
import { CONFLICTS } from '../crdt/schema.js'
import type { TrackedFile } from './trackedfile.js'

/** Beyond this a file's mtime is a time carried with it (`cp -p`, tar, rsync -t), not when it was saved here. */
const LIVE_SAVE_MS = 60_000
/**
 * A save taken in sooner than this is timed now: file times come from the kernel's coarse clock (a few ms
 * behind the one writes are stamped with), and a save made right after a peer's change reached this machine
 * read as made before it — the peer's older value won (CI, held.test.ts 'the broken save had changed it').
 */
const PROMPT_MS = 50

/**
 * When the save of `text` was written (seconds), as its values' write time. The turn that takes it in may
 * come long after (a peer's write-back first, fsyncs, a loaded machine: up to 800 ms in the bench), and
 * timed by that, of two saves the earlier write won on every peer. Undefined (then: now) for a file that
 * changed again since (its own event follows) or an old mtime.
 */
export async function writtenAt(abs: string, text: string): Promise<number | undefined> {
  const st = await stat(abs).catch(() => null)
  const now = Date.now()
  if (!st || st.size !== Buffer.byteLength(text) || now - st.mtimeMs > LIVE_SAVE_MS || now - st.mtimeMs < PROMPT_MS) return undefined
  return Math.min(st.mtimeMs, now) / 1000
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
 * both models showed the peer's later one (simultaneous.test.ts).
 */
export function ingestTimed(model: FileModel, text: string, cut: boolean, at: number | undefined): ReturnType<FileModel['ingest']> {
  const out = model.ingest(text, cut, false, at)
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
