/**
 * A save that may still be under way when a write-back comes. A writer that rewrites a file in place in
 * several writes (a large buffer written in chunks, an agent streaming its output) shows the watcher its
 * first part alone; when that part parses it is taken in, and a peer's change arriving then made the daemon
 * rename its merge over the file — the writer's remaining bytes went to the replaced inode, the rest of its
 * save lost on every peer (live edit generator, a "chunked" save whose first part changed an early line).
 *
 * A first part is shorter than the text it replaces, so a save that shrank the file is watched: a write-back
 * while that file was written less than QUIET_MS ago waits until it has been left alone that long (or
 * MAX_WAIT_MS at most), and then finds the rest of the save on disk (writeFileAtomicIf sees the change, the
 * caller takes it in first). Only shrinking saves wait: a file written again and again (an agent's ticker)
 * is never quiet, and waiting on every save starved its write-backs (an unbounded wait was tried and removed).
 */
import fs from 'node:fs/promises'

const QUIET_MS = 150
const MAX_WAIT_MS = 1000

const shrunk = new WeakMap<object, number>()

/** A save of `text` was taken in over `before` (the file's text as the model knew it). */
export function noteSave(file: object, text: string, before: string | null): void {
  if (before !== null && text.length < before.length) shrunk.set(file, Date.now())
  else shrunk.delete(file)
}

/** Before writing over `abs`: if its last save shrank it and it is still being written, wait (bounded). */
export async function untilWriterDone(file: object, abs: string): Promise<void> {
  const at = shrunk.get(file)
  if (at === undefined || Date.now() - at > MAX_WAIT_MS) return
  const end = at + MAX_WAIT_MS
  for (;;) {
    const st = await fs.stat(abs).catch(() => null)
    const now = Date.now()
    if (!st || now - st.mtimeMs >= QUIET_MS || now >= end) return
    await new Promise((r) => setTimeout(r, Math.min(QUIET_MS - (now - st.mtimeMs), end - now)))
  }
}
