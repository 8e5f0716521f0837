/**
 * The local control channel of a running daemon: newline-delimited JSON requests over a Unix socket in
 * `.ctxsync/` (mode 0600). While `ctxsync watch` holds a space, `sync`, `resolve`, `status` and `stop` ask it
 * rather than open the space themselves — so only one process ever writes the sidecars and files. The
 * methods, their params and results are `SpaceApi`'s (api.ts): the server calls the daemon's implementation,
 * `callDaemon` is typed by the same table (`ControlProtocol`), and `client.ts` wraps it for commands.
 */
import fs from 'node:fs/promises'
import net from 'node:net'
import { CtxError, ExitCode } from '../errors.js'
import { logger } from '../debuglog.js'
import { isControlMethod, type ControlMethod, type ControlProtocol, type SpaceApi } from './api.js'

const log = logger('space:control')
const MAX_LINE = 1 << 20

export type { ControlMethod, ControlProtocol }

interface Request {
  id: number
  method: unknown
  params?: unknown
}

interface ErrorBody {
  code: string
  message: string
  exitCode: number
  data?: unknown
}

export class ControlServer {
  private server: net.Server | null = null

  constructor(
    private readonly socket: string,
    /** Answers each request; the daemon's `LiveSpace`. */
    private readonly api: SpaceApi,
  ) {}

  async start(): Promise<void> {
    await fs.rm(this.socket, { force: true })
    const server = net.createServer((c) => this.serve(c))
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject)
      server.listen(this.socket, () => resolve())
    })
    await fs.chmod(this.socket, 0o600).catch(() => undefined)
    this.server = server
  }

  private serve(c: net.Socket): void {
    let buf = ''
    c.setEncoding('utf8')
    c.on('error', () => undefined)
    c.on('data', (chunk: string) => {
      buf += chunk
      if (buf.length > MAX_LINE) return c.destroy()
      let nl: number
      while ((nl = buf.indexOf('\n')) >= 0) {
        const line = buf.slice(0, nl)
        buf = buf.slice(nl + 1)
        void this.answer(c, line)
      }
    })
  }

  private async answer(c: net.Socket, line: string): Promise<void> {
    let req: Request
    try {
      req = JSON.parse(line) as Request
    } catch {
      return void c.destroy()
    }
    let body: { id: number; result?: unknown; error?: ErrorBody }
    try {
      if (!isControlMethod(req.method)) throw new CtxError('unknown-method', `no such control method: ${String(req.method)}`)
      body = { id: req.id, result: await dispatch(this.api, req.method, req.params ?? null) }
    } catch (e) {
      const err = e as Error & Partial<CtxError>
      log('%s failed: %s', String(req.method), err.message)
      body = {
        id: req.id,
        error: { code: err.code ?? 'internal', message: err.message, exitCode: err.exitCode ?? ExitCode.Error, data: err.data },
      }
    }
    if (!c.destroyed) c.write(JSON.stringify(body) + '\n')
  }

  async close(): Promise<void> {
    const s = this.server
    this.server = null
    if (s) await new Promise<void>((resolve) => s.close(() => resolve()))
    await fs.rm(this.socket, { force: true }).catch(() => undefined)
  }
}

export class DaemonUnavailable extends Error {}

/**
 * Calls one method of the api with params read off the socket. The params are trusted as far as their
 * type: the socket is this user's own (mode 0600), and what each method does with them checks the rest.
 */
function dispatch<M extends ControlMethod>(api: SpaceApi, method: M, params: unknown): Promise<ControlProtocol[M]['result']> {
  const call = api[method].bind(api) as (p: ControlProtocol[M]['params']) => Promise<ControlProtocol[M]['result']>
  return call(params as ControlProtocol[M]['params'])
}

/** Sends one request to the daemon. Throws DaemonUnavailable when nothing listens on the socket. */
export function callDaemon<M extends ControlMethod>(socket: string, method: M, params: ControlProtocol[M]['params'], timeoutMs: number): Promise<ControlProtocol[M]['result']> {
  type T = ControlProtocol[M]['result']
  return new Promise<T>((resolve, reject) => {
    const c = net.createConnection(socket)
    let buf = ''
    let connected = false
    const timer = setTimeout(() => {
      c.destroy()
      reject(connected ? new CtxError('daemon-timeout', `the ctxsync daemon did not answer within ${Math.round(timeoutMs / 1000)} s`) : new DaemonUnavailable('timeout'))
    }, timeoutMs)
    c.setEncoding('utf8')
    c.on('connect', () => {
      connected = true
      c.write(JSON.stringify({ id: 1, method, params }) + '\n')
    })
    c.on('error', (e) => {
      clearTimeout(timer)
      reject(connected ? e : new DaemonUnavailable(e.message))
    })
    c.on('data', (chunk: string) => {
      buf += chunk
      const nl = buf.indexOf('\n')
      if (nl < 0) return
      clearTimeout(timer)
      c.end()
      const body = JSON.parse(buf.slice(0, nl)) as { result?: T; error?: ErrorBody }
      if (body.error) reject(new CtxError(body.error.code, body.error.message, body.error.exitCode as ExitCode, body.error.data))
      else resolve(body.result as T)
    })
  })
}
