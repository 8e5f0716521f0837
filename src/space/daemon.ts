/**
 * The daemon (`ctxsync watch`): holds the space, watches the tracked files, listens for peers and keeps
 * connections to the configured ones — or, in registry mode, keeps one persistent session with the relay
 * and listens nowhere — and answers local commands on the control socket. With `discovery: mdns` it also
 * announces itself on the LAN and connects to the space's peers it finds there (`mdns.ts`). It tells its
 * peers what it is doing (`presence.ts`) and saves who is online into `status.json`. It stops on
 * SIGINT/SIGTERM or `ctxsync stop`, flushing every sidecar and file first.
 *
 * The control socket answers `SpaceApi` (api.ts) through a `LocalSpace` given the daemon's live parts, the
 * same object a one-shot command uses with no daemon. Like `Space.open`, `start` takes its parts
 * (`DaemonParts`: watcher, dialer, listener factory, the space's own), so that tests run daemons in process.
 */
import fs from 'node:fs/promises'
import { CtxError } from '../errors.js'
import { writeFileAtomic } from '../fs/atomic.js'
import { Watcher, type FileWatcher, type WatcherConfig } from '../fs/watcher.js'
import { asDocName } from '../ids.js'
import { limitsFromEnv } from '../net/admission.js'
import { PeerManager, type PeerState } from '../net/peer-manager.js'
import { finishJoin } from './join.js'
import type { PeerManagerConfig } from '../net/peer-state.js'
import type { Take } from '../crdt/present.js'
import type { StaleSave, Undone } from '../crdt/model.js'
import type { PeerFinder } from '../net/discovery/finder.js'
import type { Discovery } from '../net/discovery/DiscoveryInterface.js'
import { Activity, onlinePeers } from './presence.js'
import { startMdns } from './mdns.js'
import { ControlServer } from './control.js'
import { LocalSpace } from './local.js'
import { SpaceHost } from './host.js'
import { credentialsOf, remotesFor, type Remotes } from './remotes.js'
import { Space, type SpaceParts } from './space.js'
import { GitWatch } from './gitwatch.js'
import { PeerBook, SummaryWriter, noticeSave } from './summary.js'
import { logConflicts } from './conflictlog.js'
import { watchSettings } from './configwatch.js'
import { refusedByPeer, refusedHere } from './refusal.js'
import { heldAtStart } from './stashhold.js'

export interface DaemonOptions {
  cwd: string
  port?: number
  host?: string
  peers?: string[]
  /** Registry mode for this run: talk to this relay only. */
  registry?: string
  /** Allow a ws:// registry that is not on this machine. */
  insecure?: boolean
  /** Progress and problems, one line each, for stderr. */
  say: (line: string) => void
  heartbeatMs?: number
  /** Largest WebSocket frame accepted from peers (1009 beyond); default 8 MiB. */
  maxFrameBytes?: number
  /** For tests: the discovery used in mdns mode (default: mDNS via bonjour-service). */
  discovery?: Discovery
  /** The parts a daemon is assembled from (tests, embedders); each defaults to the production one. */
  parts?: DaemonParts
}

/**
 * Like `Space.open`'s parts: the space's own (store, parse check, clock), the file watcher (default:
 * chokidar, `fs/watcher.ts`), and how peers are reached and listened for (default: WebSocket, `net/ws.ts`).
 */
export interface DaemonParts {
  space?: SpaceParts
  watcher?: (config: WatcherConfig) => FileWatcher
  dialer?: PeerManagerConfig['dialer']
  listenerFactory?: PeerManagerConfig['listenerFactory']
}

export interface DaemonInfo {
  pid: number
  /** Where it listens for peers; empty in registry mode. */
  url: string
  /** The relay it syncs through, in registry mode. */
  registry: string | null
  port: number
  socket: string
  startedAt: string
}

export class Daemon {
  readonly done: Promise<void>
  private finish!: () => void
  private stopping: Promise<void> | null = null
  /** Pauses the watcher while git rewrites files (`gitwatch.ts`); null outside a repository. */
  git: GitWatch | null = null
  /** Set when the daemon stops only to start again (a branch switch under `branches: separate`). */
  restartWanted = false
  /** Peers found on the LAN (`discovery: mdns`); null otherwise. */
  finder: PeerFinder | null = null
  activity: Activity | null = null

  private constructor(
    readonly space: Space,
    readonly peers: PeerManager,
    readonly watcher: FileWatcher,
    readonly control: ControlServer,
    readonly book: PeerBook,
    readonly summary: SummaryWriter,
    readonly info: DaemonInfo,
    readonly remotes: Remotes,
    /** What the control socket answers (`ctxsync status`, `sync`, `resolve`, …). */
    readonly api: LocalSpace,
    private readonly say: (line: string) => void,
  ) {
    this.done = new Promise((r) => (this.finish = r))
  }

  static async start(o: DaemonOptions): Promise<Daemon> {
    const parts = o.parts ?? {}
    const space = await Space.open({ cwd: o.cwd, command: 'ctxsync watch', lock: { wait: 0 }, warn: (m) => o.say(`warning: ${m}`), ...(parts.space ? { parts: parts.space } : {}) })
    const cleanup: Array<() => Promise<unknown>> = [() => space.close()]
    try {
      const remotes = remotesFor(space.config, space.local, { peers: o.peers, registry: o.registry, insecure: o.insecure })
      const creds = credentialsOf(space, remotes, o.say)
      const book = await new PeerBook(space.paths.peers).load()
      let peers: PeerManager | undefined
      const summary = new SummaryWriter(space, () => onlinePeers(peers?.presence() ?? []))
      wireSpaceEvents(space, o.say)
      // Said as they come and go; nothing once the daemon stops (see `logConflicts`).
      let stoppingNow = () => false
      const unlogConflicts = logConflicts(space, o.say, () => stoppingNow())
      cleanup.unshift(async () => unlogConflicts())
      // A stash still holding the live context this daemon's last run held: nothing is written until the git
      // watch (attached below) sees it popped (stashhold.ts); the scan would write the live context over it.
      const repo = await space.gitRepo()
      if (repo && (await heldAtStart(repo, space.paths.state))) space.pauseForGit()
      const report = await space.scan()
      if (report.enrolled.length) o.say(`enrolled ${report.enrolled.length} file(s)`)
      const host = space.local.host
      const port = o.port ?? space.local.port
      peers = new PeerManager({
        host: new SpaceHost(space),
        ...creds,
        // Strangers on the network are bounded (connections, handshake deadline; CTXSYNC_MAX_CONNS, …).
        ...(remotes.listen ? { listen: { host: o.host ?? host, port, limits: limitsFromEnv() } } : {}),
        peers: remotes.peers,
        heartbeatMs: o.heartbeatMs,
        ...(o.maxFrameBytes !== undefined ? { maxFrameBytes: o.maxFrameBytes } : {}),
        ...(parts.dialer ? { dialer: parts.dialer } : {}),
        ...(parts.listenerFactory ? { listenerFactory: parts.listenerFactory } : {}),
      })
      let started: { url?: string; port?: number }
      try {
        started = await peers.start()
      } catch (e) {
        throw listenFailure(e, o.host ?? host, port, { port: o.port !== undefined, host: o.host !== undefined })
      }
      const manager = peers
      cleanup.unshift(() => manager.stop())
      let daemon: Daemon | null = null
      stoppingNow = () => daemon?.isStopping() ?? false
      wirePeerEvents(peers, book, o.say, () => daemon?.isStopping() ?? false, remotes.registry)
      peers.on('presence', () => space.summaryChanged())
      // A first complete exchange ends a join from a checkout (join.ts): files no peer had are enrolled.
      peers.on('peer-synced', () => void finishJoin(space).catch((e: Error) => o.say(`join: ${e.message}`)))
      const watchConfig: WatcherConfig = { root: space.root, include: space.config.track }
      const watcher = parts.watcher ? parts.watcher(watchConfig) : new Watcher(watchConfig)
      cleanup.unshift(() => watcher.close())
      // An edit that cannot be taken in now (no descriptors, a failing disk) is read again until it can.
      watcher.on('file', (ev) => {
        const name = asDocName(ev.path)
        void space.onLocalFile(name, ev.text, ev.hash, ev.mtimeMs).then(
          () => space.io.recovered(space.doc(name)),
          (e: Error) => space.io.failed(name, e, () => watcher.recheck(ev.path)),
        )
      })
      watcher.on('failed', (ev) => space.io.failed(asDocName(ev.path), ev.error))
      watcher.on('deleted', (ev) => void space.onLocalDelete(asDocName(ev.path)))
      watcher.on('unreadable', (ev) => {
        o.say(`${ev.path}: skipped (${ev.reason})`)
        // Held like a file that does not parse: status shows it, nothing from it is sent.
        void space.onLocalUnreadable(asDocName(ev.path), ev.reason).catch((e: Error) => o.say(`${ev.path}: ${e.message}`))
      })
      watcher.on('error', (e) => o.say(`watcher: ${e.message}`))
      const unwatchSettings = watchSettings([space.paths.config, space.paths.local], o.say, '`ctxsync stop`, then `ctxsync watch` again')
      cleanup.unshift(async () => unwatchSettings())
      await watcher.ready()
      await space.scan() // changes made while the watcher started
      const info: DaemonInfo = {
        pid: process.pid, url: started.url ?? '', registry: remotes.registry, port: started.port ?? 0,
        socket: space.paths.socket, startedAt: new Date().toISOString(),
      }
      // What local commands ask: the same api a one-shot command answers itself, plus the live parts.
      const api = new LocalSpace(space, {
        book,
        live: { peers, remotes, url: info.url, finder: () => daemon?.finder ?? null, git: () => daemon?.git ?? null, stop: () => void daemon?.stop() },
      })
      const control = new ControlServer(space.paths.socket, api)
      await control.start()
      daemon = new Daemon(space, peers, watcher, control, book, summary, info, remotes, api, o.say)
      const d = daemon
      d.activity = new Activity(space, peers)
      if (space.config.discovery === 'mdns' && remotes.listen && started.port) {
        const finder = await startMdns({ space, peers, port: started.port, listenHost: o.host ?? host, say: o.say, discovery: o.discovery })
        d.finder = finder
        if (finder) cleanup.unshift(() => finder.stop())
      }
      cleanup.unshift(async () => d.activity?.stop())
      d.git = await GitWatch.attach(space, watcher, o.say, () => d.restart())
      await writeFileAtomic(space.paths.daemon, JSON.stringify(info, null, 1) + '\n')
      await summary.flush()
      return daemon
    } catch (e) {
      for (const c of cleanup) await c().catch(() => undefined)
      throw e
    }
  }

  peerRecords() {
    return this.api.peerRecords()
  }

  restart(): void {
    this.restartWanted = true
    void this.stop()
  }

  isStopping(): boolean {
    return this.stopping !== null
  }

  stop(): Promise<void> {
    this.stopping ??= (async () => {
      this.git?.close()
      this.say('stopping: saving state')
      this.activity?.stop()
      await this.finder?.stop().catch(() => undefined)
      await this.control.close().catch(() => undefined)
      await this.watcher.close().catch(() => undefined)
      await this.peers.stop().catch(() => undefined)
      await this.space.idle()
      await this.summary.flush()
      await this.book.save()
      await this.space.close()
      await fs.rm(this.space.paths.daemon, { force: true })
      this.finish()
    })()
    return this.stopping
  }
}

/** The daemon's log lines for what the space does (exported for tests). */
export function wireSpaceEvents(space: Space, say: (line: string) => void): void {
  space.on('held', (name: string, p: { line: number; col: number; message: string }) =>
    say(`${name}:${p.line}:${p.col}: ${p.message} — held: nothing from it is sent until it parses again`),
  )
  space.on('released', (name: string) => say(`${name}: parses again, changes merged`))
  space.on('refused', (name: string, reason: string) => say(`${name}: refused: ${reason}`))
  space.on('format-kept', (_name: string, message: string) => say(message))
  // Said in `status` too, until the file's next ordinary save or an undo (a person runs `status`, not `tail log`).
  const notice = (name: string, line: string | null) => { const d = space.doc(asDocName(name)); if (d) noticeSave(d.file, line === null ? null : line.slice(name.length + 2)) }
  space.on('stale-save', (name: string, s: StaleSave) => { const line = staleSaveNotice(name, s); notice(name, line); say(line) })
  // Own edits too (the log showed only what peers did: issue 17). Before 'stale-save', which says more of one.
  space.on('took-in', (name: string, undid?: Undone) => { const line = undid ? undidNotice(name, undid) : null; notice(name, line); say(line ?? `${name}: your edit taken in`) })
  space.on('file-written', (name: string) => say(`updated ${name}${space.versions?.who(name) ?? ''}`))
  // Named like an update (the file a peer deleted was said without who: issue 16, black-box tester).
  space.on('file-deleted', (name: string) => say(`deleted ${name}${space.versions?.who(name) || ' (deleted by a peer)'}`))
  space.on('deleted-here', (name: string) => say(`${name}: deleted here, synced`))
}

function wirePeerEvents(peers: PeerManager, book: PeerBook, say: (line: string) => void, stopping: () => boolean, registry: string | null): void {
  const label = (p: PeerState) => `${p.kind === 'relay' ? 'relay' : p.name ?? p.id ?? '?'}${p.kind === 'agent' ? ' (agent)' : ''}${p.url ? ` at ${p.url}` : ''}`
  peers.on('peer-connected', (p) => {
    if (p.id) book.seen({ id: p.id, name: p.name ?? p.id, kind: p.kind ?? 'human', host: p.host, url: p.url, connected: true })
    const access = p.access === 'read' ? ' with a read-only token: local changes are not sent' : p.access ? ` (${p.access} access)` : ''
    say(`connected to ${label(p)}${access}`)
  })
  peers.on('peer-sync-once', (p) => {
    if (p.id) book.seen({ id: p.id, name: p.name ?? p.id, kind: p.kind ?? 'human', host: p.host, connected: false })
    say(`one-shot sync from ${label(p)}`)
  })
  peers.on('peer-disconnected', (p, info) => {
    if (p.id) book.disconnected(p.id)
    // Our own stop closes the sessions with our reason ("peer shutting down"): said as ours, not theirs (issue 17).
    say(`disconnected from ${label(p)} (${stopping() ? 'this daemon is stopping' : info.reason || info.code})`)
  })
  // Said from this side (refusal.ts): a peer that dialled in and failed the proof was refused *here*, and
  // named by its address, its name being only its claim; dialling out, the refusal says what is wrong here.
  peers.on('peer-refused', (p, info) => say(
    p.direction === 'in' ? refusedHere(info.reason, { claimed: p.name, remote: p.remote })
    : p.kind === 'relay' || p.url === registry ? `access refused by ${label(p)}: ${info.reason || 'wrong secret'}`
    : `refused by ${p.url ?? label(p)}${p.name ? ` (it says it is ${p.name})` : ''}: ${refusedByPeer(info.reason)}`,
  ))
}

/**
 * A listen failure said as what to do. The listener's error carries the system's code under `errno` (its
 * own `code` is 'listen-failed'), so a port in use was shown raw as `listen EADDRINUSE` (issue 17).
 * `given`: whether --port / --host were passed, else the value is .ctxsync/local.yaml's.
 */
function listenFailure(e: unknown, host: string, port: number, given: { port: boolean; host: boolean }): unknown {
  const err = e as { code?: string; errno?: unknown }
  const sys = typeof err.errno === 'string' ? err.errno : err.code
  const orLocal = (key: 'port' | 'host') => (given[key] ? '' : ` or \`${key}:\` in .ctxsync/local.yaml`)
  if (sys === 'EADDRINUSE') {
    return new CtxError('port-in-use', `port ${port} on ${host} is in use: another program listens there (perhaps \`ctxsync watch\` in another checkout). Stop it, or use another port: --port N (0 picks a free one)${orLocal('port')}`)
  }
  if (sys === 'EACCES') {
    return new CtxError('listen-failed', `this machine does not let ctxsync listen on port ${port} (ports below 1024 need privileges). Use a port of 1024 or more: --port N (0 picks a free one)${orLocal('port')}`)
  }
  if (sys === 'EADDRNOTAVAIL') {
    return new CtxError('listen-failed', `cannot listen on ${host}: it is not an address of this machine. Use one it has: --host 127.0.0.1 (this machine only) or 0.0.0.0 (every interface)${orLocal('host')}`)
  }
  return e
}

/**
 * A save that is exactly an older text took back the peers' changes since (black-box tester stop 30, finding 7:
 * a stale copy written back unchanged said only "your edit taken in"): which version, what, how to undo it.
 */
export function undidNotice(name: string, u: Undone): string {
  // Two editors appending at one place (black-box tester stop 31, finding 5's open part): said, with the way back.
  if (u.ownBack?.length) {
    const shown = u.ownBack.slice(0, 3).join(' | ') + (u.ownBack.length > 3 ? ` | … (${u.ownBack.length} lines)` : '')
    return `${name}: your edit taken in, in place of what your own previous save added there: ${shown}. If another editor or an agent saved that, \`ctxsync undo --file ${name}\` brings it back`
  }
  const n = (k: number, what: string) => `${k} ${what}${k === 1 ? '' : 's'}`
  // Older than the recent texts: at least the writes they hold since it (`writes` counts one more), maybe more.
  const which = u.older ? `before at least the peers' last ${n(Math.max(1, u.writes - 1), 'write')}` : `before the peers' last ${u.writes === 1 ? 'write' : `${u.writes} writes`}`
  const named = u.values.slice(0, 5).map((v) => (v.now === null ? `${v.path} removed${v.was ? ` (was ${v.was})` : ''}` : `${v.path} back to ${v.now} from ${v.was}`)).join(', ')
  const more = u.count > Math.min(5, u.values.length) ? `, and ${u.count - Math.min(5, u.values.length)} more` : ''
  return `${name}: your save is exactly the file as it was ${which}, taken in as an undo of ${n(u.count, 'value')} the peers changed since: ${named}${more}. If it was an old copy written back, \`ctxsync undo --file ${name}\` brings them back`
}

/** "decisions.yaml: your save was made from an older version; kept 1 change from peers". */
export function staleSaveNotice(name: string, s: StaleSave): string {
  const n = (k: number, what: string) => `${k} ${what}${k === 1 ? '' : 's'}`
  const vs = s.values ?? []
  const mine = vs.some((v) => v.own)
  const said = [
    // Read as an edit of this machine's own later save (an editor's undo back past it: tester stop 30, finding 1).
    ...(s.ownBase ? ['read as an edit of your own later save, taking back where it differs from it (made from an older copy instead? `ctxsync undo --file ' + name + '` takes this save back)'] : []),
    // Older than one's own later save, changed elsewhere: another editor's buffer (tester stop 31, finding 5).
    ...(s.beforeOwn ? ["older than your own later save (another editor or an agent?): that save's changes are kept where this one did not touch them"] : []),
    ...(s.kept ? [`kept ${n(s.kept, 'change')} from ${mine ? "peers and this machine's own later saves" : 'peers'}`] : []),
    // Each value kept over the one the save showed (tester finding 1: a put-back value read as stale, gone
    // without a word): the file shows the kept one now, and setting it again is taken as an edit.
    ...vs.map((v) =>
      v.replaced ? `${v.path} is ${v.saved} (your save's) over ${v.kept} (your own later save's): both yours, no conflict recorded`
      : v.took ? `${v.path}, added by your own later save, is removed by this one: add it again if the save was made from an older copy`
      : v.gone ? `${v.path} stays removed (your own later save removed it), your save had it: add it again if you meant it`
      : v.own ? `${v.path} stays ${v.kept} (your own later save's), your save had ${v.saved}: set it again if you meant it`
      : v.removed ? `${v.path} stays ${v.kept} (a peer changed it since), your save removed it: remove it again if you meant it`
      : `${v.path} stays ${v.kept} (a peer's), your save had ${v.saved}: set it again if you meant it`),
    // A buffer older than several of the peers' writes lacked their values; naming each (finding 8) hid what mattered.
    ...(s.unnamed ? [`${n(s.unnamed, vs.length ? 'more value' : 'value')} peers changed since the version your save was made from ${s.unnamed === 1 ? 'stays' : 'stay'} theirs (\`ctxsync history ${name}\` lists them)`] : []),
    ...(s.overwritten ? [`${n(s.overwritten, 'value')} a peer had changed meanwhile now ${s.overwritten === 1 ? 'holds' : 'hold'} yours, the peer's kept as a conflict (see status)`] : []),
  ]
  return `${name}: your save was made from an older version; ${said.join('; ')}`
}
