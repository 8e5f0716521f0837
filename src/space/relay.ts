/**
 * The relay as `ctxsync serve` runs it: the server (`net/relay/`) over a file store (`fs/relayStorage.ts`),
 * with the guard that refuses what would harm a peer (`crdt/guard.ts`) and compact registers
 * (`crdt/compact.ts`), on a `--data` directory locked for as long as it runs. Assembled here so that the
 * command reaches `net`, `fs` and `crdt` through the space façade, like every other command.
 */
import { compactChanged } from '../crdt/compact.js'
import { checkState, checkUpdate } from '../crdt/guard.js'
import { CtxError } from '../errors.js'
import { acquireLock, SpaceLockedError, describeOwner, type ReleaseLock } from '../fs/lock.js'
import { fileRelayStorage } from '../fs/relayStorage.js'
import type { AdmissionLimits } from '../net/admission.js'
import type { RegistrationLimits } from '../net/relay/registration.js'
import { formatKey } from '../net/relay-auth.js'
import { RelayServer, RELAY_DEFAULTS } from '../net/relay/server.js'

export { limitsFromEnv, type AdmissionLimits } from '../net/admission.js'
export type { RegistrationLimits } from '../net/relay/registration.js'

/** Two relays on one store corrupt it for good: the second one is refused, saying who holds it. */
export async function lockRelayData(data: string, say: (line: string) => void): Promise<ReleaseLock> {
  try {
    return await acquireLock(data, {
      command: 'ctxsync serve',
      onCompromised: (err) => say(`warning: lost the lock on ${data} (${err.message}): another relay may start on it`),
    })
  } catch (e) {
    if (!(e instanceof SpaceLockedError)) throw e
    const who = e.owner ? `another relay, ${describeOwner(e.owner)},` : 'another relay'
    throw new CtxError('data-locked', `${who} already uses ${data}: two relays on one --data directory would corrupt it; stop that one or give this one another --data`)
  }
}

export interface RelayStart {
  host: string
  port: number
  data: string
  tls?: { cert: Buffer; key: Buffer }
  maxFrameBytes?: number
  limits: Partial<AdmissionLimits>
  registration: Partial<RegistrationLimits>
  maxSessionsPerSpace?: number
}

export interface RunningRelay {
  url: string
  /** The relay's public key as spaces pin it (`registry-key` in ctxsync.yaml). */
  key: string
  stop(): Promise<void>
}

export async function startRelay(o: RelayStart): Promise<RunningRelay> {
  const relay = await RelayServer.start({
    host: o.host, port: o.port, storage: fileRelayStorage(o.data), ...(o.tls ? { tls: o.tls } : {}),
    maxFrameBytes: o.maxFrameBytes ?? RELAY_DEFAULTS.maxFrameBytes,
    // Decoded values in exact-size arrays: ~230 bytes less per register of every document held.
    afterTransaction: compactChanged,
    limits: o.limits, registration: o.registration,
    ...(o.maxSessionsPerSpace ? { maxSessionsPerSpace: o.maxSessionsPerSpace } : {}),
    // The relay stores and passes on what members send: it refuses what would harm a peer (crdt/guard.ts).
    guard: {
      checkUpdate: (doc, update) => checkUpdate(doc, update)?.reason ?? null,
      checkState: (doc) => checkState(doc)?.reason ?? null,
    },
  })
  return { url: relay.url, key: formatKey(relay.publicKey), stop: () => relay.stop() }
}
