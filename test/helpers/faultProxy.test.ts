/**
 * The fault proxy itself, against a plain `ws` echo server on 127.0.0.1: each fault does what it says on
 * whole frames (so the WebSocket layer on both sides still parses), and heal() brings everything back.
 */
import { afterEach, describe, expect, it } from 'vitest'
import { WebSocket, WebSocketServer } from 'ws'
import { FaultProxy, frameLength } from './faultProxy.js'

const cleanups: Array<() => Promise<void> | void> = []
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c()
})

/** A server that sends back each message it gets (as binary), and the proxy in front of it. */
async function rig(seed = 7): Promise<{ proxy: FaultProxy }> {
  const wss = new WebSocketServer({ host: '127.0.0.1', port: 0 })
  await new Promise<void>((r) => wss.once('listening', () => r()))
  wss.on('connection', (ws) => ws.on('message', (d) => ws.send(d as Buffer, { binary: true })))
  cleanups.push(() => new Promise<void>((r) => {
    for (const c of wss.clients) c.terminate()
    wss.close(() => r())
  }))
  const proxy = await FaultProxy.start((wss.address() as { port: number }).port, { seed })
  cleanups.push(() => proxy.close())
  return { proxy }
}

interface Client { ws: WebSocket; got: string[]; closed: Promise<number> }
async function connect(url: string): Promise<Client> {
  const ws = new WebSocket(url)
  const got: string[] = []
  ws.on('message', (d) => got.push(String(d)))
  const closed = new Promise<number>((r) => ws.on('close', (code) => r(code)))
  ws.on('error', () => undefined)
  await new Promise<void>((resolve, reject) => {
    ws.once('open', () => resolve())
    ws.once('error', reject)
  })
  cleanups.push(() => ws.terminate())
  return { ws, got, closed }
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))
async function until(cond: () => boolean, ms = 3000): Promise<void> {
  const end = Date.now() + ms
  while (!cond()) {
    if (Date.now() > end) throw new Error('timed out')
    await sleep(5)
  }
}

describe('FaultProxy', () => {
  it('parses frame lengths of every size class, masked or not', () => {
    expect(frameLength(Buffer.from([0x82, 0x03, 1, 2]))).toBe(0)
    expect(frameLength(Buffer.from([0x82, 0x03, 1, 2, 3]))).toBe(5)
    expect(frameLength(Buffer.concat([Buffer.from([0x82, 0x83, 9, 9, 9, 9]), Buffer.alloc(3)]))).toBe(9)
    const mid = Buffer.alloc(4 + 300)
    mid[0] = 0x82; mid[1] = 126; mid.writeUInt16BE(300, 2)
    expect(frameLength(mid)).toBe(304)
    const big = Buffer.alloc(10 + 70_000)
    big[0] = 0x82; big[1] = 127; big.writeBigUInt64BE(70_000n, 2)
    expect(frameLength(big)).toBe(70_010)
    expect(frameLength(big.subarray(0, 70_009))).toBe(0)
  })

  it('passes frames in order with added latency', async () => {
    const { proxy } = await rig()
    proxy.set({ latencyMs: 40, jitterMs: 20 })
    const c = await connect(proxy.url)
    const t0 = Date.now()
    for (let i = 0; i < 20; i++) c.ws.send(Buffer.from(`m${i}`))
    await until(() => c.got.length === 20)
    expect(Date.now() - t0).toBeGreaterThanOrEqual(80) // both directions
    expect(c.got).toEqual(Array.from({ length: 20 }, (_, i) => `m${i}`))
  })

  it('drops, duplicates and reorders whole data frames', async () => {
    const { proxy } = await rig()
    const c = await connect(proxy.url)
    proxy.set({ duplicate: 1 })
    c.ws.send(Buffer.from('a'))
    await until(() => c.got.length === 4) // doubled on the way there and on the way back
    expect(c.got).toEqual(['a', 'a', 'a', 'a'])
    proxy.set({ duplicate: 0, reorder: 1, direction: 'down' })
    c.got.length = 0
    for (const m of ['1', '2', '3', '4']) c.ws.send(Buffer.from(m))
    await until(() => c.got.length === 4)
    expect(c.got).not.toEqual(['1', '2', '3', '4'])
    expect([...c.got].sort()).toEqual(['1', '2', '3', '4'])
    proxy.set({ reorder: 0, drop: 1, direction: 'both' })
    c.got.length = 0
    c.ws.send(Buffer.from('lost'))
    await sleep(100)
    expect(c.got).toEqual([])
    expect(proxy.stats).toMatchObject({ dropped: 1, duplicated: 3 })
    expect(proxy.stats.reordered).toBeGreaterThanOrEqual(2)
    proxy.heal()
    c.ws.send(Buffer.from('back'))
    await until(() => c.got.length === 1)
    expect(c.got).toEqual(['back'])
  })

  it('cuts connections, refuses during a partition, stalls during a blackhole, and heals', async () => {
    const { proxy } = await rig()
    const c = await connect(proxy.url)
    proxy.cutAll()
    expect(await c.closed).toBeGreaterThan(0)

    proxy.partition('refuse', 10_000)
    await expect(connect(proxy.url)).rejects.toThrow()
    expect(proxy.stats.refused).toBe(1)
    proxy.heal()
    const d = await connect(proxy.url)

    proxy.partition('blackhole', 150)
    const t0 = Date.now()
    d.ws.send(Buffer.from('held'))
    await sleep(80)
    expect(d.got).toEqual([])
    await until(() => d.got.length === 1)
    expect(Date.now() - t0).toBeGreaterThanOrEqual(140)

    proxy.set({ cut: 1 })
    d.ws.send(Buffer.from('x'))
    expect(await d.closed).toBeGreaterThan(0)
    expect(proxy.stats.cuts).toBe(2)
    expect(proxy.connections).toBe(0)
  })
})
