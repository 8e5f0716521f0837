/**
 * The daemon (`ctxsync watch`): holds the space, watches the tracked files, listens for peers and keeps
 * connections to the configured ones, and answers local commands on the control socket. It stops on
 * SIGINT/SIGTERM or `ctxsync stop`, flushing every sidecar and file first.
 */
import fs from 'node:fs/promises'
import { CtxError } from '../errors.js'
import { writeFileAtomic } from '../fs/atomic.js'
import { Watcher } from '../fs/watcher.js'
import { asDocName } from '../ids.js'
import { PeerManager, type PeerState } from '../net/peers.js'
import type { Take } from '../crdt/present.js'
import { ControlServer, type ControlMethod } from './control.js'
import { SpaceHost } from './host.js'
import { noSecretError, syncSpace, type SyncRequest } from './session.js'
import { Space } from './space.js'
import { PeerBook, SummaryWriter } from './summary.js'
import { liveStatus } from './status.js'

export interface DaemonOptions {
  cwd: string
  port?: number
  host?: string
  peers?: string[]
  /** Progress and problems, one line each, for stderr. */
  say: (line: string) => void
  heartbeatMs?: number
}

export interface DaemonInfo {
  pid: number
  url: string
  port: number
  socket: string
  startedAt: string
}

export class Daemon {
  readonly done: Promise<void>
  private finish!: () => void
  private stopping: Promise<void> | null = null

  private constructor(
    readonly space: Space,
    readonly peers: PeerManager,
    readonly watcher: Watcher,
    readonly control: ControlServer,
    readonly book: PeerBook,
    readonly summary: SummaryWriter,
    readonly info: DaemonInfo,
    private readonly say: (line: string) => void,
  ) {
    this.done = new Promise((r) => (this.finish = r))
  }

  static async start(o: DaemonOptions): Promise<Daemon> {
    const space = await Space.open({ cwd: o.cwd, command: 'ctxsync watch', lock: { wait: 0 }, warn: (m) => o.say(`warning: ${m}`) })
    const cleanup: Array<() => Promise<unknown>> = [() => space.close()]
    try {
      if (!space.secret) throw noSecretError(space)
      const book = await new PeerBook(space.paths.peers).load()
      const summary = new SummaryWriter(space)
      wireSpaceEvents(space, o.say)
      const report = await space.scan()
      if (report.enrolled.length) o.say(`enrolled ${report.enrolled.length} file(s)`)
      const host = space.local.host
      const port = o.port ?? space.local.port
      const peers = new PeerManager({
        host: new SpaceHost(space),
        secret: space.secret,
        listen: { host: o.host ?? host, port },
        peers: o.peers ?? space.local.peers,
        heartbeatMs: o.heartbeatMs,
      })
      let started: { url?: string; port?: number }
      try {
        started = await peers.start()
      } catch (e) {
        const code = (e as NodeJS.ErrnoException).code
        if (code === 'EADDRINUSE') throw new CtxError('port-in-use', `port ${port} is in use: pass --port (0 picks a free one) or stop the other program`)
        throw e
      }
      cleanup.unshift(() => peers.stop())
      wirePeerEvents(peers, book, o.say)
      const watcher = new Watcher({ root: space.root, include: space.config.track })
      cleanup.unshift(() => watcher.close())
      watcher.on('file', (ev) => void space.onLocalFile(asDocName(ev.path), ev.text, ev.hash).catch((e: Error) => o.say(`${ev.path}: ${e.message}`)))
      watcher.on('deleted', (ev) => void space.onLocalDelete(asDocName(ev.path)))
      watcher.on('unreadable', (ev) => o.say(`${ev.path}: skipped (${ev.reason})`))
      watcher.on('error', (e) => o.say(`watcher: ${e.message}`))
      await watcher.ready()
      await space.scan() // changes made while the watcher started
      const info: DaemonInfo = { pid: process.pid, url: started.url ?? '', port: started.port ?? 0, socket: space.paths.socket, startedAt: new Date().toISOString() }
      let daemon: Daemon | null = null
      const control = new ControlServer(space.paths.socket, (m, p) => daemon!.handle(m, p))
      await control.start()
      daemon = new Daemon(space, peers, watcher, control, book, summary, info, o.say)
      await writeFileAtomic(space.paths.daemon, JSON.stringify(info, null, 1) + '\n')
      await summary.flush()
      return daemon
    } catch (e) {
      for (const c of cleanup) await c().catch(() => undefined)
      throw e
    }
  }

  private async handle(method: ControlMethod, params: unknown): Promise<unknown> {
    switch (method) {
      case 'ping':
        return { pid: process.pid }
      case 'status':
        return liveStatus(this.space, { running: true, pid: process.pid, url: this.info.url }, this.peerRecords())
      case 'conflicts':
        return { conflicts: this.space.conflicts() }
      case 'resolve': {
        const p = params as { id: string; take: Take }
        return { resolved: await this.space.resolve(p.id, p.take) }
      }
      case 'sync': {
        const req = params as SyncRequest & { peers: string[] | null }
        const urls = req.peers ?? this.space.local.peers
        return syncSpace(this.space, { peers: urls, timeoutMs: req.timeoutMs }, { book: this.book, connected: this.peers.peers() })
      }
      case 'stop':
        setImmediate(() => void this.stop())
        return { stopping: true }
    }
  }

  peerRecords() {
    const live = new Map(this.peers.peers().filter((p) => p.id).map((p) => [p.id!, p]))
    return this.book.list().map((r) => ({ ...r, connected: live.get(r.id as never)?.state === 'connected' }))
  }

  stop(): Promise<void> {
    this.stopping ??= (async () => {
      this.say('stopping: saving state')
      await this.control.close().catch(() => undefined)
      await this.watcher.close().catch(() => undefined)
      await this.peers.stop().catch(() => undefined)
      await this.space.settle()
      await this.summary.flush()
      await this.book.save()
      await this.space.close()
      await fs.rm(this.space.paths.daemon, { force: true })
      this.finish()
    })()
    return this.stopping
  }
}

function wireSpaceEvents(space: Space, say: (line: string) => void): void {
  space.on('held', (name: string, p: { line: number; col: number; message: string }) =>
    say(`${name}:${p.line}:${p.col}: ${p.message} — held: nothing from it is sent until it parses again`),
  )
  space.on('released', (name: string) => say(`${name}: parses again, changes merged`))
  space.on('refused', (name: string, reason: string) => say(`${name}: refused: ${reason}`))
  space.on('file-written', (name: string) => say(`updated ${name}`))
  space.on('file-deleted', (name: string) => say(`deleted ${name} (deleted by a peer)`))
}

function wirePeerEvents(peers: PeerManager, book: PeerBook, say: (line: string) => void): void {
  const label = (p: PeerState) => `${p.name ?? p.id ?? '?'}${p.kind === 'agent' ? ' (agent)' : ''}${p.url ? ` at ${p.url}` : ''}`
  peers.on('peer-connected', (p) => {
    if (p.id) book.seen({ id: p.id, name: p.name ?? p.id, kind: p.kind ?? 'human', host: p.host, url: p.url, connected: true })
    say(`connected to ${label(p)}`)
  })
  peers.on('peer-disconnected', (p, info) => {
    if (p.id) book.disconnected(p.id)
    say(`disconnected from ${label(p)} (${info.reason || info.code})`)
  })
  peers.on('peer-refused', (p, info) => say(`access refused by ${label(p)}: ${info.reason || 'wrong secret'}`))
}
