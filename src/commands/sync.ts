/**
 * `ctxsync sync`: one-shot, for scripts, CI and git hooks. Takes in local changes, exchanges with the given
 * (`--peer`, replacing the configured ones) or configured peers — or the relay, in registry mode or with
 * `--registry URL` — until both sides hold everything, writes the files, and exits (see `syncExit` for
 * the codes). When a daemon runs in this repository, it does the work, so that only one process ever
 * writes the files and the sidecars. With CTXSYNC_TOKEN and a relay, a fresh checkout needs neither
 * `init` nor the secret: this machine's state is created on the way.
 */
import { UsageError } from '../errors.js'
import { checkOneMode, checkPeerUrls, checkRegistryUrl, connect, loadSyncPoints, type SyncReport } from '../space/index.js'

export interface SyncOptions {
  cwd: string
  /** Replaces the configured peers for this run. */
  peers?: string[]
  /** Registry mode for this run: sync with this relay only. */
  registry?: string
  /** Allow a ws:// registry that is not on this machine. */
  insecure?: boolean
  timeoutSec: number
  warn?: (msg: string) => void
  /** Things done on the user's behalf that they should know about (a relay key pinned in ctxsync.yaml). */
  note?: (msg: string) => void
  onProgress?: (p: { url: string; bytesSent: number; bytesReceived: number }) => void
}

export type { SyncReport }

/** `syncPoint`: the commit a sync point was recorded for (HEAD), if one was (see space/syncpoint.ts). */
export async function sync(o: SyncOptions): Promise<SyncReport & { via: 'daemon' | 'direct'; syncPoint?: string | null }> {
  if (!(o.timeoutSec > 0)) throw new UsageError('--timeout must be a positive number of seconds')
  checkPeerUrls(o.peers)
  checkRegistryUrl(o.registry)
  checkOneMode(o.peers, o.registry)
  const timeoutMs = o.timeoutSec * 1000
  const client = await connect(o.cwd, { command: 'ctxsync sync', lock: { wait: 10_000 }, autoInit: true, warn: o.warn, onProgress: o.onProgress, say: o.note ?? o.warn })
  try {
    const r = await client.sync({ peers: o.peers ?? null, registry: o.registry ?? null, insecure: o.insecure ?? false, timeoutMs })
    // The states for HEAD's sync point from whoever did the sync; none (no sync point) if it cannot say.
    const states = await client.syncpoint(null).then((x) => x.states, () => null)
    return { ...r, via: client.via, syncPoint: states ? await (await loadSyncPoints()).syncPointAfterSync(o.cwd, states) : null }
  } finally {
    await client.close()
  }
}
