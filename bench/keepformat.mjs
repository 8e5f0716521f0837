/**
 * The library-dump generator at scale (issue 13 item 7): runs `test/crdt/keepformat.test.ts` with many dumps
 * (the `yaml` package's and real PyYAML's, over the fixtures) and human edits, and prints what was tried,
 * kept, taken as is and failed, by dumper. Like bench/edits.mjs it runs vitest (the generator is TypeScript).
 *
 *   node bench/keepformat.mjs [--dumps N] [--human N] [--seed S] [--quick]   (default 10,000 and 10,000; --quick 1,000)
 *
 * A failure's texts (original, dump, result) are written under a temp directory to replay; the seed is printed.
 */
import { spawnSync } from 'node:child_process'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { QUICK, arg } from './lib.mjs'

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..')
const dumps = Number(arg('dumps') ?? (QUICK ? 1000 : 10_000))
const human = Number(arg('human') ?? (QUICK ? 1000 : 10_000))
const seed = Number(arg('seed') ?? Date.now() % 1_000_000)
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ctxsync-bench-keepformat-'))
const t0 = performance.now()
const r = spawnSync('npx', ['vitest', 'run', 'test/crdt/keepformat.test.ts', '-t', 'seeded library dumps|human edit generator'], {
  cwd: root,
  env: { ...process.env, CTXSYNC_DUMPS: String(dumps), CTXSYNC_DUMP_HUMAN: String(human), CTXSYNC_DUMP_SEED: String(seed), CTXSYNC_KEEPFORMAT_DUMP: dir },
  encoding: 'utf8',
  maxBuffer: 64 << 20,
})
const out = `${r.stdout}\n${r.stderr}`
const line = out.split('\n').find((l) => l.includes('dump generator (CTXSYNC_DUMP_SEED='))
const humanLine = out.split('\n').find((l) => l.includes('human edits (CTXSYNC_DUMP_SEED='))
if (!line || !humanLine) {
  process.stdout.write(out)
  process.exit(1)
}
const field = (name) => JSON.parse(line.match(new RegExp(`${name} (\\{.*?\\})(;|$)`))[1])
const [tried, kept, asIs, failed] = [field('tried'), field('kept'), field('taken as is'), field('failed')]
const pyyaml = line.match(/pyyaml (.*?); tried/)[1]
console.log(`library dumps: ${dumps} (seed ${seed}), PyYAML: ${pyyaml}, ${((performance.now() - t0) / 1000).toFixed(0)} s`)
console.log('dumper'.padEnd(10), 'tried'.padStart(8), 'kept'.padStart(8), 'as is'.padStart(8), 'failed'.padStart(8))
for (const k of Object.keys(tried).sort()) {
  const f = Object.entries(failed).filter(([x]) => x.startsWith(`${k}:`)).reduce((n, [, v]) => n + v, 0)
  console.log(k.padEnd(10), String(tried[k]).padStart(8), String(kept[k] ?? 0).padStart(8), String(asIs[k] ?? 0).padStart(8), String(f).padStart(8))
}
for (const [k, v] of Object.entries(failed)) console.log(`  failed: ${k}: ${v}`)
console.log(humanLine.trim())
const nFailed = Object.values(failed).reduce((a, b) => a + b, 0)
const mistaken = Number(humanLine.match(/(\d+) taken for dumps/)[1])
console.log(nFailed || mistaken ? `FAILED: ${nFailed} dumps, ${mistaken} human edits (texts in ${dir}, seed ${seed})` : 'no failures')
if (!nFailed) fs.rmSync(dir, { recursive: true, force: true })
process.exit(nFailed || mistaken ? 1 : 0)
