/**
 * The control socket and the client over it, with a stub `SpaceApi` behind a real Unix socket in a temp
 * directory: requests reach the method of the same name with their params, typed errors come back typed,
 * a method the api does not have is refused, and "ask the daemon, else …" (`orElse`) falls back only when
 * nothing answers — not when the daemon answered with an error.
 */
import fs from 'node:fs/promises'
import net from 'node:net'
import os from 'node:os'
import path from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { CtxError, ExitCode } from '../../src/errors.js'
import type { SpaceApi } from '../../src/space/api.js'
import { DaemonClient, orElse } from '../../src/space/client.js'
import { callDaemon, ControlServer, DaemonUnavailable } from '../../src/space/control.js'

const dirs: string[] = []
afterAll(() => Promise.all(dirs.map((d) => fs.rm(d, { recursive: true, force: true }))))

async function socketPath(): Promise<string> {
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'ctxsync-control-'))
  dirs.push(dir)
  return path.join(dir, 'control.sock')
}

function stubApi(calls: Array<[string, unknown]>): SpaceApi {
  const note = (m: string, p: unknown) => calls.push([m, p ?? null])
  return {
    ping: async (p) => (note('ping', p), { pid: 42, memory: process.memoryUsage() }),
    status: async () => {
      throw new CtxError('not-initialized', 'no space here', ExitCode.Error, { hint: 'init' })
    },
    conflicts: async (p) => (note('conflicts', p), { conflicts: [] }),
    resolve: async (p) => {
      note('resolve', p)
      throw new CtxError('no-conflict', `no conflict ${p.id}`)
    },
    sync: async (p) => (note('sync', p), { peers: [], filesChanged: [], pending: [], bytesSent: 0, bytesReceived: 0 }),
    peers: async (p) => (note('peers', p), { book: [], registry: [], found: null, online: [] }),
    syncpoint: async (p) => (note('syncpoint', p), { states: {} }),
    git: async (p) => (note('git', p), { ok: true }),
    stop: async (p) => (note('stop', p), { stopping: true }),
  }
}

describe('control socket and DaemonClient', () => {
  it('each request reaches the method of its name with its params; results and typed errors come back', async () => {
    const socket = await socketPath()
    const calls: Array<[string, unknown]> = []
    const server = new ControlServer(socket, stubApi(calls))
    await server.start()
    try {
      expect((await fs.stat(socket)).mode & 0o777).toBe(0o600)
      const d = new DaemonClient(socket, 42, 'ws://127.0.0.1:1')
      expect((await d.ping()).pid).toBe(42)
      expect(await d.sync({ peers: ['ws://127.0.0.1:2'], registry: null, timeoutMs: 1000 })).toMatchObject({ filesChanged: [] })
      expect(await d.syncpoint({ wait: true })).toEqual({ states: {} })
      expect(await d.git()).toEqual({ ok: true })
      const e = await d.resolve({ id: 'abc', take: 2 }).catch((x: unknown) => x)
      expect(e).toBeInstanceOf(CtxError)
      expect((e as CtxError).code).toBe('no-conflict')
      const s = await d.status().catch((x: unknown) => x)
      expect(s).toMatchObject({ code: 'not-initialized', data: { hint: 'init' } })
      expect(calls).toEqual([
        ['ping', null],
        ['sync', { peers: ['ws://127.0.0.1:2'], registry: null, timeoutMs: 1000 }],
        ['syncpoint', { wait: true }],
        ['git', null],
        ['resolve', { id: 'abc', take: 2 }],
      ])
    } finally {
      await server.close()
    }
  })

  it('a method the api does not have is refused, not dispatched (nor anything on the prototype)', async () => {
    const socket = await socketPath()
    const calls: Array<[string, unknown]> = []
    const server = new ControlServer(socket, stubApi(calls))
    await server.start()
    try {
      for (const method of ['shutdown', 'constructor', 'toString', '__proto__']) {
        const reply = await rawRequest(socket, { id: 7, method, params: null })
        expect(reply).toMatchObject({ id: 7, error: { code: 'unknown-method' } })
      }
      expect(calls).toEqual([])
    } finally {
      await server.close()
    }
  })

  it('orElse: falls back when nothing listens; an error the daemon answered is not a fallback', async () => {
    const gone = new DaemonClient(await socketPath(), 1, '')
    await expect(gone.ping()).rejects.toBeInstanceOf(DaemonUnavailable)
    expect(await orElse(gone, (d) => d.conflicts(), async () => ({ conflicts: [], fallback: true }))).toEqual({ conflicts: [], fallback: true })
    expect(await orElse(null, (d) => d.conflicts(), async () => 'none')).toBe('none')

    const socket = await socketPath()
    const server = new ControlServer(socket, stubApi([]))
    await server.start()
    try {
      const d = new DaemonClient(socket, 1, '')
      await expect(orElse(d, (x) => x.status(), async () => { throw new Error('must not fall back') })).rejects.toMatchObject({ code: 'not-initialized' })
      // callDaemon is typed by the same table as the client.
      expect(await callDaemon(socket, 'peers', null, 2000)).toEqual({ book: [], registry: [], found: null, online: [] })
    } finally {
      await server.close()
    }
  })
})

function rawRequest(socket: string, body: unknown): Promise<unknown> {
  return new Promise((resolve, reject) => {
    const c = net.createConnection(socket)
    let buf = ''
    c.setEncoding('utf8')
    c.on('connect', () => c.write(JSON.stringify(body) + '\n'))
    c.on('error', reject)
    c.on('data', (chunk: string) => {
      buf += chunk
      const nl = buf.indexOf('\n')
      if (nl < 0) return
      c.end()
      resolve(JSON.parse(buf.slice(0, nl)))
    })
  })
}
