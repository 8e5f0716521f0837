/**
 * `ctxsync sync`: one-shot, for scripts, CI and git hooks. Takes in local changes, exchanges with the given
 * (`--peer`, replacing the configured ones) or configured peers — or the relay, in registry mode or with
 * `--registry URL` — until both sides hold everything, writes the files, and exits (see `syncExit` for
 * the codes). When a daemon runs in this repository, it does the work, so that only one process ever
 * writes the files and the sidecars. With CTXSYNC_TOKEN and a relay, a fresh checkout needs neither
 * `init` nor the secret: this machine's state is created on the way.
 */
import { AccessRefusedError, CtxError, ExitCode, NoPeerError, UsageError } from '../errors.js'
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

/**
 * The exit status of a sync: 0 when a peer synced, 5 when every reachable one refused — or when the only
 * ones that synced were read-only while local changes wait — 3 when none was reachable.
 */
export function syncExit(report: SyncReport): { code: ExitCode; error?: CtxError } {
  const o = report.peers.map((p) => p.outcome)
  // Not "local changes": on a fresh checkout nothing was edited, the files only await a first exchange.
  const stays = report.pending.length
    ? ` ${report.pending.length} file(s) not yet exchanged with any peer are kept here as they are until one is reached.`
    : ''
  if (o.includes('synced')) {
    const wrote = report.peers.some((p) => p.outcome === 'synced' && p.access !== 'read')
    if (wrote || report.pending.length === 0) return { code: ExitCode.Ok }
    return {
      code: ExitCode.AccessRefused,
      error: Object.assign(new AccessRefusedError(`received the space's changes, but this token is read-only: local changes to ${report.pending.length} file(s) (${report.pending.join(', ')}) were not sent and stay pending. Sending them needs a write token or the space secret.`), { data: report }),
    }
  }
  if (o.length === 0) {
    return {
      code: ExitCode.NoPeer,
      error: new NoPeerError(`no peers to sync with: pass --peer ws://HOST:PORT or --registry URL, or list peers in .ctxsync/local.yaml.${stays}`, report),
    }
  }
  if (o.includes('refused') && o.every((x) => x === 'refused' || x === 'unreachable')) {
    const refused = report.peers.filter((p) => p.outcome === 'refused')
    const viaRelay = refused.some((p) => p.kind === 'relay' || /token|relay/.test(p.error ?? ''))
    // Each peer's reason is already said from this side (space/refusal.ts): a peer of another space was
    // told "this machine's secret does not match theirs" like one with another secret (issue 17).
    const byReason = new Map<string, string[]>()
    for (const p of refused) byReason.set(p.error ?? 'refused', [...(byReason.get(p.error ?? 'refused') ?? []), p.url])
    const message = viaRelay
      ? `access refused by ${refused.length} peer(s): ${refused.map((p) => `${p.url}: ${p.error ?? 'refused'}`).join('; ')}`
      : [...byReason].map(([why, urls]) => `refused by ${urls.join(', ')}: ${why}`).join('; ')
    return {
      code: ExitCode.AccessRefused,
      error: Object.assign(new AccessRefusedError(`${message}.${stays}`), { data: report }),
    }
  }
  if (o.every((x) => x === 'unreachable')) {
    const urls = report.peers.map((p) => p.url).join(', ')
    return { code: ExitCode.NoPeer, error: new NoPeerError(`no peer reachable (${urls}): is \`ctxsync watch\` (or, for a relay, \`ctxsync serve\`) running there?${stays}`, report) }
  }
  const why = report.peers.map((p) => `${p.url}: ${p.outcome}${p.error ? ` (${p.error})` : ''}`).join('; ')
  return { code: ExitCode.Error, error: new CtxError('sync-failed', `sync did not complete: ${why}. Try again or raise --timeout.${stays}`, ExitCode.Error, report) }
}
