/**
 * `ctxsync peers`: the peers this machine has met (the peer book, `.ctxsync/peers.json`); with a running
 * daemon, who is online now (presence) and, with `discovery: mdns`, the space's peers it found on the LAN;
 * and in registry mode (or with --registry URL), the relay's list of the space's peers online now. A running
 * daemon answers from its live session with the relay; otherwise a short "peek" connection asks the relay
 * (Welcome and the list, no document exchange). mDNS results exist only in a running daemon: a one-off
 * command does not multicast. `--prune` forgets the peers not seen for some days (`prunePeers`).
 */
import { ExitCode, NotInitializedError, UsageError } from '../errors.js'
import { newPeerId, type DocName } from '../ids.js'
import {
  checkRegistryUrl, daemonClient, requireRoot, loadPeek, loadSetup, orElse, spacePaths,
  type Access, type FoundPeer, type LivePeer, type OnlinePeer, type PeekResult, type PeerRecord, type SyncHost, type TeamConfig,
} from '../space/index.js'

export interface PeersOptions {
  cwd: string
  registry?: string
  /** Allow a ws:// registry that is not on this machine. */
  insecure?: boolean
  timeoutSec?: number
}

export interface RegistryView {
  url: string
  outcome: PeekResult['outcome']
  access?: Access
  error?: string
  peers: LivePeer[]
}

export interface PeersResult {
  space: string
  /** Peers this machine has met (and whether connected now, when a daemon runs). */
  known: PeerRecord[]
  /** The relay's live list, in registry mode. */
  registry?: RegistryView
  /** Who is online now, per the running daemon (absent without one). */
  online?: OnlinePeer[]
  /** `discovery: mdns`: what the running daemon found on the LAN; null when no daemon looks. */
  mdns?: FoundPeer[] | null
}

export async function peers(o: PeersOptions): Promise<PeersResult> {
  checkRegistryUrl(o.registry)
  const { readLocalSettings, readTeamConfig, remotesFor, PeerBook, DEFAULT_HOST, DEFAULT_PORT } = await loadSetup()
  const root = requireRoot(o.cwd)
  const paths = spacePaths(root)
  const config = await readTeamConfig(paths.config)
  if (!config) throw new NotInitializedError(root)
  const local = await readLocalSettings(paths.local, { name: '', agent: false, host: DEFAULT_HOST, port: DEFAULT_PORT, peers: [] })
  const { registry } = remotesFor(config, local, { registry: o.registry, insecure: o.insecure })
  return orElse<PeersResult>(await daemonClient(paths), async (d) => {
    const live = await d.peers()
    const base: PeersResult = {
      space: config.space, known: live.book, online: live.online ?? [],
      ...(config.discovery === 'mdns' ? { mdns: live.found ?? null } : {}),
    }
    const fromDaemon = live.registry.find((x) => x.url === registry)
    if (!registry || fromDaemon) {
      return { ...base, ...(fromDaemon ? { registry: { url: fromDaemon.url, outcome: 'synced' as const, peers: fromDaemon.peers } } : {}) }
    }
    return { ...base, registry: await peek(config, paths, registry, o) }
  }, async () => {
    // No daemon: the book as saved, and no one known to be online.
    const known = (await new PeerBook(paths.peers).load()).list()
    return {
      space: config.space, known, ...(config.discovery === 'mdns' ? { mdns: null } : {}),
      ...(registry ? { registry: await peek(config, paths, registry, o) } : {}),
    }
  })
}

export interface PruneResult {
  space: string
  days: number
  /** The peers forgotten now, as the book had them. */
  forgotten: PeerRecord[]
  /** Who is still known. */
  known: PeerRecord[]
}

/** The default of `--prune`: the age at which the book forgets a peer by itself. */
export const PRUNE_DAYS = 30

/**
 * `peers --prune [DAYS]`: forgets the peers not seen for DAYS or more, never one connected now. Through the
 * running daemon when there is one: it holds the book and would otherwise write the forgotten back.
 */
export async function prunePeers(o: { cwd: string; days?: number }): Promise<PruneResult> {
  const days = o.days ?? PRUNE_DAYS
  if (!(days >= 0) || !Number.isFinite(days)) throw new UsageError(`--prune takes a number of days (default ${PRUNE_DAYS}), e.g. --prune 7`)
  const { readTeamConfig, PeerBook } = await loadSetup()
  const root = requireRoot(o.cwd)
  const paths = spacePaths(root)
  const config = await readTeamConfig(paths.config)
  if (!config) throw new NotInitializedError(root)
  const olderThanMs = days * 86_400_000
  const r = await orElse(await daemonClient(paths), (d) => d.prunePeers({ olderThanMs }), async () => {
    const book = await new PeerBook(paths.peers).load()
    const forgotten = book.prune(olderThanMs, new Set())
    await book.save()
    return { forgotten, known: book.list() }
  })
  return { space: config.space, days, ...r }
}

async function peek(config: TeamConfig, paths: ReturnType<typeof spacePaths>, url: string, o: PeersOptions): Promise<RegistryView> {
  const { hostName, readIdentity, relayDial, resolveSecret, resolveToken } = await loadSetup()
  const identity = await readIdentity(paths.identity)
  const secret = (await resolveSecret(paths.secret))?.secret
  const token = resolveToken() ?? undefined
  // A peek touches no document: an empty host stands in for the space.
  const host: SyncHost = {
    spaceId: config.space,
    self: { id: identity?.id ?? newPeerId(), name: 'ctxsync peers', kind: 'human', host: hostName() },
    docNames: () => [],
    stateVector: () => Uint8Array.of(0),
    encodeDiff: () => null,
    acceptDoc: (name: string): name is DocName => false && name === '',
    applyRemote: async () => {
      throw new Error('a peek applies nothing')
    },
    onUpdate: () => () => {},
  }
  const relay = relayDial(config, paths.config, url, token)
  const { peekRegistry } = await loadPeek()
  const r = await peekRegistry({ host, ...(secret ? { secret } : {}), ...(token ? { token } : {}), ...(relay ? { relay } : {}), url, timeoutMs: (o.timeoutSec ?? 10) * 1000 })
  return { url, outcome: r.outcome, ...(r.access ? { access: r.access } : {}), ...(r.error ? { error: r.error } : {}), peers: r.peers ?? [] }
}

/** The exit status of `peers`: non-zero only when a relay was asked and did not answer with its list. */
export function peersExit(r: PeersResult): { code: ExitCode; message: string } | null {
  const reg = r.registry
  if (!reg || reg.outcome === 'synced') return null
  const code = reg.outcome === 'refused' ? ExitCode.AccessRefused : reg.outcome === 'error' ? ExitCode.Error : ExitCode.NoPeer
  return { code, message: `the relay at ${reg.url}: ${reg.error ?? reg.outcome}` }
}
