/**
 * `ctxsync serve`: the relay and registry (`src/net/relay/`). One process serves many spaces over
 * WebSocket, keeps each space's CRDT state under `--data DIR`, relays updates between a space's peers,
 * keeps their live list, and answers `GET /healthz` and `GET /metrics` on the same port. It never holds a
 * space secret. Runs until SIGINT/SIGTERM, then closes every session with 1001 and flushes every store.
 */
import fs from 'node:fs/promises'
import path from 'node:path'
import { compactChanged } from '../crdt/compact.js'
import { checkState, checkUpdate } from '../crdt/guard.js'
import { CtxError, UsageError } from '../errors.js'
import { fileRelayStorage } from '../fs/relayStorage.js'
import { RelayServer, RELAY_DEFAULTS } from '../net/relay/server.js'

export interface ServeOptions {
  cwd: string
  host: string
  port: number
  /** Where spaces' state is kept (created if missing). */
  data: string
  tlsCert?: string
  tlsKey?: string
  maxFrameBytes?: number
  say: (line: string) => void
  onStarted?: (info: { url: string; data: string }) => void
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
  await fs.mkdir(data, { recursive: true })
  const tls = o.tlsCert && o.tlsKey ? { cert: await readPem(path.resolve(o.cwd, o.tlsCert), 'certificate'), key: await readPem(path.resolve(o.cwd, o.tlsKey), 'key') } : undefined
  const relay = await RelayServer.start({
    host: o.host, port: o.port, storage: fileRelayStorage(data), ...(tls ? { tls } : {}),
    maxFrameBytes: o.maxFrameBytes ?? RELAY_DEFAULTS.maxFrameBytes,
    // Decoded values in exact-size arrays: ~230 bytes less per register of every document held.
    afterTransaction: compactChanged,
    // The relay stores and passes on what members send: it refuses what would harm a peer (crdt/guard.ts).
    guard: {
      checkUpdate: (doc, update) => checkUpdate(doc, update)?.reason ?? null,
      checkState: (doc) => checkState(doc)?.reason ?? null,
    },
  })
  o.onStarted?.({ url: relay.url, data })
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
