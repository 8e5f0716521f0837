/**
 * `ctxsync sync`: one-shot, for scripts, CI and git hooks. Takes in local changes, exchanges with the given
 * (`--peer`, replacing the configured ones) or configured peers until both sides hold everything, writes
 * the files, and exits (see `syncExit` for the codes). When a daemon runs in this repository, it does the
 * work, so that only one process ever writes the files and the sidecars.
 */
import { UsageError } from '../errors.js'
import { isWsUrl } from '../space/config.js'
import { callDaemon, DaemonUnavailable } from '../space/control.js'
import { findRoot, spacePaths } from '../space/paths.js'
import { syncSpace, type SyncReport } from '../space/session.js'
import { Space } from '../space/space.js'
import { runningDaemon } from '../space/status.js'
import { PeerBook, SummaryWriter } from '../space/summary.js'

export interface SyncOptions {
  cwd: string
  /** Replaces the configured peers for this run. */
  peers?: string[]
  timeoutSec: number
  warn?: (msg: string) => void
  onProgress?: (p: { url: string; bytesSent: number; bytesReceived: number }) => void
}

export type { SyncReport }

export async function sync(o: SyncOptions): Promise<SyncReport & { via: 'daemon' | 'direct' }> {
  if (!(o.timeoutSec > 0)) throw new UsageError('--timeout must be a positive number of seconds')
  for (const p of o.peers ?? []) if (!isWsUrl(p)) throw new UsageError(`--peer ${p}: expected a ws:// URL like ws://192.168.1.20:7420`)
  const timeoutMs = o.timeoutSec * 1000
  const root = findRoot(o.cwd)
  if (root) {
    const daemon = await runningDaemon(spacePaths(root))
    if (daemon) {
      try {
        const r = await callDaemon<SyncReport>(daemon.socket, 'sync', { peers: o.peers ?? null, timeoutMs }, timeoutMs + 15_000)
        return { ...r, via: 'daemon' }
      } catch (e) {
        if (!(e instanceof DaemonUnavailable)) throw e
      }
    }
  }
  const space = await Space.open({ cwd: o.cwd, command: 'ctxsync sync', lock: { wait: 10_000 }, autoInit: true, warn: o.warn })
  try {
    const book = await new PeerBook(space.paths.peers).load()
    const report = await syncSpace(space, { peers: o.peers ?? space.local.peers, timeoutMs }, { book, onProgress: o.onProgress })
    await new SummaryWriter(space).flush()
    await book.save()
    return { ...report, via: 'direct' }
  } finally {
    await space.close()
  }
}
