/**
 * Heartbeats against a receiver that has stopped reading (back-pressure: a relay working through a 10 MB
 * first sync): the sender's data sits in the socket buffers and its pings wait behind it, so the receiver's
 * own pings are the sign of life. Real WebSockets on 127.0.0.1, a short heartbeat.
 */
import { afterEach, describe, expect, it } from 'vitest'
import type { Listener, Transport } from '../../src/net/TransportInterface.js'
import { listen, wsDialer } from '../../src/net/ws.js'
import { LOOPBACK, sleep } from './helpers.js'

const closers: Array<() => Promise<void> | void> = []
afterEach(async () => {
  for (const c of closers.splice(0)) await c()
})

describe('WsTransport heartbeat', () => {
  it('a receiver that paused reading for many heartbeats is not taken for dead', async () => {
    const HB = 80
    const listener: Listener = await listen({ host: LOOPBACK, port: 0, heartbeatMs: HB })
    closers.push(() => listener.close())
    const accepted = new Promise<Transport>((r) => listener.onConnection(r))
    const sender = await wsDialer({ heartbeatMs: HB }).dial(listener.url, { timeoutMs: 2000 })
    const receiver = await accepted
    closers.unshift(() => sender.close(1000, 'done'))
    let closed: [number, string] | undefined
    sender.on('close', (code, reason) => (closed = [code, reason]))
    receiver.pause!()
    sender.send(new Uint8Array(64 * 1024))
    await sleep(HB * 10)
    expect(closed).toBeUndefined()
    let got = 0
    receiver.on('message', (f) => (got += f.length))
    receiver.resume!()
    await sleep(HB * 3)
    expect(got).toBe(64 * 1024)
    expect(closed).toBeUndefined()
  })
})
