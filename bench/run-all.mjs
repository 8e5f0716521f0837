/**
 * Runs every benchmark in sequence (never in parallel: they time things) and prints a summary of every
 * figure that has a target. Flags are passed on (`--quick` for a smoke run of under a minute).
 *
 *   node bench/run-all.mjs [--quick] [--only a,b] [--skip a,b]
 *
 * Exit code: 0 when every script ran (a missed target is reported, not an error), 1 when one crashed.
 */
import { spawn } from 'node:child_process'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { QUICK, arg, fmt, machine, requireBuild } from './lib.mjs'

const HERE = path.dirname(fileURLToPath(import.meta.url))
const ALL = ['live-latency', 'status-cold', 'sidecar-size', 'wire-bytes', 'crdt-ingest', 'crdt-merge', 'crdt-render', 'relay', 'converge-long', 'fuzz-frames', 'history']

requireBuild()
const only = arg('only')?.split(',')
const skip = arg('skip')?.split(',') ?? []
const names = ALL.filter((n) => (!only || only.includes(n)) && !skip.includes(n))
const jsonl = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'ctxsync-bench-all-')), 'figures.jsonl')
const pass = process.argv.slice(2).filter((a, i, all) => !['--only', '--skip'].includes(a) && !['--only', '--skip'].includes(all[i - 1]))

const ran = []
const t0 = performance.now()
let interrupted = false
for (const name of names) {
  if (interrupted) break
  const t = performance.now()
  const code = await new Promise((resolve) => {
    const c = spawn(process.execPath, [path.join(HERE, `${name}.mjs`), ...pass], { stdio: 'inherit', env: { ...process.env, BENCH_JSON: jsonl } })
    // The child cleans up (daemons, temp dirs) on the signal; stop after it instead of running the next.
    const fwd = (sig) => () => {
      interrupted = true
      c.kill(sig)
    }
    const onInt = fwd('SIGINT')
    const onTerm = fwd('SIGTERM')
    process.on('SIGINT', onInt)
    process.on('SIGTERM', onTerm)
    c.on('close', (code) => {
      process.off('SIGINT', onInt)
      process.off('SIGTERM', onTerm)
      resolve(code ?? 1)
    })
  })
  ran.push({ name, code, s: (performance.now() - t) / 1000 })
}

const tables = fs.existsSync(jsonl) ? fs.readFileSync(jsonl, 'utf8').trim().split('\n').filter(Boolean).map((l) => JSON.parse(l)) : []
fs.rmSync(path.dirname(jsonl), { recursive: true, force: true })
const m = machine()
console.log(`\n# summary${QUICK ? ' (--quick: smaller counts, indicative only)' : ''}`)
const rows = []
for (const t of tables) {
  for (const r of t.rows) {
    if (!r.target) continue
    const ok = r.target.op === '<=' ? r.value <= r.target.value : r.value >= r.target.value
    rows.push([t.title, r.figure.trim(), `${fmt(r.value, r.digits ?? 1)}${r.unit ? ' ' + r.unit : ''}`, `${r.target.op === '<=' ? '≤' : '≥'} ${r.target.value}${r.unit ? ' ' + r.unit : ''}`, ok ? 'ok' : 'MISS'])
  }
}
const w = [0, 1, 2, 3, 4].map((i) => Math.max(...rows.map((r) => r[i].length), 0))
for (const r of rows) console.log(r.map((x, i) => x.padEnd(w[i])).join('  ').trimEnd())
for (const r of ran) console.log(`${r.name}: ${r.code === 0 ? 'ran' : `FAILED (exit ${r.code})`} in ${r.s.toFixed(1)} s`)
console.log(`total ${((performance.now() - t0) / 1000).toFixed(1)} s; machine: node ${m.node}, ${m.cpus} CPUs (${m.cpu})`)
process.exitCode = ran.some((r) => r.code !== 0) ? 1 : 0
