/**
 * The Transport contract (src/net/TransportInterface.ts) as a test suite, run against every
 * implementation: memory.test.ts and ws.test.ts call `transportContract` with a factory of connected pairs.
 */
import { describe, expect, it } from 'vitest'
import type { Transport } from '../../src/net/TransportInterface.js'
import { sleep, waitFor } from './helpers.js'

export interface TransportFixture {
  a: Transport
  b: Transport
  cleanup(): Promise<void>
}

export type MakePair = (opts: { maxFrameBytes?: number }) => Promise<TransportFixture>

function collect(t: Transport): { frames: Uint8Array[]; closes: Array<[number, string]> } {
  const out = { frames: [] as Uint8Array[], closes: [] as Array<[number, string]> }
  t.on('message', (f) => out.frames.push(f))
  t.on('close', (code, reason) => out.closes.push([code, reason]))
  return out
}

export function transportContract(name: string, makePair: MakePair): void {
  describe(`${name}: Transport contract`, () => {
    it('delivers binary frames intact and in order, both ways', async () => {
      const { a, b, cleanup } = await makePair({})
      const ra = collect(a)
      const rb = collect(b)
      for (let i = 0; i < 50; i++) a.send(Uint8Array.of(i, 255 - i, 0, i))
      b.send(new Uint8Array(70_000).fill(7))
      await waitFor(() => rb.frames.length === 50 && ra.frames.length === 1)
      expect(rb.frames.map((f) => f[0])).toEqual([...Array(50).keys()])
      expect([...rb.frames[49]!]).toEqual([49, 206, 0, 49])
      expect(ra.frames[0]!.length).toBe(70_000)
      expect(ra.frames[0]!.every((x) => x === 7)).toBe(true)
      await cleanup()
    })

    it('reports remote, open and a numeric bufferedAmount', async () => {
      const { a, b, cleanup } = await makePair({})
      expect(typeof a.remote).toBe('string')
      expect(a.remote.length).toBeGreaterThan(0)
      expect(a.open && b.open).toBe(true)
      expect(typeof a.bufferedAmount).toBe('number')
      await cleanup()
    })

    it('close fires exactly once on both ends, with the code and reason', async () => {
      const { a, b, cleanup } = await makePair({})
      const ra = collect(a)
      const rb = collect(b)
      a.send(Uint8Array.of(1))
      a.close(4403, 'other space')
      a.close(1000, 'again')
      expect(a.open).toBe(false)
      await waitFor(() => ra.closes.length === 1 && rb.closes.length === 1)
      await sleep(30)
      expect(ra.closes).toEqual([[4403, 'other space']])
      expect(rb.closes).toEqual([[4403, 'other space']])
      expect(rb.frames.length).toBe(1) // what was sent before the close still arrives
      expect(b.open).toBe(false)
      await cleanup()
    })

    it('send after close is a silent no-op', async () => {
      const { a, b, cleanup } = await makePair({})
      const rb = collect(b)
      a.close(1000, 'done')
      expect(() => a.send(Uint8Array.of(1, 2, 3))).not.toThrow()
      await waitFor(() => rb.closes.length === 1)
      expect(() => b.send(Uint8Array.of(1))).not.toThrow()
      await sleep(20)
      expect(rb.frames).toEqual([])
      await cleanup()
    })

    it('a throwing listener breaks neither delivery nor other listeners', async () => {
      const { a, b, cleanup } = await makePair({})
      b.on('message', () => {
        throw new Error('listener bug')
      })
      const rb = collect(b)
      a.send(Uint8Array.of(1))
      a.send(Uint8Array.of(2))
      await waitFor(() => rb.frames.length === 2)
      await cleanup()
    })

    it('off() removes a listener', async () => {
      const { a, b, cleanup } = await makePair({})
      let n = 0
      const l = (): void => void n++
      b.on('message', l)
      const rb = collect(b)
      a.send(Uint8Array.of(1))
      await waitFor(() => rb.frames.length === 1)
      b.off('message', l)
      a.send(Uint8Array.of(2))
      await waitFor(() => rb.frames.length === 2)
      expect(n).toBe(1)
      await cleanup()
    })

    it('a frame over maxFrameBytes closes both ends with 1009', async () => {
      const { a, b, cleanup } = await makePair({ maxFrameBytes: 4096 })
      const ra = collect(a)
      const rb = collect(b)
      a.send(new Uint8Array(4096)) // at the limit: fine
      await waitFor(() => rb.frames.length === 1)
      a.send(new Uint8Array(4097))
      await waitFor(() => ra.closes.length === 1 && rb.closes.length === 1)
      expect(ra.closes[0]![0]).toBe(1009)
      expect(rb.closes[0]![0]).toBe(1009)
      expect(rb.frames.length).toBe(1)
      await cleanup()
    })
  })
}
