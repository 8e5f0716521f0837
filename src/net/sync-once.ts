/**
 * One-shot sync (`ctxsync sync`, CI, git hooks): dial every given peer in parallel, run each session until
 * both sides confirmed the initial exchange (`synced`), forward what one peer brought to the others, wait
 * until those forwarded updates are acknowledged, then close everything with 1000. Sessions say they are
 * one-shot in their Hello, so a peer that keeps a live session with us never closes that one for this.
 *
 * The timeout is an idle timeout: it runs from the last byte that moved, so a large first sync (a relay
 * sending a 10 MB space in chunks) never times out while it progresses.
 *
 * It never throws for a peer that cannot be reached or refuses us: each peer gets an outcome, and the
 * caller turns outcomes into an exit code (0 when at least one synced, 5 when every reachable peer refused,
 * 3 when none was reachable).
 */
import { logger } from '../debuglog.js'
import { deriveCredentials } from './auth.js'
import { forwardUpdate } from './forward.js'
import { backoffCeiling } from './peer-state.js'
import type { RelayDial } from './handshake.js'
import type { Access, LivePeer } from './protocol.js'
import { PeerSession, type SessionClosed, type SessionTuning } from './session.js'
import type { PeerInfo, SyncHost } from './SyncHost.js'
import { CloseCode, type Dialer, type Transport } from './TransportInterface.js'
import { atMost, sleep } from './timers.js'
import { wsDialer } from './ws.js'

const log = logger('net:sync-once')
const DIAL_ATTEMPTS = 3
const DIAL_BASE_MS = 150
const CLOSE_GRACE_MS = 1000

export type SyncOutcome = 'synced' | 'refused' | 'unreachable' | 'timeout' | 'error'

export interface PeerSyncResult {
  url: string
  outcome: SyncOutcome
  peer?: PeerInfo
  error?: string
  bytesSent: number
  bytesReceived: number
  /** What a relay granted (read: nothing local was sent). */
  access?: Access
}

export interface SyncOnceResult {
  peers: PeerSyncResult[]
  bytesSent: number
  bytesReceived: number
}

export interface SyncOnceOptions {
  host: SyncHost
  /** The space secret; without it only relays can be synced with, showing `token`. */
  secret?: string
  token?: string
  peers: string[]
  /** The registry: the one URL dialled as a relay (it must prove the pinned key); every other is a peer. */
  relay?: RelayDial
  /** Give up on a peer after this long without any byte moving. */
  timeoutMs: number
  onProgress?: (p: { url: string; bytesSent: number; bytesReceived: number }) => void
  dialer?: Dialer
  maxFrameBytes?: number
  session?: Partial<SessionTuning>
}

interface Run {
  result: PeerSyncResult
  session?: PeerSession
}

export async function syncOnce(opts: SyncOnceOptions): Promise<SyncOnceResult> {
  let deadline = Date.now() + opts.timeoutMs
  const left = (): number => deadline - Date.now()
  const credentials = opts.secret ? deriveCredentials(opts.secret, opts.host.spaceId) : undefined
  const dialer = opts.dialer ?? wsDialer({ maxFrameBytes: opts.maxFrameBytes ?? opts.session?.maxFrameBytes })
  const live = new Set<PeerSession>()
  const unsubscribe = opts.host.onUpdate((doc, update, origin) => {
    forwardUpdate(live, doc, update, origin, (s) => s.authenticated)
  })

  /** Resolves with the event that ended `session`'s wait: synced, closed, settled or the deadline. */
  const until = (session: PeerSession, event: 'synced' | 'settled'): Promise<'done' | 'closed' | 'timeout'> =>
    new Promise((resolve) => {
      let timer: NodeJS.Timeout
      // Progress moves the deadline: re-arm until it has really passed.
      const arm = (): void => {
        timer = setTimeout(() => (left() > 0 ? arm() : finish('timeout')), Math.max(0, left()))
      }
      arm()
      const onDone = (): void => finish('done')
      const onClosed = (): void => finish('closed')
      function finish(why: 'done' | 'closed' | 'timeout'): void {
        clearTimeout(timer)
        session.off(event, onDone)
        session.off('closed', onClosed)
        resolve(why)
      }
      if (session.closedInfo) return finish('closed')
      session.on(event, onDone)
      session.on('closed', onClosed)
    })

  async function dial(url: string): Promise<Transport | string> {
    let error = 'no time left to dial'
    for (let attempt = 0; attempt < DIAL_ATTEMPTS && left() > 0; attempt++) {
      // No jitter: a one-shot makes at most DIAL_ATTEMPTS tries within its own deadline; it never joins a
      // crowd of peers returning to one server together, which is what the peer manager's jitter is for.
      if (attempt > 0) await sleep(backoffCeiling(attempt - 1, { baseMs: DIAL_BASE_MS, maxMs: Math.max(0, left()) }))
      if (left() <= 0) break
      try {
        return await dialer.dial(url, { timeoutMs: Math.min(left(), 5000) })
      } catch (err) {
        error = (err as Error).message
      }
    }
    return error
  }

  const failed = (result: PeerSyncResult, info: SessionClosed): void => {
    result.outcome = info.refused ? 'refused' : 'error'
    result.error = info.reason
  }

  async function runOne(url: string): Promise<Run> {
    const result: PeerSyncResult = { url, outcome: 'unreachable', bytesSent: 0, bytesReceived: 0 }
    const t = await dial(url)
    if (typeof t === 'string') {
      result.error = t
      return { result }
    }
    const session = new PeerSession({
      ...opts.session,
      ...(opts.maxFrameBytes !== undefined ? { maxFrameBytes: opts.maxFrameBytes } : {}),
      host: opts.host,
      transport: t,
      role: 'dial',
      credentials,
      token: opts.token,
      oneShot: true,
      ...(opts.relay?.url === url ? { relay: opts.relay } : {}),
    })
    live.add(session)
    session.on('progress', (p) => {
      deadline = Date.now() + opts.timeoutMs
      result.bytesSent = p.bytesSent
      result.bytesReceived = p.bytesReceived
      opts.onProgress?.({ url, ...p })
    })
    session.on('authenticated', (peer) => {
      result.peer = peer
      if (session.access) result.access = session.access
    })
    session.start()
    const why = await until(session, 'synced')
    if (why === 'done') result.outcome = 'synced'
    else if (why === 'timeout') {
      result.outcome = 'timeout'
      result.error = `nothing moved for ${opts.timeoutMs} ms`
    } else failed(result, session.closedInfo!)
    return { result, session }
  }

  let runs: Run[]
  try {
    runs = await Promise.all(opts.peers.map(runOne))
    // Updates one peer brought were forwarded to the others as live updates; wait for their acks.
    await Promise.all(
      runs.map(async (run) => {
        const { session, result } = run
        if (!session || result.outcome !== 'synced' || !session.unsettled) return
        const why = await until(session, 'settled')
        if (why === 'timeout') {
          result.outcome = 'timeout'
          result.error = 'timed out waiting for the peer to acknowledge updates'
        } else if (why === 'closed') {
          // Our own state did reach it (Synced); what other peers brought may not have.
          result.error = `closed before acknowledging forwarded updates: ${session.closedInfo?.reason ?? ''}`
        }
      }),
    )
  } finally {
    unsubscribe()
  }
  await Promise.all(
    runs.map(async ({ session, result }) => {
      if (!session) return
      session.close(CloseCode.Normal, result.outcome === 'synced' ? 'sync complete' : 'giving up')
      await atMost(session.whenClosed, CLOSE_GRACE_MS)
      result.bytesSent = session.bytesSent
      result.bytesReceived = session.bytesReceived
    }),
  )
  const peers = runs.map((r) => r.result)
  log('done: %o', peers.map((p) => `${p.url} ${p.outcome}`))
  return {
    peers,
    bytesSent: peers.reduce((n, p) => n + p.bytesSent, 0),
    bytesReceived: peers.reduce((n, p) => n + p.bytesReceived, 0),
  }
}

export interface PeekResult {
  outcome: SyncOutcome
  peer?: PeerInfo
  access?: Access
  peers?: LivePeer[]
  error?: string
}

/** Asks a relay for the space's live peers without syncing anything (`ctxsync peers`). */
export async function peekRegistry(opts: Omit<SyncOnceOptions, 'peers' | 'onProgress'> & { url: string }): Promise<PeekResult> {
  const dialer = opts.dialer ?? wsDialer({ maxFrameBytes: opts.maxFrameBytes ?? opts.session?.maxFrameBytes })
  let t: Transport
  try {
    t = await dialer.dial(opts.url, { timeoutMs: opts.timeoutMs })
  } catch (err) {
    return { outcome: 'unreachable', error: (err as Error).message }
  }
  const session = new PeerSession({
    ...opts.session,
    host: opts.host,
    transport: t,
    role: 'dial',
    credentials: opts.secret ? deriveCredentials(opts.secret, opts.host.spaceId) : undefined,
    token: opts.token,
    oneShot: true,
    peek: true,
    relay: opts.relay ?? {},
  })
  const got = new Promise<LivePeer[] | 'closed'>((resolve) => {
    session.on('registry', resolve)
    session.on('authenticated', (p) => p.kind !== 'relay' && resolve('closed'))
    session.on('closed', () => resolve('closed'))
  })
  session.start()
  let timer: NodeJS.Timeout | undefined
  const r = await Promise.race([got, new Promise<'timeout'>((resolve) => (timer = setTimeout(() => resolve('timeout'), opts.timeoutMs)))])
  clearTimeout(timer)
  const base = { ...(session.peer ? { peer: session.peer } : {}), ...(session.access ? { access: session.access } : {}) }
  session.close(CloseCode.Normal, 'done')
  await atMost(session.whenClosed, CLOSE_GRACE_MS)
  if (Array.isArray(r)) return { outcome: 'synced', ...base, peers: r }
  if (r === 'timeout') return { outcome: 'timeout', ...base, error: `no peer list within ${opts.timeoutMs} ms` }
  const info = session.closedInfo!
  if (session.peer && session.peer.kind !== 'relay') return { outcome: 'error', ...base, error: 'not a relay: only a relay keeps a list of live peers' }
  return { outcome: info.refused ? 'refused' : 'error', ...base, error: info.reason }
}
