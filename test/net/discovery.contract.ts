/**
 * The Discovery contract, run against every implementation: the in-memory fake here
 * (`discovery.test.ts`) and bonjour-service inside a private network namespace (`test/e2e/mdns.test.ts`
 * runs `discovery.test.ts` there with CTXSYNC_NETNS=1).
 */
import { describe, expect, it } from 'vitest'
import { newPeerId, newSpaceId } from '../../src/ids.js'
import { spaceHash, type Discovery, type Sighting } from '../../src/net/discovery/DiscoveryInterface.js'

export function discoveryContract(name: string, make: () => Discovery, o: { timeoutMs: number }): void {
  const until = async (cond: () => boolean, what: string): Promise<void> => {
    const end = Date.now() + o.timeoutMs
    while (!cond()) {
      if (Date.now() > end) throw new Error(`timed out waiting for ${what}`)
      await new Promise((r) => setTimeout(r, 20))
    }
  }

  describe(`Discovery contract: ${name}`, () => {
    it('two members hear each other (id, space hash, version, port, an address) and the goodbye of one that stops', async () => {
      const [a, b] = [make(), make()]
      const heardByA: Sighting[] = []
      const heardByB: Sighting[] = []
      const lostByB: string[] = []
      a.on('found', (s) => heardByA.push(s))
      b.on('found', (s) => heardByB.push(s))
      b.on('lost', (k) => lostByB.push(k))
      const hash = spaceHash(newSpaceId())
      const ida = newPeerId()
      const idb = newPeerId()
      try {
        await a.start({ peerId: ida, spaceHash: hash, proto: 3, port: 40001 })
        await b.start({ peerId: idb, spaceHash: hash, proto: 3, port: 40002 })
        await until(() => heardByB.some((s) => s.peerId === ida) && heardByA.some((s) => s.peerId === idb), 'both sightings')
        const ofA = heardByB.find((s) => s.peerId === ida)!
        expect(ofA).toMatchObject({ spaceHash: hash, proto: 3, port: 40001 })
        expect(ofA.host).toMatch(/^[0-9a-f.:]+$/i)
        await a.stop()
        await until(() => lostByB.includes(ofA.key), 'the goodbye')
      } finally {
        await a.stop()
        await b.stop()
      }
    })

    it('the space hash hides the space id and differs between spaces', () => {
      const s = newSpaceId()
      expect(spaceHash(s)).toMatch(/^[0-9a-f]{16}$/)
      expect(spaceHash(s)).not.toContain(s)
      expect(spaceHash(s)).not.toBe(spaceHash(newSpaceId()))
      expect(spaceHash(s)).toBe(spaceHash(s))
    })
  })
}
