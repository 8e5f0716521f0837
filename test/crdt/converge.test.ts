import { describe, expect, test } from 'vitest'
import { FileModel } from '../../src/crdt/model.js'
import { runRandom } from './converge.js'

// CI runs a fixed budget; `node bench/converge.mjs --seeds N` runs a long one.
const SEEDS = Number(process.env.CTXSYNC_CONVERGE_SEEDS ?? 40)
const BASE = Number(process.env.CTXSYNC_CONVERGE_BASE ?? 1)

describe('randomized convergence (file text → parse → diff → ops)', () => {
  for (const ownership of [true, false]) {
    test(`${SEEDS} seeds, 5 peers, ${ownership ? 'disjoint owners: nothing lost' : 'free-for-all'}`, () => {
      const fallbacks = FileModel.fallbacks
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
      }
      console.log(`convergence ${ownership ? 'owners' : 'free'}: ${SEEDS} seeds, canonical fallbacks: ${FileModel.fallbacks - fallbacks}`)
    }, 120_000)
  }
})
