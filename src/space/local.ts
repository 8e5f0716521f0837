/**
 * `LocalSpace`: the `SpaceApi` (api.ts) answered by a space opened in this process. Two users:
 *   - the daemon, which passes its live parts (peer sessions, presence, mDNS finds, the git watch, its own
 *     stop): `Daemon.handle` is this object behind the control socket;
 *   - a one-shot command with no daemon running (`connect` in client.ts opens the space with the command's
 *     lock): then there are no live sessions, nobody online, and what changed is saved when it closes.
 * Heavy (it holds a `Space`, so Yjs and the YAML parser): reached only through a dynamic import.
 */
import type { PeerManager } from '../net/peer-manager.js'
import type { PeerFinder } from '../net/discovery/finder.js'
import type { ControlProtocol, PeersView, ResolveChoice, SpaceApi, SyncAsk } from './api.js'
import type { GitWatch } from './gitwatch.js'
import { isJoining } from './join.js'
import { syncSpace } from './oneshot.js'
import { onlinePeers } from './presence.js'
import { liveStatus } from './statusdata.js'
import { besideAdoptions } from './mergeadopt.js'
import { countMergeConflicts } from './mergestore.js'
import { spacePaths } from './paths.js'
import { remotesFor, type Remotes } from './remotes.js'
import type { Space } from './space.js'
import { PeerBook, SummaryWriter } from './summary.js'
import { liveStates } from './syncpoint.js'

type Result<M extends keyof SpaceApi> = ControlProtocol[M]['result']

/** What only a running daemon has. Getters: some parts (the git watch, mDNS) arrive after the api does. */
export interface LiveParts {
  peers: PeerManager
  remotes: Remotes
  url: string
  finder(): PeerFinder | null
  git(): GitWatch | null
  stop(): void
}

export interface LocalOptions {
  book: PeerBook
  live?: LiveParts
  /** One-shot sync progress (the spinner) and notes (a relay key pinned). */
  onProgress?: (p: { url: string; bytesSent: number; bytesReceived: number }) => void
  say?: (line: string) => void
}

export class LocalSpace implements SpaceApi {
  /** A one-shot run resolved something: the summary is saved when it closes. */
  private resolvedSome = false

  constructor(
    readonly space: Space,
    private readonly o: LocalOptions,
  ) {}

  /** Opens the book beside the space (`.ctxsync/peers.json`). */
  static async over(space: Space, o: Omit<LocalOptions, 'book'> = {}): Promise<LocalSpace> {
    return new LocalSpace(space, { ...o, book: await new PeerBook(space.paths.peers).load() })
  }

  async ping(): Promise<Result<'ping'>> {
    return { pid: process.pid, memory: process.memoryUsage() }
  }

  async status(): Promise<Result<'status'>> {
    const live = this.o.live
    // The live conflicts and the merge driver's records not yet taken over, read in one state (besideAdoptions).
    const s = await besideAdoptions(this.space.root, async () => {
      const s = liveStatus(this.space, live ? { running: true, pid: process.pid, url: live.url } : { running: false }, this.peerRecords(), this.online())
      await countMergeConflicts(s, spacePaths(this.space.root), this.space.config.rules)
      return s
    })
    return (await isJoining(this.space.root)) ? { ...s, joining: true } : s
  }

  async conflicts(): Promise<Result<'conflicts'>> {
    return { conflicts: this.space.conflicts() }
  }

  async resolve(p: ResolveChoice): Promise<Result<'resolve'>> {
    const resolved = await this.space.resolve(p.id, p.take)
    this.resolvedSome = true
    return { resolved }
  }

  async sync(req: SyncAsk): Promise<Result<'sync'>> {
    const { space, o } = this
    // Asked right after a git command, the daemon first takes in what git did (and the merge driver's records
    // with it), as a sync point does: a sync that ran while the git watch still waited out git's quiet period
    // skipped the files, and `resolve --list` at once listed a record the daemon dropped a moment later.
    await o.live?.git()?.untilGitIdle()
    const r = req.peers || req.registry || !o.live
      ? remotesFor(space.config, space.local, { peers: req.peers ?? undefined, registry: req.registry ?? undefined, insecure: req.insecure === true })
      : o.live.remotes
    const report = await syncSpace(space, { peers: r.peers, registry: r.registry, timeoutMs: req.timeoutMs }, {
      book: o.book, connected: o.live?.peers.peers(), onProgress: o.onProgress, say: o.say,
    })
    // The daemon saves these as it goes and when it stops; a one-shot run now.
    if (!o.live) {
      await new SummaryWriter(space).flush()
      await o.book.save()
    }
    return report
  }

  async peers(): Promise<PeersView> {
    const live = this.o.live
    return { book: this.peerRecords(), registry: live?.peers.registry() ?? [], found: live?.finder()?.found() ?? null, online: this.online() }
  }

  async prunePeers(p: { olderThanMs: number }): Promise<Result<'prunePeers'>> {
    const live = (this.o.live?.peers.peers() ?? []).filter((x) => x.state === 'connected' && x.id)
    const forgotten = this.o.book.prune(p.olderThanMs, new Set(live.map((x) => x.id!)))
    await this.o.book.save()
    return { forgotten, known: this.peerRecords() }
  }

  async syncpoint(p: { wait?: boolean } | null): Promise<Result<'syncpoint'>> {
    // After a merge (`wait`), once the daemon took in what git did.
    if (p?.wait) await this.o.live?.git()?.untilGitIdle()
    await this.space.idle()
    return { states: liveStates(this.space) }
  }

  async git(): Promise<Result<'git'>> {
    this.o.live?.git()?.poke()
    return { ok: true }
  }

  async stop(): Promise<Result<'stop'>> {
    const live = this.o.live
    if (!live) return { stopping: false }
    // Answered first: the stop closes this very socket.
    setImmediate(() => live.stop())
    return { stopping: true }
  }

  /** The peer book, with who is connected now. */
  peerRecords(): PeersView['book'] {
    const live = (this.o.live?.peers.peers() ?? []).filter((p) => p.id && p.state === 'connected').map((p) => p.id as string)
    return this.o.book.view(new Set(live))
  }

  private online() {
    return this.o.live ? onlinePeers(this.o.live.peers.presence()) : []
  }

  /** One-shot: what a resolution changed is written to the summary before the space closes. */
  async close(): Promise<void> {
    if (this.o.live) return
    if (this.resolvedSome) {
      await this.space.idle()
      await new SummaryWriter(this.space).flush()
    }
    await this.space.close()
  }
}
