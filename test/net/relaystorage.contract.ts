/**
 * The RelayStorage contract (src/net/relay/storage.ts) as a shared suite, run on every implementation:
 * `fileRelayStorage` over a temp directory and `memoryRelayStorage` (test/net/relaystorage.test.ts).
 * `reopen` gives a new storage over what the old one kept, without closing it first (as after kill -9):
 * what a promise resolved for must be there. For the memory one it is the same object (its state lives
 * only as long as the process, which is all a test relay needs).
 */
import { describe, expect, it } from 'vitest'
import { asDocName, isPeerId, newSpaceId } from '../../src/ids.js'
import type { Registration, RelayStorage } from '../../src/net/relay/storage.js'

export interface RelayStorageFixture {
  storage: RelayStorage
  reopen(): Promise<RelayStorage>
  cleanup(): Promise<void>
}

const key = (b: number): Uint8Array => new Uint8Array(32).fill(b)
const reg = (b: number, at = '2026-01-02T03:04:05.000Z'): Registration => ({ publicKey: key(b), registeredAt: at })
const DOC = asDocName('notes/todo.yaml')

/** `confirmed` is optional in a SpaceRecord: absent and false say the same. */
const record = (r: { space: string; registeredAt: string; lastSeenAt?: string; confirmed?: boolean }) => ({
  space: r.space, registeredAt: r.registeredAt, lastSeenAt: r.lastSeenAt ?? null, confirmed: r.confirmed ?? false,
})

export function relayStorageContract(name: string, make: () => Promise<RelayStorageFixture>): void {
  describe(`${name}: RelayStorage contract`, () => {
    const withStorage = (f: (x: RelayStorageFixture) => Promise<void>) => async () => {
      const x = await make()
      try {
        await f(x)
      } finally {
        await x.cleanup()
      }
    }

    it('identity: created on first use, the same on every call and after a restart', withStorage(async ({ storage, reopen }) => {
      const [a, b] = await Promise.all([storage.identity(), storage.identity()])
      expect(isPeerId(a.id)).toBe(true)
      expect(a.seed).toBeInstanceOf(Uint8Array)
      expect(a.seed.length).toBe(32)
      expect(b).toEqual(a)
      expect(await (await reopen()).identity()).toEqual(a)
    }))

    it('registration: null for a space that never came; what register resolved for, after a restart too', withStorage(async ({ storage, reopen }) => {
      const s = newSpaceId()
      expect(await storage.registration(s)).toBeNull()
      await storage.register(s, reg(7))
      expect(await storage.registration(s)).toEqual(reg(7))
      const again = await reopen()
      expect(await again.registration(s)).toEqual(reg(7))
      expect(await again.registration(newSpaceId())).toBeNull()
    }))

    it('spaces: every registered space with its registration time, and what touch recorded', withStorage(async ({ storage, reopen }) => {
      expect(await storage.spaces()).toEqual([])
      const s1 = newSpaceId()
      const s2 = newSpaceId()
      await storage.register(s1, reg(1, '2026-01-01T00:00:00.000Z'))
      await storage.register(s2, reg(2, '2026-02-01T00:00:00.000Z'))
      await storage.touch(s1, { lastSeenAt: '2026-03-01T00:00:00.000Z', confirmed: false })
      await storage.touch(s1, { lastSeenAt: '2026-03-02T00:00:00.000Z', confirmed: true })
      await storage.touch(s2, { lastSeenAt: '2026-03-03T00:00:00.000Z', confirmed: false })
      const want = [
        { space: s1, registeredAt: '2026-01-01T00:00:00.000Z', lastSeenAt: '2026-03-02T00:00:00.000Z', confirmed: true },
        { space: s2, registeredAt: '2026-02-01T00:00:00.000Z', lastSeenAt: '2026-03-03T00:00:00.000Z', confirmed: false },
      ]
      const bySpace = (a: { space: string }, b: { space: string }) => (a.space < b.space ? -1 : 1)
      expect((await storage.spaces()).map(record).sort(bySpace)).toEqual(want.sort(bySpace))
      expect((await (await reopen()).spaces()).map(record).sort(bySpace)).toEqual(want)
    }))

    it('spaces: a space touched but never registered is not listed', withStorage(async ({ storage }) => {
      await storage.touch(newSpaceId(), { lastSeenAt: '2026-03-01T00:00:00.000Z', confirmed: true })
      expect(await storage.spaces()).toEqual([])
    }))

    it('docs: a fresh handle each call over the same state; what one wrote, another (and a restart) loads', withStorage(async ({ storage, reopen }) => {
      const s = newSpaceId()
      await storage.register(s, reg(3))
      const first = storage.docs(s)
      expect(await first.list()).toEqual([])
      expect(await first.load(DOC)).toBeNull()
      await first.append(DOC, Uint8Array.of(1, 2, 3))
      await first.writeMeta(DOC, { ackedSV: 'AA==' }, { durable: true })
      const second = storage.docs(s)
      expect(await second.list()).toEqual([DOC])
      const loaded = await second.load(DOC)
      expect(loaded?.updates.map((u) => [...u])).toEqual([[1, 2, 3]])
      expect(loaded?.meta).toMatchObject({ ackedSV: 'AA==' })
      const third = (await reopen()).docs(s)
      expect((await third.load(DOC))?.updates.map((u) => [...u])).toEqual([[1, 2, 3]])
      // Spaces do not share documents.
      expect(await storage.docs(newSpaceId()).list()).toEqual([])
      await Promise.all([first.close(), second.close(), third.close()])
    }))

    it('forget: registration, visits and documents go; the relay’s identity and other spaces stay', withStorage(async ({ storage, reopen }) => {
      const id = await storage.identity()
      const gone = newSpaceId()
      const kept = newSpaceId()
      await storage.register(gone, reg(4))
      await storage.register(kept, reg(5))
      await storage.touch(gone, { lastSeenAt: '2026-03-01T00:00:00.000Z', confirmed: true })
      const d = storage.docs(gone)
      await d.append(DOC, Uint8Array.of(9))
      await d.close()
      await storage.forget(gone)
      expect(await storage.registration(gone)).toBeNull()
      expect((await storage.spaces()).map((r) => r.space)).toEqual([kept])
      expect(await storage.docs(gone).list()).toEqual([])
      const again = await reopen()
      expect(await again.registration(gone)).toBeNull()
      expect(await again.registration(kept)).toEqual(reg(5))
      expect(await again.identity()).toEqual(id)
      // Forgotten, a space can register anew (the remedy for a squatted id).
      await again.register(gone, reg(6))
      expect(await again.registration(gone)).toEqual(reg(6))
      await storage.forget(newSpaceId()) // forgetting what was never there is fine
    }))
  })
}
