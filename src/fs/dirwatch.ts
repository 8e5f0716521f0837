/**
 * A second pair of ears for the watcher: one plain `fs.watch` per directory that holds tracked files.
 *
 * chokidar watches each file by its inode. When a file is replaced (git writes a new file for every
 * checkout, reset, stash and merge step; editors and our own atomic writes rename over), chokidar's
 * listener stats the path and moves its watch to the new inode — but that listener is throttled per path
 * (5 ms, on a timer that a loaded event loop fires late), so a second replacement landing inside the
 * window is dropped and the watch stays on a dead inode. From then on chokidar reports nothing for that
 * file: an in-place save after `git pull` (autostash: three replacements in a few milliseconds) was never
 * taken in (CI under load, git-ops and merge-seen stories; `test/fs/watcher.test.ts` › dead watch).
 *
 * A directory watch is keyed by name, not inode: inotify reports every write, create, rename and delete
 * of the directory's children whatever inode they have. Its events only schedule the watcher's usual
 * check, which reads nothing when the signature is unchanged, so double reports cost one lstat.
 * A directory that is itself replaced (a checkout that removed and re-created it) is watched again on
 * `refresh` (the watcher's resume after git, and whenever a file in it is reported).
 */
import fs from 'node:fs'
import path from 'node:path'
import { logger } from '../debuglog.js'

const log = logger('fs:dirwatch')

interface Entry { watcher: fs.FSWatcher; ino: number }

export class DirWatches {
  private readonly dirs = new Map<string, Entry>()
  private closed = false

  /** `onName(absPath)`: something happened to the entry of that name in a watched directory. */
  constructor(private readonly onName: (abs: string) => void) {}

  /**
   * Watches `dir` unless it is watched already (same inode). Asynchronous (the watcher calls it on every
   * report, and sync I/O there would stall the daemon); failures are logged: chokidar still watches.
   */
  async ensure(dir: string): Promise<void> {
    const ino = await fs.promises.stat(dir).then((st) => st.ino, () => null)
    if (this.closed) return
    if (ino === null) return this.drop(dir)
    const had = this.dirs.get(dir)
    if (had && had.ino === ino) return
    this.drop(dir)
    try {
      const watcher = fs.watch(dir, { persistent: false }, (_ev, name) => {
        if (typeof name === 'string' && name !== '') this.onName(path.join(dir, name))
      })
      watcher.on('error', (e) => {
        log('%s: %s', dir, e.message)
        this.drop(dir)
      })
      this.dirs.set(dir, { watcher, ino })
    } catch (e) {
      log('cannot watch %s: %s', dir, (e as Error).message)
    }
  }

  /** Watches the directories of `files` (absolute paths), again where a directory was replaced. */
  async refresh(files: Iterable<string>): Promise<void> {
    const want = new Set<string>()
    for (const f of files) want.add(path.dirname(f))
    await Promise.all([...want].map((d) => this.ensure(d)))
  }

  close(): void {
    this.closed = true
    for (const d of [...this.dirs.keys()]) this.drop(d)
  }

  private drop(dir: string): void {
    const e = this.dirs.get(dir)
    if (!e) return
    this.dirs.delete(dir)
    e.watcher.close()
  }
}
