/**
 * `discovery: mdns` for the daemon: announce this peer on the LAN and connect to peers of the space found
 * there (`net/discovery/`). Never in registry mode (peers then talk to the relay only). Discovery that
 * cannot start (no multicast route, port 5353 refused) is reported and the daemon carries on without it.
 */
import type { PeerManager } from '../net/peer-manager.js'
import type { Discovery } from '../net/discovery/DiscoveryInterface.js'
import type { PeerFinder } from '../net/discovery/finder.js'
import type { Space } from './space.js'

export interface MdnsOptions {
  space: Space
  peers: PeerManager
  /** The port the peer listener is on, and the address it listens on. */
  port: number
  listenHost: string
  say: (line: string) => void
  /** Tests pass an in-memory one; by default bonjour-service. */
  discovery?: Discovery
}

/** Set (to anything but "" or "0"), the daemon never multicasts: CI on shared networks, the test suite. */
export const NO_MDNS_ENV = 'CTXSYNC_NO_MDNS'

export async function startMdns(o: MdnsOptions): Promise<PeerFinder | null> {
  const off = process.env[NO_MDNS_ENV]
  if (!o.discovery && off && off !== '0') {
    o.say(`mdns: off (${NO_MDNS_ENV} is set); configured peers still work`)
    return null
  }
  // Loaded only in mdns mode: bonjour-service and its DNS packet codec are not small.
  const { PeerFinder } = await import('../net/discovery/finder.js')
  const discovery = o.discovery ?? new (await import('../net/discovery/bonjour.js')).BonjourDiscovery()
  let reported = false
  discovery.on('error', (err) => {
    if (reported) return
    reported = true
    o.say(`mdns: ${err.message} — peers on the LAN are not found; configured peers still work`)
  })
  if (o.listenHost === '127.0.0.1' || o.listenHost === 'localhost' || o.listenHost === '::1') {
    o.say(`mdns: listening on ${o.listenHost}, so only peers on this machine can connect; set \`host: 0.0.0.0\` in .ctxsync/local.yaml for the LAN`)
  }
  const finder = new PeerFinder({ discovery, peers: o.peers, self: o.space.identity.id, spaceId: o.space.syncId, port: o.port })
  try {
    await finder.start()
  } catch (err) {
    o.say(`mdns: could not start (${(err as Error).message}); peers on the LAN are not found`)
    return null
  }
  return finder
}
