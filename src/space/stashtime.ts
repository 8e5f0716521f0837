/**
 * When the text an (auto)stash holds became the live context here: the merge driver's time for a stashed
 * side that is not a fresh edit.
 *
 * Why: a stash is this clone's uncommitted work, and its commit is made at the stash — the pull's time. But
 * what it holds is often a peer's value the daemon wrote before it was stopped: stamped with the pull's time
 * it looked later than the newer value a teammate committed since, and won (an older value committed over a
 * newer one). When the stashed text is the file's last synced text (the sidecar's base hash), its time is
 * the last time this document's sidecar changed — no later than the value's arrival or the daemon's stop.
 * A stashed text the sidecar never saw is an edit made with no daemon running: its time is unknown, and the
 * stash's time stays.
 */
import fsp from 'node:fs/promises'
import path from 'node:path'
import { fileKey } from '../fs/sidecar.js'
import { readMeta } from './filemeta.js'
import { FileDocStore } from '../fs/sidecar.js'
import { asDocName, sha256hex } from '../ids.js'

/** Seconds since the epoch, or null when the text is not what the live context last held here. */
export async function liveTextTime(docsDir: string, name: string, text: string): Promise<number | null> {
  const store = new FileDocStore({ dir: docsDir })
  try {
    const d = await store.load(asDocName(name)).catch(() => null)
    if (!d || readMeta(d.meta).meta.base.hash !== sha256hex(text)) return null
    const key = fileKey(name)
    const times = await Promise.all(['log', 'snap'].map((x) => fsp.stat(path.join(docsDir, `${key}.${x}`)).then((s) => s.mtimeMs, () => 0)))
    const t = Math.max(...times)
    return t > 0 ? Math.floor(t / 1000) : null
  } finally {
    await store.close().catch(() => undefined)
  }
}
