/**
 * How a command reaches a space: `connect` asks the running daemon when there is one (so that only one
 * process ever writes the files and the sidecars) and otherwise opens the space here, with the command's
 * lock. Both answer the same `SpaceApi` (api.ts): `DaemonClient` over the control socket, `LocalSpace`
 * (local.ts) in process. "Ask the daemon, else …" is written once, in `orElse`; a daemon that is gone
 * (a stale `daemon.json`, a socket nobody listens on) counts as none.
 *
 * Light on purpose: git hooks use `daemonClient` on every commit; the space itself (Yjs, YAML) is imported
 * only when no daemon answers.
 *
 * Timeouts: one default (`DAEMON_TIMEOUT_MS`) for every request. Two exceptions, each for a reason: a
 * `sync` takes as long as the sync it asks for (its own timeout, plus the time to settle and answer), and
 * git hooks use a shorter one (`HOOK_DAEMON_TIMEOUT_MS`) because they run under git's own deadline.
 */
import path from 'node:path'
import { NotInitializedError } from '../errors.js'
import type { ControlMethod, ControlProtocol, PeersView, ResolveChoice, SpaceApi, StatusData, SyncAsk } from './api.js'
import { callDaemon, DaemonUnavailable } from './control.js'
import { runningDaemon } from './daemonfile.js'
import { findRoot, gitRoot, spacePaths, type SpacePaths } from './paths.js'
import type { LocalSpace } from './local.js'

export const DAEMON_TIMEOUT_MS = 10_000
/** The margin a daemon's sync gets beyond the sync's own timeout: settle, write files, answer. */
const SYNC_MARGIN_MS = 15_000
/** Hooks: git waits for them (`CTXSYNC_HOOK_TIMEOUT`, 5 s by default), so the daemon gets less. */
export const HOOK_DAEMON_TIMEOUT_MS = 3000

type Result<M extends ControlMethod> = ControlProtocol[M]['result']

/** The running daemon's `SpaceApi`, over its control socket. */
export class DaemonClient implements SpaceApi {
  constructor(
    readonly socket: string,
    readonly pid: number,
    /** Where it listens for peers (empty in registry mode). */
    readonly url: string,
    private readonly timeoutMs = DAEMON_TIMEOUT_MS,
  ) {}

  private call<M extends ControlMethod>(m: M, p: ControlProtocol[M]['params'], timeoutMs = this.timeoutMs): Promise<Result<M>> {
    return callDaemon(this.socket, m, p, timeoutMs)
  }

  ping() { return this.call('ping', null) }
  status() { return this.call('status', null) }
  conflicts() { return this.call('conflicts', null) }
  resolve(p: ResolveChoice) { return this.call('resolve', p) }
  sync(p: SyncAsk) { return this.call('sync', p, p.timeoutMs + SYNC_MARGIN_MS) }
  peers(): Promise<PeersView> { return this.call('peers', null) }
  prunePeers(p: { olderThanMs: number }) { return this.call('prunePeers', p) }
  syncpoint(p: { wait?: boolean } | null) { return this.call('syncpoint', p) }
  git() { return this.call('git', null) }
  stop() { return this.call('stop', null) }
}

/** The daemon of the space at `paths` if its pid is alive (whether it answers is another matter). */
export async function daemonClient(paths: SpacePaths, timeoutMs?: number): Promise<DaemonClient | null> {
  const d = await runningDaemon(paths)
  return d ? new DaemonClient(d.socket, d.pid, d.url, timeoutMs) : null
}

/** Asks the daemon; when there is none, or it does not answer, does `otherwise` instead. */
export async function orElse<T>(daemon: DaemonClient | null, ask: (d: DaemonClient) => Promise<T>, otherwise: () => Promise<T>): Promise<T> {
  if (daemon) {
    try {
      return await ask(daemon)
    } catch (e) {
      if (!(e instanceof DaemonUnavailable)) throw e
    }
  }
  return otherwise()
}

export interface ConnectOptions {
  /** Recorded in the lock when the space is opened here (`ctxsync sync`). */
  command: string
  /** As `Space.open`'s: 'read' takes no lock and never writes; otherwise wait this long for the lock. */
  lock: 'read' | { wait: number }
  /** Create this machine's state if only `ctxsync.yaml` exists (CI checkouts). */
  autoInit?: boolean
  warn?: (message: string) => void
  /** For a sync done here: progress and notes. */
  onProgress?: (p: { url: string; bytesSent: number; bytesReceived: number }) => void
  say?: (line: string) => void
}

/** A `SpaceApi` that says who answered (`via`) and must be closed (a space opened here is released). */
export interface SpaceClient extends SpaceApi {
  readonly via: 'daemon' | 'direct'
  close(): Promise<void>
}

/** The daemon if one answers, else the space opened here, opened at the first request that needs it. */
export async function connect(cwd: string, o: ConnectOptions): Promise<SpaceClient> {
  const root = findRoot(cwd)
  return new Connected(cwd, root ? await daemonClient(spacePaths(root)) : null, o)
}

class Connected implements SpaceClient {
  private local: Promise<LocalSpace> | null = null

  constructor(
    private readonly cwd: string,
    private daemon: DaemonClient | null,
    private readonly o: ConnectOptions,
  ) {}

  get via(): 'daemon' | 'direct' {
    return this.daemon ? 'daemon' : 'direct'
  }

  private ask<M extends ControlMethod>(m: M, p: ControlProtocol[M]['params']): Promise<Result<M>> {
    const call = <A extends SpaceApi>(api: A) => (api[m] as (p: ControlProtocol[M]['params']) => Promise<Result<M>>).call(api, p)
    return orElse(this.daemon, call, async () => {
      // Gone: do not ask it again in this run.
      this.daemon = null
      return call(await this.open())
    })
  }

  private open(): Promise<LocalSpace> {
    this.local ??= (async () => {
      const [{ Space }, { LocalSpace }] = await Promise.all([import('./space.js'), import('./local.js')])
      const space = await Space.open({ cwd: this.cwd, command: this.o.command, lock: this.o.lock, autoInit: this.o.autoInit, warn: this.o.warn })
      return LocalSpace.over(space, { onProgress: this.o.onProgress, say: this.o.say })
    })()
    return this.local
  }

  ping() { return this.ask('ping', null) }
  status() { return this.ask('status', null) }
  conflicts() { return this.ask('conflicts', null) }
  resolve(p: ResolveChoice) { return this.ask('resolve', p) }
  sync(p: SyncAsk) { return this.ask('sync', p) }
  peers() { return this.ask('peers', null) }
  prunePeers(p: { olderThanMs: number }) { return this.ask('prunePeers', p) }
  syncpoint(p: { wait?: boolean } | null) { return this.ask('syncpoint', p) }
  git() { return this.ask('git', null) }
  stop() { return this.ask('stop', null) }

  async close(): Promise<void> {
    const local = this.local
    this.local = null
    if (local) await local.then((l) => l.close(), () => undefined)
  }
}

/**
 * `ctxsync status`'s data: the daemon's answer when one runs, else read from the saved summary and the
 * files (readstatus.ts, loaded only then), never loading the CRDT state.
 */
export async function readStatus(cwd: string): Promise<StatusData> {
  const root = await requireRootOrOlder(cwd)
  const paths = spacePaths(root)
  const daemon = await daemonClient(paths)
  return orElse(daemon, (d) => d.status(), async () => (await import('./readstatus.js')).savedStatus(root, paths, daemon))
}

/** The root of the space around `cwd`, or the typed error every command gives outside one. */
export function requireRoot(cwd: string): string {
  const root = findRoot(cwd)
  if (!root) throw new NotInitializedError(path.resolve(cwd), gitRoot(cwd))
  return root
}

/**
 * `requireRoot`, but a checkout older than the commit that added ctxsync.yaml says so, with both ways out,
 * as `sync` does (joinconfig.ts olderCheckoutError): `status` there said "run `ctxsync init` first", and
 * that init asked for a join code (issue 13). Git is asked only on that error path.
 */
export async function requireRootOrOlder(cwd: string): Promise<string> {
  const root = findRoot(cwd)
  if (root) return root
  const { olderCheckoutError } = await import('./joinconfig.js')
  throw (await olderCheckoutError(cwd, gitRoot(cwd))) ?? new NotInitializedError(path.resolve(cwd), gitRoot(cwd))
}
