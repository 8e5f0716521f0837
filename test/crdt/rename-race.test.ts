/**
 * Renames against value changes (issue 13 item 5), proven by a generator (`test/generators/renames.ts`):
 * a random key of a random fixture is renamed on one peer while the other changes its value (scalar, block
 * scalar, mapping, list, flow list), concurrently; the updates are delivered in both orders. Both peers must
 * end byte-identical, holding the text with both edits — the renamed key with the changed value — or, where
 * the model cannot tell, with a recorded conflict. Never a silently lost edit.
 *
 * CI runs CTXSYNC_RENAMES (default 400) races from CTXSYNC_RENAME_SEED (CI: 1, locally the time).
 */
import fs from 'node:fs'
import path from 'node:path'
import { expect, test } from 'vitest'
import { FileModel } from '../../src/crdt/model.js'
import { parseYaml } from '../../src/crdt/parse.js'
import { author, send } from './helpers.js'
import { mulberry32 } from '../helpers/random.js'
import { renameRace, type RenameRace } from '../generators/renames.js'

const fixtures = path.resolve(__dirname, '../../fixtures')
const walk = (d: string): string[] => fs.readdirSync(d, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? walk(path.join(d, e.name)) : [path.join(d, e.name)]))
const files = [...walk(path.join(fixtures, 'rhema')), ...walk(path.join(fixtures, 'styles'))].filter((f) => /\.ya?ml$/.test(f))

const parses = (t: string) => {
  try {
    parseYaml(t)
    return true
  } catch {
    return false
  }
}

export type Outcome = 'both kept' | 'conflict recorded' | 'lost'

/**
 * Plays one race: `a` renames, `b` changes the value, from the same synced state; `renameFirst` says which
 * update the other peer receives first. The file is enrolled under its own name (the Rhema rules apply).
 */
export function playRace(name: string, text: string, race: RenameRace, renameFirst: boolean): { outcome: Outcome; a: string | null; b: string | null } {
  const a = new FileModel({ name, author: author('a') })
  const b = new FileModel({ name, author: author('b') })
  try {
    a.enroll(text)
    send(a, b)
    b.setBase(b.render())
    a.ingest(race.rename)
    b.ingest(race.change)
    if (renameFirst) {
      send(a, b)
      send(b, a)
    } else {
      send(b, a)
      send(a, b)
    }
    const ta = a.render().text
    const tb = b.render().text
    const conflicts = a.conflicts().length + b.conflicts().length
    const outcome: Outcome = ta === tb && ta === race.both ? 'both kept' : ta === tb && conflicts > 0 ? 'conflict recorded' : 'lost'
    return { outcome, a: ta, b: tb }
  } finally {
    a.destroy()
    b.destroy()
  }
}

export interface RaceRun {
  tried: Record<string, number>
  outcomes: Record<string, number>
  failures: string[]
}

export function runRaces(seed: number, count: number): RaceRun {
  const r = mulberry32(seed)
  const run: RaceRun = { tried: {}, outcomes: {}, failures: [] }
  let n = 0
  for (let guard = 0; n < count && guard < count * 50; guard++) {
    const file = files[Math.floor(r() * files.length)]!
    const text = fs.readFileSync(file, 'utf8')
    const race = renameRace(text, r)
    if (!race || !parses(race.rename) || !parses(race.change) || !parses(race.both)) continue
    n++
    const renameFirst = r() < 0.5
    const tag = `${race.kind}/${renameFirst ? 'rename first' : 'change first'}`
    run.tried[tag] = (run.tried[tag] ?? 0) + 1
    const got = playRace(path.basename(file), text, race, renameFirst)
    run.outcomes[got.outcome] = (run.outcomes[got.outcome] ?? 0) + 1
    if (got.outcome === 'lost' && run.failures.length < 10) {
      run.failures.push(`${tag}: ${path.relative(fixtures, file)} key ${race.key} → ${race.renamed}`)
      if (process.env.CTXSYNC_RENAME_DUMP) {
        const d = process.env.CTXSYNC_RENAME_DUMP
        fs.mkdirSync(d, { recursive: true })
        fs.writeFileSync(path.join(d, `${run.failures.length}.json`), JSON.stringify({ file: path.relative(fixtures, file), renameFirst, race, a: got.a, b: got.b }, null, 1))
      }
    }
  }
  return run
}

const SEED = Number(process.env.CTXSYNC_RENAME_SEED) || (process.env.CI ? 1 : Date.now() % 1_000_000)
const COUNT = Number(process.env.CTXSYNC_RENAMES) || 400

test(`${COUNT} seeded renames against concurrent value changes keep both edits, or record a conflict (seed ${SEED})`, () => {
  const run = runRaces(SEED, COUNT)
  console.log(`rename races (CTXSYNC_RENAME_SEED=${SEED}): tried ${JSON.stringify(run.tried)}; outcomes ${JSON.stringify(run.outcomes)}`)
  for (const f of run.failures) console.log(`rename race lost: ${f}`)
  expect(run.failures, `CTXSYNC_RENAME_SEED=${SEED}`).toEqual([])
}, Math.max(120_000, COUNT * 300))
