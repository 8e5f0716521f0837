/**
 * The live edit generator at scale (issue 13 item 2): runs `test/e2e/edits-live.test.ts` — two clones, two
 * real `ctxsync watch` daemons of the built CLI on 127.0.0.1, seeded real-world edits saved alternately on
 * either clone (in place or renamed over), both files checked against the saved bytes after every save — with
 * many edits, and prints what was tried, kept and failed, by kind. The generator lives with the tests
 * (TypeScript, run by vitest), so this script runs vitest; the daemons run `dist/` (build first).
 *
 *   node bench/edits-live.mjs [--edits N] [--seed S] [--slots K] [--quick]   (default 5,000 edits; --quick 200)
 *
 * A failure's chain ([writer, saved text] per step, the test/crdt/regressions format) is kept under a temp
 * directory, named with the seed; the seed and the directory are printed.
 */
import { spawnSync } from 'node:child_process'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { QUICK, arg, requireBuild } from './lib.mjs'

requireBuild()
const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..')
const edits = Number(arg('edits') ?? (QUICK ? 200 : 5_000))
const seed = Number(arg('seed') ?? Date.now() % 1_000_000)
const slots = Number(arg('slots') ?? 8)
const dump = fs.mkdtempSync(path.join(os.tmpdir(), 'ctxsync-bench-edits-live-'))
const t0 = performance.now()
const r = spawnSync('npx', ['vitest', 'run', 'test/e2e/edits-live.test.ts'], {
  cwd: root,
  env: { ...process.env, CTXSYNC_LIVE_EDITS: String(edits), CTXSYNC_LIVE_SEED: String(seed), CTXSYNC_LIVE_SLOTS: String(slots), CTXSYNC_EDIT_DUMP: dump },
  encoding: 'utf8',
  maxBuffer: 256 << 20,
})
const out = `${r.stdout}\n${r.stderr}`
const line = out.split('\n').find((l) => l.includes('live edits (CTXSYNC_LIVE_SEED='))
if (!line) {
  process.stdout.write(out)
  process.exit(1)
}
const tried = JSON.parse(line.match(/tried (\{.*?\});/)[1])
const failed = JSON.parse(line.match(/failed (\{.*\})/)[1])
const total = Object.values(tried).reduce((a, b) => a + b, 0)
console.log(`live edit generator: ${line.match(/: (\d+ saves in \d+ rounds, [\d.]+ s, round wait [^;]*);/)[1]} (${total} edits, stacked), two daemons, ${slots} files at a time, seed ${seed}; ${((performance.now() - t0) / 1000).toFixed(0)} s in all`)
console.log('kind'.padEnd(20), 'tried'.padStart(8), 'kept'.padStart(8), 'failed'.padStart(8))
for (const k of [...new Set([...Object.keys(tried), ...Object.keys(failed)])].sort()) {
  console.log(k.padEnd(20), String(tried[k] ?? 0).padStart(8), String((tried[k] ?? 0) - (failed[k] ?? 0)).padStart(8), String(failed[k] ?? 0).padStart(8))
}
for (const f of out.split('\n').filter((l) => l.startsWith('FAILURE '))) console.log(f)
const nFailed = Object.values(failed).reduce((a, b) => a + b, 0)
console.log(nFailed ? `FAILED: ${nFailed} kinds in failed saves, seed ${seed} (chains in ${dump}: replay with CTXSYNC_LIVE_SEED=${seed})` : `no failures (seed ${seed})`)
if (r.status !== 0 && !nFailed) process.stdout.write(out.slice(-4000))
if (!nFailed) fs.rmSync(dump, { recursive: true, force: true })
