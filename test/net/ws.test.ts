import { afterEach, describe, expect, it } from 'vitest'
import { WebSocket, WebSocketServer } from 'ws'
import { EventEmitter } from 'node:events'
import { listen, wsDialer, WsTransport } from '../../src/net/ws.js'
import type { Transport } from '../../src/net/TransportInterface.js'
import { transportContract } from './transport.contract.js'
import { closedPort, LOOPBACK, waitFor } from './helpers.js'

async function wsPair(opts: { maxFrameBytes?: number; heartbeatMs?: number }) {
  const listener = await listen({ host: LOOPBACK, port: 0, ...opts })
  const accepted = new Promise<Transport>((resolve) => listener.onConnection(resolve))
  const a = await wsDialer(opts).dial(listener.url, { timeoutMs: 2000 })
  const b = await accepted
  return { a, b, listener }
}

transportContract('ws', async (opts) => {
  const { a, b, listener } = await wsPair(opts)
  return {
    a,
    b,
    cleanup: async () => {
      a.close(1000, 'test over')
      await listener.close()
    },
  }
})

describe('ws transport', () => {
  const cleanups: Array<() => Promise<void> | void> = []
  afterEach(async () => {
    for (const c of cleanups.splice(0)) await c()
  })

  it('listens on an ephemeral port and reports ws://host:port', async () => {
    const listener = await listen({ host: LOOPBACK, port: 0 })
    cleanups.push(() => listener.close())
    expect(listener.port).toBeGreaterThan(0)
    expect(listener.url).toBe(`ws://${LOOPBACK}:${listener.port}`)
  })

  it('refuses text frames with 1003', async () => {
    const listener = await listen({ host: LOOPBACK, port: 0 })
    cleanups.push(() => listener.close())
    const closes: number[] = []
    listener.onConnection((t) => t.on('close', (code) => closes.push(code)))
    const raw = new WebSocket(listener.url)
    raw.on('error', () => undefined) // a reset after the refusal is expected
    await new Promise((r) => raw.once('open', r))
    const rawClose = new Promise<number>((r) => raw.once('close', (code) => r(code)))
    raw.send('hello as text')
    expect(await rawClose).toBe(1003)
    await waitFor(() => closes.length === 1)
    expect(closes).toEqual([1003])
  })

  it('holds frames that arrive before anyone listens, then delivers them in order', async () => {
    const { a, b, listener } = await wsPair({})
    cleanups.push(() => listener.close())
    b.send(Uint8Array.of(1))
    b.send(Uint8Array.of(2))
    await new Promise((r) => setTimeout(r, 50))
    const got: number[] = []
    a.on('message', (f) => got.push(f[0]!))
    await waitFor(() => got.length === 2)
    expect(got).toEqual([1, 2])
  })

  it('keeps order when frames arrive between the first listener and the early flush', async () => {
    const fake = Object.assign(new EventEmitter(), { readyState: WebSocket.OPEN, bufferedAmount: 0 })
    const t = new WsTransport(fake as unknown as WebSocket, 'fake', 0)
    fake.emit('message', Buffer.of(1), true)
    const got: number[] = []
    t.on('message', (f) => got.push(f[0]!))
    fake.emit('message', Buffer.of(2), true) // before the flush tick
    await waitFor(() => got.length === 2)
    fake.emit('message', Buffer.of(3), true)
    expect(got).toEqual([1, 2, 3])
  })

  it('heartbeats drop a dialled peer that stops answering pings (4408)', async () => {
    const listener = await listen({ host: LOOPBACK, port: 0, heartbeatMs: 40 })
    cleanups.push(() => listener.close())
    const closes: Array<[number, string]> = []
    listener.onConnection((t) => t.on('close', (code, reason) => closes.push([code, reason])))
    // A client that never answers pings: a hung or suspended peer.
    const mute = new WebSocket(listener.url, { autoPong: false })
    mute.on('error', () => undefined) // a reset after the refusal is expected
    cleanups.push(() => mute.terminate())
    await new Promise((r) => mute.once('open', r))
    await waitFor(() => closes.length === 1, 2000, 'heartbeat timeout')
    expect(closes[0]![0]).toBe(4408)
  })

  it('heartbeats drop a listener that stops answering pings (4408)', async () => {
    const server = new WebSocketServer({ host: LOOPBACK, port: 0, autoPong: false })
    await new Promise((r) => server.once('listening', r))
    cleanups.push(
      () =>
        new Promise<void>((r) => {
          for (const c of server.clients) c.terminate()
          server.close(() => r())
        }),
    )
    const port = (server.address() as { port: number }).port
    const t = await wsDialer({ heartbeatMs: 40 }).dial(`ws://${LOOPBACK}:${port}`, { timeoutMs: 2000 })
    const closed = new Promise<number>((r) => t.on('close', (code) => r(code)))
    expect(await closed).toBe(4408)
  })

  it('a live peer answering pings stays connected', async () => {
    const { a, b, listener } = await wsPair({ heartbeatMs: 20 })
    cleanups.push(() => listener.close())
    await new Promise((r) => setTimeout(r, 200))
    expect(a.open && b.open).toBe(true)
    a.close(1000, 'done')
  })

  it('dialling a closed port on 127.0.0.1 rejects with a clear error', async () => {
    const port = await closedPort()
    await expect(wsDialer().dial(`ws://${LOOPBACK}:${port}`, { timeoutMs: 1000 })).rejects.toThrow(/cannot reach/)
  })

  it('rejects URLs that are not ws:// or wss://', async () => {
    await expect(wsDialer().dial('http://127.0.0.1:1', { timeoutMs: 100 })).rejects.toThrow(/not a WebSocket URL/)
  })

  it('listener.close() closes its connections with 1001', async () => {
    const { a, listener } = await wsPair({})
    const closed = new Promise<number>((r) => a.on('close', (code) => r(code)))
    await listener.close()
    expect(await closed).toBe(1001)
  })
})

describe('listening on a port in use', () => {
  it('rejects with a message, and nothing is left unhandled (the daemon crashed with a stack trace: CI)', async () => {
    const net = await import('node:net')
    const taken = net.createServer()
    await new Promise<void>((r) => taken.listen(0, LOOPBACK, () => r()))
    const port = (taken.address() as { port: number }).port
    try {
      await expect(listen({ host: LOOPBACK, port })).rejects.toThrow(/cannot listen on .*EADDRINUSE/)
    } finally {
      await new Promise((r) => taken.close(r))
    }
  })
})
