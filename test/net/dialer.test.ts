/** The Dialer/Listener contract (dialer.contract.ts) on the WebSocket transport (127.0.0.1) and on MemoryNet. */
import { describe, expect, it } from 'vitest'
import { MemoryNet } from '../../src/net/memory.js'
import type { Listener, Transport } from '../../src/net/TransportInterface.js'
import { listen, wsDialer } from '../../src/net/ws.js'
import { dialerContract } from './dialer.contract.js'
import { closedPort, LOOPBACK, waitFor } from './helpers.js'

dialerContract('ws on 127.0.0.1', async () => {
  const listeners: Listener[] = []
  return {
    dialer: wsDialer(),
    listen: async () => {
      const l = await listen({ host: LOOPBACK, port: 0 })
      listeners.push(l)
      return l
    },
    nowhere: async () => `ws://${LOOPBACK}:${await closedPort()}`,
    cleanup: async () => void (await Promise.all(listeners.map((l) => l.close()))),
  }
})

dialerContract('MemoryNet', async () => {
  const net = new MemoryNet()
  const listeners: Listener[] = []
  return {
    dialer: net.dialerFor('dialer'),
    listen: async () => {
      const l = await net.listenerFor()()
      listeners.push(l)
      return l
    },
    nowhere: async () => 'memory://nowhere',
    cleanup: async () => void (await Promise.all(listeners.map((l) => l.close()))),
  }
})

describe('MemoryNet partitions', () => {
  it('partition cuts links across groups (1006) and refuses dials across them until heal; dials are recorded', async () => {
    const net = new MemoryNet()
    const la = await net.listenerFor('a')()
    const lb = await net.listenerFor('b')()
    const atB: Transport[] = []
    lb.onConnection((t) => atB.push(t))
    la.onConnection(() => {})
    const ab = await net.dialerFor('a').dial('memory://b', { timeoutMs: 100 })
    const cb = await net.dialerFor('c').dial('memory://b', { timeoutMs: 100 })
    const closes: number[] = []
    ab.on('close', (code) => closes.push(code))
    net.partition([['a'], ['b', 'c']])
    await waitFor(() => closes.length === 1)
    expect(closes).toEqual([1006])
    expect(cb.open).toBe(true)
    await expect(net.dialerFor('a').dial('memory://b', { timeoutMs: 100 })).rejects.toMatchObject({ code: 'unreachable' })
    await expect(net.dialerFor('b').dial('memory://a', { timeoutMs: 100 })).rejects.toThrow(/no route from b to a/)
    // An unnamed dialer belongs to no group: a partition never cuts it.
    await net.dialer.dial('memory://a', { timeoutMs: 100 })
    net.heal()
    await net.dialerFor('a').dial('memory://b', { timeoutMs: 100 })
    expect(net.dials.filter((u) => u === 'memory://b')).toHaveLength(4)
    await expect(net.listenerFor('a')()).rejects.toMatchObject({ code: 'listen-failed' })
    // A node's process dies: every link of it goes (1006), other links stay.
    const toA = await net.dialerFor('c').dial('memory://a', { timeoutMs: 100 })
    const dropped: number[] = []
    toA.on('close', (code) => dropped.push(code))
    net.drop('a')
    await waitFor(() => dropped.length === 1)
    expect(dropped).toEqual([1006])
    expect(cb.open).toBe(true)
    await la.close()
    await lb.close()
  })
})
