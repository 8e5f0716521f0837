/**
 * One-shot synchronisation of an open space with a list of peers (or its relay) — the work behind
 * `ctxsync sync`, done in-process when no daemon runs and inside the daemon when one does.
 */
import { syncOnce, type PeerSyncResult } from '../net/peer-manager.js'
import type { PeerState } from '../net/peer-manager.js'
import type { Access } from '../net/protocol.js'
import type { PeerId } from '../ids.js'
import { SpaceHost } from './host.js'
import { heldAtStart } from './stashhold.js'
import { finishJoin, isJoining } from './join.js'
import { credentialsOf, pinsWritten, type Remotes } from './remotes.js'
import { refusedByPeer } from './refusal.js'
import { liveFiles, type PeerBook } from './summary.js'
import type { Space } from './space.js'

export interface SyncRequest {
  peers: string[]
  timeoutMs: number
  /** The relay's URL when syncing in registry mode. */
  registry?: string | null
}

export interface SyncReport {
  peers: Array<{ url: string; outcome: PeerSyncResult['outcome']; id?: string; name?: string; kind?: string; error?: string; access?: Access }>
  filesChanged: string[]
  pending: string[]
  bytesSent: number
  bytesReceived: number
  /**
   * Still joining after an exchange completed: no peer had the space's state (a relay no member has synced
   * with yet), so this machine's files wait, unsent (join.ts).
   */
  joining?: true
  /** Files held or refused here (they do not parse, or cannot be synced): nothing of them went out. */
  held?: Array<{ path: string; state: 'held' | 'refused'; line: number; col: number; message: string }>
}

interface SyncOptions {
  book?: PeerBook
  connected?: PeerState[]
  onProgress?: (p: { url: string; bytesSent: number; bytesReceived: number }) => void
  say?: (line: string) => void
}

/**
 * Exchanges with every peer given. `connected` lists peers a running daemon already holds live sessions
 * with: those need no new connection, only time for their acknowledgements.
 */
export async function syncSpace(
  space: Space,
  req: SyncRequest,
  opts: SyncOptions = {},
): Promise<SyncReport> {
  // What this sync changed: the files written while it runs. (Not "written since the space opened": in a
  // daemon, a file once written was never reported again — `filesChanged: []` beside a daemon that had
  // just rewritten it, issue 17.) Beside a daemon this includes what its live sessions brought meanwhile.
  const changed = new Set<string>()
  const onWritten = (name: string) => void changed.add(name)
  space.on('file-written', onWritten)
  try {
    return await exchange(space, req, opts, changed)
  } finally {
    space.off('file-written', onWritten)
  }
}

async function exchange(space: Space, req: SyncRequest, opts: SyncOptions, changed: Set<string>): Promise<SyncReport> {
  const remotes: Remotes = { peers: req.peers, registry: req.registry ?? null, listen: false }
  const creds = credentialsOf(space, remotes, opts.say)
  // A stopped daemon's stash hold still on (stashhold.ts): what peers send waits in the CRDT, unwritten.
  const repo = await space.gitRepo()
  if (repo && (await heldAtStart(repo, space.paths.state))) space.pauseForGit()
  await space.scan()
  const connected = (opts.connected ?? []).filter((p) => p.state === 'connected')
  const liveById = new Map(connected.filter((p) => p.id).map((p) => [p.id!, p]))
  // A peer the daemon is already in session with is reached through that session (a one-shot connection
  // would work too, but is one more handshake and one more copy of what the live session sends anyway).
  // Sessions the peer dialled carry no URL; the peer book remembers which peer answered at a URL before.
  const liveFor = (url: string): PeerState | undefined =>
    connected.find((p) => p.url === url) ?? liveById.get((opts.book?.list().find((r) => r.url === url)?.id ?? '') as PeerId)
  const live = new Map(req.peers.flatMap((u) => {
    const l = liveFor(u)
    return l ? [[u, l] as const] : []
  }))
  const dial = req.peers.filter((u) => !live.has(u))
  // The daemon's other sessions (peers that dialled in, a relay): the sync reaches them too. A daemon that
  // only accepts connections said "no peers to sync with" (exit 3) while peers were connected (issue 17).
  const others = connected.filter((p) => ![...live.values()].includes(p))
  for (const p of others) live.set(p.url ?? `${p.kind === 'relay' ? 'relay' : 'peer'} ${p.name ?? p.id ?? '?'} (connected to the daemon)`, p)
  const once = () => syncOnce({ host: new SpaceHost(space), ...creds, peers: dial, timeoutMs: req.timeoutMs, onProgress: opts.onProgress })
  const res = dial.length ? await once() : { peers: [], bytesSent: 0, bytesReceived: 0 }
  // Through a read-only live session nothing local goes out: waiting for its acks would only time out.
  if ([...live.values()].some((l) => l.access !== 'read')) await waitAcked(space, req.timeoutMs)
  await space.idle()
  // Joining from a checkout (join.ts): the live state came in this round and the member's own changes were
  // merged onto it only now, and files no peer had are enrolled only now: a second round sends them.
  if ((live.size > 0 || res.peers.some((p) => p.outcome === 'synced')) && (await finishJoin(space)) && dial.length && space.pendingDocs().length > 0) {
    const again = await once()
    res.bytesSent += again.bytesSent
    res.bytesReceived += again.bytesReceived
    await space.idle()
  }
  await pinsWritten()
  const peers: SyncReport['peers'] = []
  for (const url of [...req.peers, ...[...live.keys()].filter((u) => !req.peers.includes(u))]) {
    const r = res.peers.find((p) => p.url === url)
    if (r?.peer && opts.book) opts.book.seen({ id: r.peer.id, name: r.peer.name, kind: r.peer.kind, host: r.peer.host, url, connected: liveById.has(r.peer.id) })
    const l = live.get(url)
    if (l) {
      peers.push({ url, outcome: 'synced', id: l.id, name: l.name, kind: l.kind, ...(l.access ? { access: l.access } : {}) })
      continue
    }
    // A peer's refusal said from this side: the wire reason is the same text on both ends (refusal.ts).
    const error = r!.outcome === 'refused' && url !== req.registry && r!.peer?.kind !== 'relay' ? refusedByPeer(r!.error) : r!.error
    peers.push({
      url, outcome: r!.outcome, id: r!.peer?.id, name: r!.peer?.name, kind: r!.peer?.kind,
      ...(error ? { error } : {}), ...(r!.access ? { access: r!.access } : {}),
    })
  }
  const filesChanged = [...changed].sort()
  const pending = space.pendingDocs()
  // It said "synced, no files changed" and exit 0 while nothing of this machine's went anywhere (a fresh
  // member's first sync with a relay nobody had synced with yet: issue 17).
  const joining = peers.some((p) => p.outcome === 'synced') && (await isJoining(space.root))
  // A file that does not parse was left out without a word ('synced, no files changed': issue 17 tester).
  const held = liveFiles(space).flatMap((f) => ((f.state === 'held' || f.state === 'refused') && f.error ? [{ path: f.path, state: f.state, ...f.error }] : []))
  return {
    peers, filesChanged, pending, bytesSent: res.bytesSent, bytesReceived: res.bytesReceived,
    ...(joining ? { joining: true as const } : {}), ...(held.length ? { held } : {}),
  }
}

/** Live sessions acknowledge continuously; give them until nothing is pending or the time is up. */
async function waitAcked(space: Space, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs
  while (Date.now() < deadline && space.pendingDocs().length > 0) {
    await new Promise((r) => setTimeout(r, 25))
  }
}
