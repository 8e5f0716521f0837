/**
 * The edit generator at scale (issue 13 item 2): runs `test/crdt/edit-generator.test.ts` with many edits and
 * prints what was tried and what failed, by kind. The generator lives with the tests (TypeScript, run by
 * vitest), so this script runs vitest rather than the built code.
 *
 *   node bench/edits.mjs [--edits N] [--seed S] [--renames M] [--quick]   (default 100,000 edits; --quick 2,000)
 *
 * `--renames M` also runs M rename races (`test/crdt/rename-race.test.ts`, issue 13 item 5: a key renamed on
 * one peer while the other changes its value; live in both delivery orders and through merge3 both ways) and
 * prints their outcomes by value kind.
 *
 * A failure's texts are written under a temp directory (CTXSYNC_EDIT_DUMP) to replay; the seed is printed.
 */
import { spawnSync } from 'node:child_process'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { QUICK, arg } from './lib.mjs'

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..')
const edits = Number(arg('edits') ?? (QUICK ? 2000 : 100_000))
const seed = Number(arg('seed') ?? Date.now() % 1_000_000)
const dump = fs.mkdtempSync(path.join(os.tmpdir(), 'ctxsync-bench-edits-'))
const t0 = performance.now()
const r = spawnSync('npx', ['vitest', 'run', 'test/crdt/edit-generator.test.ts', '-t', 'seeded real-world edits'], {
  cwd: root,
  env: { ...process.env, CTXSYNC_EDITS: String(edits), CTXSYNC_EDIT_SEED: String(seed), CTXSYNC_EDIT_DUMP: dump },
  encoding: 'utf8',
  maxBuffer: 64 << 20,
})
const out = `${r.stdout}\n${r.stderr}`
const line = out.split('\n').find((l) => l.includes('edit generator (CTXSYNC_EDIT_SEED='))
if (!line) {
  process.stdout.write(out)
  process.exit(1)
}
const tried = JSON.parse(line.match(/tried (\{.*?\});/)[1])
const [, saves, invalid] = line.match(/saves (\d+), invalid (\d+)/)
const failed = JSON.parse(line.match(/failed (\{.*\})/)[1])
const total = Object.values(tried).reduce((a, b) => a + b, 0)
console.log(`edit generator: ${saves} saves (${total} edits, stacked; ${invalid} generated texts did not parse, skipped), seed ${seed}, ${((performance.now() - t0) / 1000).toFixed(0)} s`)
console.log('kind'.padEnd(20), 'tried'.padStart(8), 'kept'.padStart(8), 'failed'.padStart(8))
for (const k of Object.keys(tried).sort()) console.log(k.padEnd(20), String(tried[k]).padStart(8), String(tried[k] - (failed[k] ?? 0)).padStart(8), String(failed[k] ?? 0).padStart(8))
for (const l of out.split('\n').filter((l) => l.startsWith('edit generator failure: '))) console.log(l)
const nFailed = Object.values(failed).reduce((a, b) => a + b, 0)
console.log(nFailed ? `FAILED: ${nFailed} (texts in ${dump})` : 'no failures')
if (!nFailed) fs.rmSync(dump, { recursive: true, force: true })

const renames = Number(arg('renames') ?? 0)
if (renames > 0) {
  const t1 = performance.now()
  const rr = spawnSync('npx', ['vitest', 'run', 'test/crdt/rename-race.test.ts', '-t', 'seeded renames'], {
    cwd: root,
    env: { ...process.env, CTXSYNC_RENAMES: String(renames), CTXSYNC_RENAME_SEED: String(seed) },
    encoding: 'utf8',
    maxBuffer: 64 << 20,
  })
  const rout = `${rr.stdout}\n${rr.stderr}`
  const rline = rout.split('\n').find((l) => l.includes('rename races (CTXSYNC_RENAME_SEED='))
  if (!rline) {
    process.stdout.write(rout)
    process.exit(1)
  }
  console.log(`rename races: ${renames}, seed ${seed}, ${((performance.now() - t1) / 1000).toFixed(0)} s`)
  console.log(`  tried by kind/order: ${rline.match(/tried (\{.*?\});/)[1]}`)
  console.log(`  outcomes: ${rline.match(/outcomes (\{.*\})/)[1]}`)
  for (const l of rout.split('\n').filter((l) => l.startsWith('rename race lost: '))) console.log(`  ${l}`)
}
