import { describe, expect, it } from 'vitest'
import { createConnectedPair } from '../../src/net/memory.js'
import { transportContract } from './transport.contract.js'
import { waitFor } from './helpers.js'

transportContract('memory', async ({ maxFrameBytes }) => {
  const [a, b] = createConnectedPair(maxFrameBytes ? { maxFrameBytes } : {})
  return { a, b, cleanup: async () => a.close(1000, 'test over') }
})

describe('memory transport', () => {
  it('pause() holds delivery and shows up as the sender’s bufferedAmount', async () => {
    const [a, b] = createConnectedPair()
    const got: Uint8Array[] = []
    b.on('message', (f) => got.push(f))
    b.pause()
    a.send(new Uint8Array(1000))
    a.send(new Uint8Array(500))
    await new Promise((r) => setTimeout(r, 10))
    expect(got.length).toBe(0)
    expect(a.bufferedAmount).toBe(1500)
    b.resume()
    await waitFor(() => got.length === 2)
    expect(a.bufferedAmount).toBe(0)
  })

  it('copies frames, so a sender reusing its buffer cannot change what was sent', async () => {
    const [a, b] = createConnectedPair()
    const got: Uint8Array[] = []
    b.on('message', (f) => got.push(f))
    const buf = Uint8Array.of(1, 2, 3)
    a.send(buf)
    buf[0] = 9
    await waitFor(() => got.length === 1)
    expect([...got[0]!]).toEqual([1, 2, 3])
  })
})
