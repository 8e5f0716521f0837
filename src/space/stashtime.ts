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
import { FileModel } from '../crdt/model.js'
import type { Rules } from '../crdt/rules.js'
import { writerAt } from '../crdt/merge/place.js'
import type { Credit } from './mergefile.js'

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

/**
 * The values of a stashed side that are the live context's here, with who wrote each and when (the CRDT's
 * authorship): a stash is this clone's uncommitted work, but what it holds is mostly peers' values the daemon
 * wrote — credited to this peer at the pop, a teammate's value looked like this clone's own, made at the pull.
 * `wants`: the stashed side's values in conflict, by path. Values the live context does not hold (an edit made
 * with no daemon running) keep the stash's author and time.
 */
export async function liveCredits(docsDir: string, name: string, rules: Rules, wants: ReadonlyArray<{ path: Array<string | number>; desc: string }>): Promise<Credit[]> {
  if (wants.length === 0) return []
  const store = new FileDocStore({ dir: docsDir })
  const live = new FileModel({ name, author: { id: 'merge:stash', name: 'stash', kind: 'human' }, rules })
  try {
    const d = await store.load(asDocName(name)).catch(() => null)
    if (!d) return []
    live.load(d.updates)
    return wants.flatMap((w) => {
      const by = writerAt(live, w.path, w.desc)
      return by ? [{ path: w.path, desc: w.desc, ...by }] : []
    })
  } finally {
    live.destroy()
    await store.close().catch(() => undefined)
  }
}
