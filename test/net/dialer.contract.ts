/**
 * The Dialer/Listener contract (src/net/TransportInterface.ts) as a shared suite, run on every
 * implementation: the WebSocket pair of `ws.ts` on 127.0.0.1 and `MemoryNet` of `memory.ts`
 * (test/net/dialer.test.ts). PeerManager relies on exactly these promises: a dial either reaches the
 * listener's `onConnection` or fails with a typed error (it retries with backoff; a hang would stall a peer
 * for good), the two ends carry frames and closes both ways, and closing a listener ends what it accepted.
 */
import { describe, expect, it } from 'vitest'
import type { Dialer, Listener, Transport } from '../../src/net/TransportInterface.js'
import { sleep, waitFor } from './helpers.js'

export interface DialerFixture {
  dialer: Dialer
  /** A new listener on a fresh address. */
  listen(): Promise<Listener>
  /** An address in the implementation's scheme where nothing listens. */
  nowhere(): Promise<string>
  cleanup(): Promise<void>
}

const DIAL = { timeoutMs: 2000 }

function collect(t: Transport): { frames: number[][]; closes: Array<[number, string]> } {
  const out = { frames: [] as number[][], closes: [] as Array<[number, string]> }
  t.on('message', (f) => out.frames.push([...f]))
  t.on('close', (code, reason) => out.closes.push([code, reason]))
  return out
}

/** A dial that neither resolves nor rejects within `ms` is a hang: the contract forbids it. */
function settlesWithin<T>(p: Promise<T>, ms: number): Promise<T> {
  return Promise.race([p, sleep(ms).then(() => Promise.reject(new Error(`hung for ${ms} ms`)))])
}

export function dialerContract(name: string, make: () => Promise<DialerFixture>): void {
  describe(`${name}: Dialer/Listener contract`, () => {
    it('a dial reaches the listener’s onConnection; frames go both ways, in order', async () => {
      const f = await make()
      try {
        const l = await f.listen()
        expect(l.url.length).toBeGreaterThan(0)
        const accepted = new Promise<Transport>((r) => l.onConnection(r))
        const a = await f.dialer.dial(l.url, DIAL)
        const b = await accepted
        expect(a.open && b.open).toBe(true)
        expect(a.remote.length).toBeGreaterThan(0)
        const ra = collect(a)
        const rb = collect(b)
        for (let i = 0; i < 5; i++) a.send(Uint8Array.of(i))
        b.send(Uint8Array.of(42, 43))
        await waitFor(() => rb.frames.length === 5 && ra.frames.length === 1)
        expect(rb.frames).toEqual([[0], [1], [2], [3], [4]])
        expect(ra.frames).toEqual([[42, 43]])
      } finally {
        await f.cleanup()
      }
    })

    it('each dial is its own connection: two dials, two transports, frames never cross', async () => {
      const f = await make()
      try {
        const l = await f.listen()
        const got: Transport[] = []
        l.onConnection((t) => got.push(t))
        const a1 = await f.dialer.dial(l.url, DIAL)
        const a2 = await f.dialer.dial(l.url, DIAL)
        await waitFor(() => got.length === 2)
        const r = got.map(collect)
        a1.send(Uint8Array.of(1))
        a2.send(Uint8Array.of(2))
        await waitFor(() => r[0]!.frames.length + r[1]!.frames.length === 2)
        await sleep(20)
        expect(r.map((x) => x.frames).sort()).toEqual([[[1]], [[2]]])
      } finally {
        await f.cleanup()
      }
    })

    it('a close travels with its code and reason, from either end', async () => {
      const f = await make()
      try {
        const l = await f.listen()
        const got: Transport[] = []
        l.onConnection((t) => got.push(t))
        const a1 = await f.dialer.dial(l.url, DIAL)
        await waitFor(() => got.length === 1)
        const r1 = collect(got[0]!)
        a1.close(4403, 'other space')
        await waitFor(() => r1.closes.length === 1)
        expect(r1.closes).toEqual([[4403, 'other space']])

        const a2 = await f.dialer.dial(l.url, DIAL)
        await waitFor(() => got.length === 2)
        const r2 = collect(a2)
        got[1]!.close(4401, 'bad proof')
        await waitFor(() => r2.closes.length === 1)
        expect(r2.closes).toEqual([[4401, 'bad proof']])
        expect(a2.open).toBe(false)
      } finally {
        await f.cleanup()
      }
    })

    it('dialling where nothing listens fails with a typed error, promptly (no hang)', async () => {
      const f = await make()
      try {
        const err = await settlesWithin(f.dialer.dial(await f.nowhere(), DIAL), DIAL.timeoutMs + 1000).then(
          () => null,
          (e: unknown) => e,
        )
        expect(err).toMatchObject({ name: 'CtxError', code: 'unreachable' })
      } finally {
        await f.cleanup()
      }
    })

    it('a URL of another scheme is refused as a bad peer URL, without dialling', async () => {
      const f = await make()
      try {
        await expect(f.dialer.dial('http://127.0.0.1:1/', DIAL)).rejects.toMatchObject({ code: 'bad-peer-url' })
      } finally {
        await f.cleanup()
      }
    })

    it('closing a listener ends the connections it accepted (1001) and refuses new dials', async () => {
      const f = await make()
      try {
        const l = await f.listen()
        const got: Transport[] = []
        l.onConnection((t) => got.push(t))
        const a = await f.dialer.dial(l.url, DIAL)
        await waitFor(() => got.length === 1)
        const ra = collect(a)
        await l.close()
        await waitFor(() => ra.closes.length === 1)
        expect(ra.closes[0]![0]).toBe(1001)
        const err = await settlesWithin(f.dialer.dial(l.url, DIAL), DIAL.timeoutMs + 1000).then(() => null, (e: unknown) => e)
        expect(err).toMatchObject({ name: 'CtxError', code: 'unreachable' })
        expect(got.length).toBe(1)
      } finally {
        await f.cleanup()
      }
    })

    it('a connection nobody accepts (no onConnection yet) is closed with 1001, not left open', async () => {
      const f = await make()
      try {
        const l = await f.listen()
        const a = await f.dialer.dial(l.url, DIAL).catch(() => null)
        // Refusing the dial outright would honour the contract as well; a dial that succeeds must not hang open.
        if (a) {
          const ra = collect(a)
          await waitFor(() => ra.closes.length === 1 || !a.open)
          if (ra.closes.length === 0) await waitFor(() => ra.closes.length === 1)
          expect(ra.closes[0]![0]).toBe(1001)
        }
        await l.close()
      } finally {
        await f.cleanup()
      }
    })
  })
}
