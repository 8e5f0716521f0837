/**
 * Chains the live edit generator found (test/e2e/edits-live.test.ts, bench/edits-live.mjs), replayed in
 * process on two models: every `test/crdt/regressions/live-*.json` ([writer, saved text] per step, as
 * CTXSYNC_EDIT_DUMP writes them). A failure found live is either the model's (it shows here, instantly) or
 * the daemon's (then it replays green here and its own in-process test lives under test/space/). A chain
 * marked `"open": true` is a known model bug: it replays as an expected failure and turns red once fixed —
 * then drop the mark.
 */
import fs from 'node:fs'
import path from 'node:path'
import { expect, test } from 'vitest'
import { FileModel } from '../../src/crdt/model.js'
import { author, send } from './helpers.js'

interface Chain {
  about: string
  open?: boolean
  chain: Array<[number, string]>
}

const dir = path.join(__dirname, 'regressions')
const CHAINS = fs.readdirSync(dir).filter((f) => /^live-.*\.json$/.test(f)).sort()

/** The first step (1-based) whose saved text is not kept on the writer and the other peer; 0 when all are. */
function replay(chain: Chain['chain']): number {
  const peers = [new FileModel({ name: 'x.yaml', author: author('a') }), new FileModel({ name: 'x.yaml', author: author('b') })]
  peers[0]!.enroll(chain[0]![1])
  send(peers[0]!, peers[1]!)
  peers[1]!.setBase(peers[1]!.render())
  try {
    for (const [i, [w, t]] of chain.slice(1).entries()) {
      let out = peers[w]!.ingest(t)
      // Read as a stale save (it undid part of the other side's change): kept once saved again (recent.ts).
      if (out.stale && out.text !== t) {
        peers[w]!.setBase(peers[w]!.render())
        out = peers[w]!.ingest(t)
      }
      const got = out.text
      send(peers[w]!, peers[1 - w]!)
      const there = peers[1 - w]!.render()
      peers[1 - w]!.setBase(there)
      if (got !== t || there.text !== t) return i + 1
    }
    return 0
  } finally {
    for (const p of peers) p.destroy()
  }
}

test('the live regression chains are here', () => expect(CHAINS.length).toBeGreaterThan(0))

for (const name of CHAINS) {
  const c = JSON.parse(fs.readFileSync(path.join(dir, name), 'utf8')) as Chain
  const run = c.open ? test.fails : test
  run(`${c.open ? 'KNOWN BUG (open): ' : ''}live chain ${name} is kept byte for byte at every step`, () => {
    expect(replay(c.chain), c.about).toBe(0)
  })
}
