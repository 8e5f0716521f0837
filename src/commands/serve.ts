/**
 * `ctxsync serve`: the relay and registry (`src/net/relay/`). One process serves many spaces over
 * WebSocket, keeps each space's CRDT state under `--data DIR`, relays updates between a space's peers,
 * keeps their live list, and answers `GET /healthz` and `GET /metrics` on the same port. It never holds a
 * space secret. Runs until SIGINT/SIGTERM, then closes every session with 1001 and flushes every store.
 *
 * One relay per `--data`: the directory is locked (`fs/lock.ts`, as `.ctxsync/` is for a daemon) for as
 * long as the relay runs, since two processes appending to one store would corrupt it for good. The limits
 * that keep strangers from starving members have flags here and environment overrides (`CTXSYNC_MAX_CONNS`,
 * … in `net/admission.ts`); the flags win.
 */
import fs from 'node:fs/promises'
import path from 'node:path'
import { CtxError, UsageError } from '../errors.js'
import { loadRelay, type AdmissionLimits, type RegistrationLimits } from '../space/index.js'

export interface ServeOptions {
  cwd: string
  host: string
  port: number
  /** Where spaces' state is kept (created if missing). */
  data: string
  tlsCert?: string
  tlsKey?: string
  maxFrameBytes?: number
  maxConns?: number
  maxConnsPerIp?: number
  maxPending?: number
  maxSessionsPerSpace?: number
  maxSpaces?: number
  /** New spaces one address may register per hour (and at once). */
  registrationsPerHour?: number
  /** Days after which a space used by its first session only is forgotten. */
  expireUnusedDays?: number
  /** Days after which a space no peer visited is forgotten. */
  expireIdleDays?: number
  say: (line: string) => void
  onStarted?: (info: { url: string; data: string; key: string }) => void
}

export const DEFAULT_RELAY_PORT = 7421

async function readPem(file: string, what: string): Promise<Buffer> {
  try {
    return await fs.readFile(file)
  } catch (e) {
    throw new CtxError('tls', `cannot read the TLS ${what} ${file}: ${(e as Error).message}`)
  }
}

export async function serve(o: ServeOptions): Promise<{ url: string }> {
  if (!o.data) throw new UsageError('--data DIR is required: the directory where the relay keeps each space\'s state')
  if ((o.tlsCert === undefined) !== (o.tlsKey === undefined)) throw new UsageError('give both --tls-cert and --tls-key (or neither)')
  if (o.maxFrameBytes !== undefined && !(Number.isInteger(o.maxFrameBytes) && o.maxFrameBytes >= 4096)) {
    throw new UsageError('--max-frame must be a number of bytes, at least 4096')
  }
  const data = path.resolve(o.cwd, o.data)
  // Created for this run: removed again should the relay not start (a port in use left an empty
  // --data directory behind: issue 17).
  const made = await fs.mkdir(data, { recursive: true })
  const relayParts = await loadRelay()
  const release = await relayParts.lockRelayData(data, o.say)
  let started = false
  try {
    return await run(o, data, relayParts, () => (started = true))
  } finally {
    await release()
    if (made !== undefined && !started) await fs.rm(made, { recursive: true, force: true }).catch(() => undefined)
  }
}

type RelayParts = Awaited<ReturnType<typeof loadRelay>>

function limitsOf(o: ServeOptions, limitsFromEnv: RelayParts['limitsFromEnv']): { limits: Partial<AdmissionLimits>; registration: Partial<RegistrationLimits>; maxSessionsPerSpace?: number } {
  const positive = (v: number | undefined, flag: string): number | undefined => {
    if (v !== undefined && !(Number.isInteger(v) && v > 0)) throw new UsageError(`${flag} must be a positive whole number`)
    return v
  }
  const limits: Partial<AdmissionLimits> = { ...limitsFromEnv() }
  const set = <K extends keyof AdmissionLimits>(k: K, v: number | undefined, flag: string) => {
    if (positive(v, flag) !== undefined) limits[k] = v as AdmissionLimits[K]
  }
  set('maxConnections', o.maxConns, '--max-conns')
  set('maxPerAddress', o.maxConnsPerIp, '--max-conns-per-ip')
  set('maxPending', o.maxPending, '--max-pending')
  const registration: Partial<RegistrationLimits> = {}
  const DAY = 24 * 3600_000
  if (positive(o.maxSpaces, '--max-spaces') !== undefined) registration.maxSpaces = o.maxSpaces
  if (positive(o.registrationsPerHour, '--registrations-per-hour') !== undefined) registration.perHour = registration.burst = o.registrationsPerHour
  if (positive(o.expireUnusedDays, '--expire-unused') !== undefined) registration.unconfirmedTtlMs = o.expireUnusedDays! * DAY
  if (positive(o.expireIdleDays, '--expire-idle') !== undefined) registration.idleTtlMs = o.expireIdleDays! * DAY
  const maxSessionsPerSpace = positive(o.maxSessionsPerSpace, '--max-sessions-per-space')
  return { limits, registration, ...(maxSessionsPerSpace ? { maxSessionsPerSpace } : {}) }
}

async function run(o: ServeOptions, data: string, parts: RelayParts, listening: () => void): Promise<{ url: string }> {
  const tls = o.tlsCert && o.tlsKey ? { cert: await readPem(path.resolve(o.cwd, o.tlsCert), 'certificate'), key: await readPem(path.resolve(o.cwd, o.tlsKey), 'key') } : undefined
  const relay = await parts.startRelay({ host: o.host, port: o.port, data, ...(tls ? { tls } : {}), maxFrameBytes: o.maxFrameBytes, ...limitsOf(o, parts.limitsFromEnv) })
  listening()
  o.onStarted?.({ url: relay.url, data, key: relay.key })
  if (!tls && !['127.0.0.1', '::1', 'localhost'].includes(o.host)) {
    o.say('warning: no TLS: relay traffic (documents, tokens) crosses the network in the clear; pass --tls-cert/--tls-key or put a TLS proxy in front')
  }
  // `on`, not `once`, for the reason given in commands/watch.ts; a second signal means "now".
  let signals = 0
  let resolveDone!: () => void
  const done = new Promise<void>((r) => (resolveDone = r))
  const stop = (sig: NodeJS.Signals): void => {
    if (signals++ > 0) {
      o.say(`${sig} again: exiting without waiting (acknowledged updates are already on disk)`)
      process.exit(sig === 'SIGINT' ? 130 : 143)
    }
    o.say('stopping: closing sessions and flushing stores')
    void relay.stop().then(resolveDone, resolveDone)
  }
  process.on('SIGINT', stop)
  process.on('SIGTERM', stop)
  await done
  process.off('SIGINT', stop)
  process.off('SIGTERM', stop)
  o.say('stopped')
  return { url: relay.url }
}
