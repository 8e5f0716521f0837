import { describe, expect, test } from 'vitest'
import { FileModel } from '../../src/crdt/model.js'
import { races, runRandom } from './converge.js'

// CI runs a fixed budget; `node bench/converge-long.mjs --seeds N` runs a long one.
const SEEDS = Number(process.env.CTXSYNC_CONVERGE_SEEDS ?? 40)
const BASE = Number(process.env.CTXSYNC_CONVERGE_BASE ?? 1)

// Seeds that once broke: a block item merged into a list another peer had turned into `[…]` (1559), a
// flow item's relatively indented text becoming a block entry's head (1678, 1679), a block item's
// trailing comment moved inside `[…]` swallowing the `]` (1397), a todo re-added after its deletion
// without a conflict record for the field a peer changed meanwhile (43).
const REGRESSIONS = [43, 1014, 1397, 1559, 1603, 1678, 1679, 1741, 3126, 4458, 6217]

describe('randomized convergence (file text → parse → diff → ops)', () => {
  test('seeds that once failed converge exactly', () => {
    const fallbacks = FileModel.fallbacks
    for (const seed of REGRESSIONS) {
      for (const ownership of [true, false]) {
        const r = runRandom({ seed, peers: 5, steps: 150, ownership })
        for (const t of r.texts) expect(t, `seed ${seed} (ownership=${ownership})`).toBe(r.texts[0])
      }
    }
    expect(FileModel.fallbacks - fallbacks).toBe(0)
  }, 120_000)

  // KNOWN BUG (open, issue 13), found by running 150 free-for-all seeds: a todo deleted, edited concurrently
  // (two status writes that did not see each other), then re-added by identity by a peer whose file lacked it
  // (the re-add clears the tombstone and writes the field again, equal to one of the two): the other value has
  // no conflict record. Either the re-add's write must not supersede a record it never showed the person, or
  // the oracle must count it as the write that saw both; to decide. Each turns red once fixed (then move it
  // to REGRESSIONS). Letting a save delete a revived todo again (a second tombstone) makes re-adds, and so
  // this class, more frequent (8 of 150 seeds): the reason it is not done yet.
  test.fails.each([81, 101])('KNOWN BUG: free-for-all seed %i records every concurrent overwrite', (seed) => {
    runRandom({ seed, peers: 5, steps: 150, ownership: false })
  })

  for (const ownership of [true, false]) {
    test(`${SEEDS} seeds, 5 peers, ${ownership ? 'disjoint owners: nothing lost' : 'free-for-all'}`, async () => {
      const fallbacks = FileModel.fallbacks
      const transient = FileModel.transientFallbacks
      for (let s = BASE; s < BASE + SEEDS; s++) {
        let r
        try {
          r = runRandom({ seed: s, peers: 5, steps: 150, ownership })
        } catch (e) {
          throw new Error(`seed ${s} (ownership=${ownership}) failed: ${(e as Error).message}`)
        }
        for (const t of r.texts) if (t !== r.texts[0]) {
          expect.fail(`seed ${s} (ownership=${ownership}): peers diverged\n--- peer0\n${r.texts[0]}\n--- other\n${t}`)
        }
        // Let vitest's worker answer its RPCs: a long synchronous run makes it report a timeout error.
        await new Promise((resolve) => setImmediate(resolve))
      }
      const used = FileModel.fallbacks - fallbacks
      if (!ownership) console.log(`conflict oracle: ${races.concurrent} concurrently overwritten fields so far, each with its conflict record`)
      console.log(
        `convergence ${ownership ? 'owners' : 'free'}: ${SEEDS} seeds, canonical fallbacks: ${used}` +
          ` (incomplete states, never written: ${FileModel.transientFallbacks - transient})`,
      )
      // Every merged state the harness reaches must render exactly; the fallback is a last resort.
      expect(used).toBe(0)
    }, 600_000)
  }
})
