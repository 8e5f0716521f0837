/**
 * Settings changed under a running daemon. The daemon reads `ctxsync.yaml` and `.ctxsync/local.yaml` once,
 * at start; an edit of either (a teammate's pulled change, a new tracked glob, a peer added) took effect
 * only at the next start, and nothing said so (issue 17). It says so now, once per change of content, with
 * the command that applies it. Watching the directories rather than the files follows editors that save
 * by renaming a new file over the old one.
 *
 * Judged against what the daemon started with, not against the last look: `git switch --detach` to a commit
 * without ctxsync.yaml and back said "changed" twice, the second time for the very text the daemon runs with.
 */
import { watch, type FSWatcher } from 'node:fs'
import fs from 'node:fs/promises'
import path from 'node:path'

/** Stops watching; `ready` settles once the files are read and watched (tests wait for it). */
export type StopWatching = (() => void) & { ready: Promise<void> }

export function watchSettings(files: readonly string[], say: (line: string) => void, restartHint: string): StopWatching {
  const started = new Map<string, string | null>()
  const seen = new Map<string, string | null>()
  /** Files said to differ from what the daemon started with, and not said back since. */
  const told = new Set<string>()
  const read = (f: string) => fs.readFile(f, 'utf8').catch(() => null)
  const watchers: FSWatcher[] = []
  const timers = new Map<string, NodeJS.Timeout>()
  let closed = false
  const ready = Promise.all(files.map(async (f) => {
    const t = await read(f)
    started.set(f, t)
    seen.set(f, t)
  })).then(() => {
    if (closed) return
    for (const dir of new Set(files.map((f) => path.dirname(f)))) {
      try {
        const w = watch(dir, (_ev, name) => {
          const f = files.find((x) => path.dirname(x) === dir && path.basename(x) === String(name))
          if (!f) return
          clearTimeout(timers.get(f))
          // A save is often several events (truncate, write, rename): look once it has settled.
          timers.set(f, setTimeout(() => void check(f), 150).unref())
        })
        w.on('error', () => undefined)
        // Never what keeps the daemon running: its stop closes what it owns, and this is only a hint.
        w.unref()
        watchers.push(w)
      } catch {
        // A directory that cannot be watched: no hint, nothing else lost.
      }
    }
  })
  const check = async (f: string): Promise<void> => {
    const now = await read(f)
    if (now === seen.get(f)) return
    seen.set(f, now)
    const name = path.basename(f)
    if (now === started.get(f)) {
      // Back to what the daemon runs with (a switch back, an edit undone): the earlier hint no longer holds.
      if (told.delete(f)) say(`${name} is back to what the daemon started with: nothing to restart`)
      return
    }
    told.add(f)
    say(now === null
      ? `${name} was removed: the daemon keeps the settings it started with until it stops`
      : `${name} changed: it applies from the next start of the daemon (${restartHint})`)
  }
  return Object.assign(() => {
    closed = true
    for (const w of watchers) w.close()
    for (const t of timers.values()) clearTimeout(t)
  }, { ready: ready.then(() => undefined) })
}
