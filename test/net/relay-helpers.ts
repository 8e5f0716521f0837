/**
 * A relay on 127.0.0.1 (port 0) for net tests, with in-memory storage unless told otherwise, and peers that
 * reach it: PeerManagers in registry mode (dial the relay, listen nowhere) over MemoryHosts.
 */
import { memoryRelayStorage } from '../../src/fs/relayStorage.js'
import { PeerManager, type PeerManagerConfig } from '../../src/net/peer-manager.js'
import { RelayServer, type RelayServerOptions } from '../../src/net/relay/server.js'
import { LOOPBACK, SECRET, type MemoryHost } from './helpers.js'

export interface Rig {
  relays: RelayServer[]
  managers: PeerManager[]
  cleanup(): Promise<void>
}

export function rig(): Rig {
  const r: Rig = {
    relays: [],
    managers: [],
    async cleanup() {
      await Promise.all(r.managers.splice(0).map((m) => m.stop()))
      await Promise.all(r.relays.splice(0).map((s) => s.stop()))
    },
  }
  return r
}

export async function startRelay(r: Rig, o: Partial<RelayServerOptions> = {}): Promise<RelayServer> {
  const relay = await RelayServer.start({ host: LOOPBACK, port: 0, storage: memoryRelayStorage(), heartbeatMs: 60_000, ...o })
  r.relays.push(relay)
  return relay
}

export async function viaRelay(r: Rig, host: MemoryHost, url: string, o: Partial<PeerManagerConfig> = {}): Promise<PeerManager> {
  const m = new PeerManager({ host, secret: SECRET, peers: [url], relay: { url }, heartbeatMs: 60_000, backoff: { baseMs: 20, maxMs: 200 }, ...o })
  r.managers.push(m)
  await m.start()
  return m
}
