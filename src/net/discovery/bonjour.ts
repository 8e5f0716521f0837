/**
 * mDNS/DNS-SD discovery with bonjour-service: publishes `_ctxsync._tcp` on the peer listener's port with a
 * TXT record {v: protocol version, id: peer id, s: space hash} and browses for the same type.
 *
 * The address to dial is the one the announcement came from (`referer`): on a machine with several
 * interfaces (VPNs, container bridges) the A records list every address, most of them unreachable from
 * the peer that answered; the packet's source is on the network both share. An IPv6 link-local source
 * needs a zone, so an announced IPv4 address is preferred then.
 *
 * Multicast leaves the machine: tests run this only inside a private network namespace (DEVELOPERS.md).
 */
import { Bonjour, type Browser, type Service } from 'bonjour-service'
import { logger } from '../../debuglog.js'
import { TypedEmitter } from '../emitter.js'
import { SERVICE_TYPE, type Announcement, type Discovery, type DiscoveryEvents, type Sighting } from './DiscoveryInterface.js'

const log = logger('net:mdns')
/** Ask again now and then: a peer that restarted on the same name and port announces nothing new to us. */
const REQUERY_MS = 60_000

export function pickAddress(s: Pick<Service, 'referer' | 'addresses'>): string | undefined {
  const from = s.referer?.address
  if (from && !from.includes('%') && !/^fe80:/i.test(from)) return from
  return s.addresses?.find((a) => /^\d+\.\d+\.\d+\.\d+$/.test(a)) ?? from?.split('%')[0]
}

export function toSighting(s: Service): Sighting | null {
  const txt = (s.txt ?? {}) as Record<string, unknown>
  const host = pickAddress(s)
  const proto = Number(txt.v)
  if (!host || typeof txt.id !== 'string' || typeof txt.s !== 'string' || !Number.isInteger(proto) || !s.port) return null
  return { key: s.fqdn, peerId: txt.id, spaceHash: txt.s, proto, host, port: s.port }
}

export class BonjourDiscovery extends TypedEmitter<DiscoveryEvents> implements Discovery {
  #bonjour: Bonjour | undefined
  #browser: Browser | undefined
  #timer: NodeJS.Timeout | undefined

  async start(me: Announcement): Promise<void> {
    if (this.#bonjour) throw new Error('BonjourDiscovery already started')
    const bonjour = new Bonjour({}, (err: Error) => {
      log('mdns error: %s', err.message)
      this.emit('error', err)
    })
    this.#bonjour = bonjour
    const service = bonjour.publish({
      name: `ctxsync-${me.peerId}`, type: SERVICE_TYPE, protocol: 'tcp', port: me.port,
      txt: { v: String(me.proto), id: me.peerId, s: me.spaceHash },
    })
    service.on('error', (err: Error) => this.emit('error', err))
    const browser = bonjour.find({ type: SERVICE_TYPE, protocol: 'tcp' })
    const seen = (s: Service): void => {
      const sighting = toSighting(s)
      log('%s %s', sighting ? 'found' : 'ignoring malformed', s.fqdn)
      if (sighting) this.emit('found', sighting)
    }
    browser.on('up', seen)
    browser.on('srv-update', seen)
    browser.on('txt-update', seen)
    browser.on('down', (s: Service) => this.emit('lost', s.fqdn))
    this.#browser = browser
    this.#timer = setInterval(() => browser.update(), REQUERY_MS)
    this.#timer.unref()
  }

  async stop(): Promise<void> {
    const bonjour = this.#bonjour
    if (!bonjour) return
    this.#bonjour = undefined
    clearInterval(this.#timer)
    this.#browser?.stop()
    // The goodbye (TTL 0) goes out before the socket closes; a peer gone without it is found out by heartbeat.
    await new Promise<void>((resolve) => {
      const t = setTimeout(resolve, 1000)
      bonjour.unpublishAll(() => {
        clearTimeout(t)
        resolve()
      })
    })
    await new Promise<void>((resolve) => bonjour.destroy(() => resolve()))
  }
}
