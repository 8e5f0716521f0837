/**
 * Settings changed under a running daemon. The daemon reads `ctxsync.yaml` and `.ctxsync/local.yaml` once,
 * at start; an edit of either (a teammate's pulled change, a new tracked glob, a peer added) took effect
 * only at the next start, and nothing said so (issue 17). It says so now, once per change of content, with
 * the command that applies it. Watching the directories rather than the files follows editors that save
 * by renaming a new file over the old one.
 */
import { watch, type FSWatcher } from 'node:fs'
import fs from 'node:fs/promises'
import path from 'node:path'

export function watchSettings(files: readonly string[], say: (line: string) => void, restartHint: string): () => void {
  const seen = new Map<string, string | null>()
  const read = (f: string) => fs.readFile(f, 'utf8').catch(() => null)
  const watchers: FSWatcher[] = []
  const timers = new Map<string, NodeJS.Timeout>()
  void Promise.all(files.map(async (f) => seen.set(f, await read(f)))).then(() => {
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
    say(`${path.basename(f)} changed: it applies from the next start of the daemon (${restartHint})`)
  }
  return () => {
    for (const w of watchers) w.close()
    for (const t of timers.values()) clearTimeout(t)
  }
}
