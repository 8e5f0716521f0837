/**
 * Admission: what keeps strangers from starving members of a listener's sockets — and the process of file
 * descriptors, which the same process needs for its files and stores. Every TCP connection counts from the
 * moment it is accepted; until its session authenticates (`trust`) it is a stranger's, and strangers are
 * bounded:
 *
 *  - in number, globally (`maxPending`) and per address (`maxPendingPerAddress`; IPv6 counted per /64,
 *    which one host usually holds whole);
 *  - in time: a connection not authenticated within `handshakeMs` of its accept is destroyed, whether it
 *    never said a byte (a plain TCP connect), stalled in the HTTP upgrade or in the ctxsync handshake.
 *
 * All connections, trusted or not, are bounded by `maxConnections` (by default well below the process's
 * descriptor limit, see `defaultLimits`) and by `maxPerAddress`. When the stranger pool is full, a
 * newcomer evicts the oldest pending connection of the address holding the most of them, unless it comes
 * from that address itself: a flood from one address, or a few, cannot keep other addresses out, and
 * members already in are never touched. A refused socket is destroyed at once, nothing read or written.
 *
 * `net` knows nothing of files: the limits come from the caller (`ctxsync serve` flags, environment).
 */
import { readFileSync } from 'node:fs'
import net from 'node:net'
import { logger } from '../debuglog.js'

const log = logger('net:admission')

export interface AdmissionLimits {
  /** Every connection, trusted or not. */
  maxConnections: number
  /** Connections not yet authenticated. */
  maxPending: number
  maxPendingPerAddress: number
  /** Every connection from one address (IPv6: one /64). */
  maxPerAddress: number
  /** From accept to authenticated, or the connection is closed. */
  handshakeMs: number
}

/** The soft limit on open files (Linux: /proc/self/limits); null where it cannot be read. */
export function descriptorLimit(): number | null {
  try {
    const line = readFileSync('/proc/self/limits', 'utf8').split('\n').find((l) => l.startsWith('Max open files'))
    const soft = line?.slice('Max open files'.length).trim().split(/\s+/)[0]
    const n = Number(soft)
    return Number.isFinite(n) && n > 0 ? n : null
  } catch {
    return null
  }
}

/**
 * Sane defaults: connections take at most half the descriptor limit (the rest stays for files, stores,
 * watchers, the control socket), strangers a quarter of that and one address a quarter of theirs (at
 * most 64: a team behind one NAT reconnecting at once after a restart), 128 connections in all per address.
 */
export function defaultLimits(fdLimit: number | null = descriptorLimit()): AdmissionLimits {
  const fds = fdLimit ?? 1024
  const maxConnections = Math.max(32, Math.min(8192, Math.floor(fds / 2)))
  const maxPending = Math.max(8, Math.min(512, Math.floor(maxConnections / 4)))
  return {
    maxConnections,
    maxPending,
    maxPendingPerAddress: Math.max(4, Math.min(64, Math.floor(maxPending / 4))),
    maxPerAddress: Math.min(128, maxConnections),
    handshakeMs: 15_000,
  }
}

/** Overrides from the environment (`CTXSYNC_MAX_CONNS`, …); used by `watch`, where there are no flags. */
export function limitsFromEnv(env: NodeJS.ProcessEnv = process.env): Partial<AdmissionLimits> {
  const out: Partial<AdmissionLimits> = {}
  const take = (name: string, key: keyof AdmissionLimits): void => {
    const v = env[name]
    if (v === undefined || v === '') return
    const n = Number(v)
    if (Number.isInteger(n) && n > 0) out[key] = n
    else log('ignoring %s=%s: not a positive integer', name, v)
  }
  take('CTXSYNC_MAX_CONNS', 'maxConnections')
  take('CTXSYNC_MAX_PENDING', 'maxPending')
  take('CTXSYNC_MAX_PENDING_PER_IP', 'maxPendingPerAddress')
  take('CTXSYNC_MAX_CONNS_PER_IP', 'maxPerAddress')
  take('CTXSYNC_HANDSHAKE_MS', 'handshakeMs')
  return out
}

/** The address a connection is counted under: IPv4 as is, IPv6 by its /64 (v4-mapped ones as IPv4). */
export function addressKey(addr: string | undefined): string {
  if (!addr) return 'unknown'
  if (addr.startsWith('::ffff:') && net.isIPv4(addr.slice(7))) return addr.slice(7)
  if (!net.isIPv6(addr)) return addr
  const [head = '', tail = ''] = addr.split('::')
  const left = head ? head.split(':') : []
  const right = tail ? tail.split(':') : []
  const groups = addr.includes('::') ? [...left, ...Array(8 - left.length - right.length).fill('0'), ...right] : left
  return `${groups.slice(0, 4).map((g) => parseInt(g || '0', 16).toString(16)).join(':')}::/64`
}

interface Entry {
  id: string
  socket: net.Socket
  key: string
  pending: boolean
  timer: NodeJS.Timeout | undefined
}

interface PerAddress {
  total: number
  /** Pending connections, oldest first (insertion order). */
  pending: Set<Entry>
}

export interface AdmissionStats {
  connections: number
  pending: number
  refusedTotal: number
  timedOutTotal: number
  evictedTotal: number
}

export class Admission {
  readonly limits: AdmissionLimits
  readonly #entries = new Map<string, Entry>()
  readonly #byAddress = new Map<string, PerAddress>()
  #pending = 0
  #refused = 0
  #timedOut = 0
  #evicted = 0

  constructor(limits: Partial<AdmissionLimits> = {}) {
    this.limits = { ...defaultLimits(), ...limits }
  }

  /** Call on every accepted TCP socket (the server's `connection` event); false when it was refused. */
  accept(socket: net.Socket): boolean {
    const key = addressKey(socket.remoteAddress)
    const id = connectionId(socket)
    const per = this.#byAddress.get(key)
    const l = this.limits
    if (this.#entries.size >= l.maxConnections) return this.#refuse(socket, 'the listener is at its connection limit')
    if ((per?.total ?? 0) >= l.maxPerAddress) return this.#refuse(socket, `${key} holds the most connections one address may`)
    if ((per?.pending.size ?? 0) >= l.maxPendingPerAddress) return this.#refuse(socket, `${key} holds the most unauthenticated connections one address may`)
    if (this.#pending >= l.maxPending && !this.#evictFor(key)) return this.#refuse(socket, 'too many unauthenticated connections')
    const entry: Entry = { id, socket, key, pending: true, timer: undefined }
    entry.timer = setTimeout(() => {
      this.#timedOut++
      log('%s: not authenticated within %d ms: closed', key, l.handshakeMs)
      socket.destroy()
    }, l.handshakeMs)
    entry.timer.unref()
    this.#entries.set(id, entry)
    const slot = per ?? { total: 0, pending: new Set<Entry>() }
    slot.total++
    slot.pending.add(entry)
    this.#byAddress.set(key, slot)
    this.#pending++
    socket.once('close', () => this.#forget(id, entry))
    return true
  }

  /** The socket's session authenticated: it is a member's now, no deadline, no longer a stranger's. */
  trust(socket: net.Socket): void {
    const entry = this.#entries.get(connectionId(socket))
    if (!entry?.pending) return
    entry.pending = false
    clearTimeout(entry.timer)
    this.#byAddress.get(entry.key)?.pending.delete(entry)
    this.#pending--
  }

  stats(): AdmissionStats {
    return { connections: this.#entries.size, pending: this.#pending, refusedTotal: this.#refused, timedOutTotal: this.#timedOut, evictedTotal: this.#evicted }
  }

  /** Makes room for one pending connection from `key` by closing the oldest of the biggest holder's. */
  #evictFor(key: string): boolean {
    let victim: PerAddress | undefined
    let victimKey = ''
    for (const [k, per] of this.#byAddress) {
      if (per.pending.size > (victim?.pending.size ?? 0)) [victim, victimKey] = [per, k]
    }
    const mine = this.#byAddress.get(key)?.pending.size ?? 0
    if (!victim || victimKey === key || victim.pending.size <= mine) return false
    const oldest = victim.pending.values().next().value as Entry
    this.#evicted++
    log('%s: evicting its oldest unauthenticated connection to admit %s', victimKey, key)
    this.#forget(oldest.id, oldest)
    oldest.socket.destroy()
    return true
  }

  #forget(id: string, entry: Entry): void {
    if (this.#entries.get(id) !== entry) return
    this.#entries.delete(id)
    clearTimeout(entry.timer)
    const per = this.#byAddress.get(entry.key)
    if (entry.pending) {
      this.#pending--
      per?.pending.delete(entry)
    }
    if (per && --per.total <= 0) this.#byAddress.delete(entry.key)
  }

  #refuse(socket: net.Socket, why: string): false {
    this.#refused++
    // One line per second at most: a flood must not also flood the log.
    if (Date.now() - lastRefusalLog > 1000) {
      lastRefusalLog = Date.now()
      log('refused a connection from %s: %s', socket.remoteAddress, why)
    }
    socket.destroy()
    return false
  }
}

let lastRefusalLog = 0

/**
 * One TCP connection, the same for the raw socket and a TLS socket over it (whose remote end is the raw
 * one's): the pair of remote address and port is unique among a listener's live connections.
 */
function connectionId(socket: net.Socket): string {
  return `${socket.remoteAddress ?? '?'}|${socket.remotePort ?? 0}`
}
