/**
 * Issue 12, finding 8 benchmark: hostile YAML shapes against the parser and the merge driver.
 *
 * The yaml package's duplicate-key check (`uniqueKeys`) compares each key of a mapping with every earlier
 * one: a flat mapping of 30k keys (874 KB) froze a daemon ~40 s, and the merge driver on a 12 MB flow map
 * ran past 300 s (git merge hung). Measured here:
 *  - `parseYaml` (src/crdt/parse.ts: our Set-based duplicate-key check) on a flat mapping, a flow map and
 *    20k `<<` merge keys, with the entry count the daemon gauges; beside it, for scale, the yaml package's
 *    own check (`new Composer({ uniqueKeys: true })`, the old path) on the flat mapping at growing sizes;
 *  - `ctxsync merge-driver O A B P` as git runs it (a fresh process, spawn to exit, peak RSS from GNU time):
 *    it merges, or hands the file to git's text merge past its time budget (CTXSYNC_MERGE_BUDGET_MS,
 *    default 15 s) or the size limit (8 MiB).
 *
 *   node bench/yaml-parse.mjs [--quick] [--budget MS]
 */
import { execFile } from 'node:child_process'
import fs from 'node:fs'
import fsp from 'node:fs/promises'
import path from 'node:path'
import { Composer, Parser } from 'yaml'
import { parseYamlMeasured } from '../dist/crdt/parse.js'
import { CLI, QUICK, arg, kib, report, run, tempDir } from './lib.mjs'

const flat = (n) => Array.from({ length: n }, (_, i) => `key${i}: value number ${i}`).join('\n') + '\n'
const flow = (n) => 'm: {' + Array.from({ length: n }, (_, i) => `k${i}: v${i}`).join(', ') + '}\n'
const mergeKeys = (n) => 'base: &b {a: 1}\n' + Array.from({ length: n }, (_, i) => `k${i}:\n  <<: *b\n  x: ${i}`).join('\n') + '\n'

function time(f) {
  const t0 = performance.now()
  const r = f()
  return [performance.now() - t0, r]
}

/** The old path: the yaml package composing with its own quadratic duplicate-key check. */
function yamlUniqueKeys(text) {
  const tokens = Array.from(new Parser().parse(text))
  for (const doc of new Composer({ uniqueKeys: true, strict: true }).compose(tokens, false, text.length)) if (doc.errors.length) throw doc.errors[0]
}

function mergeDriver(dir, env) {
  const hasTime = fs.existsSync('/usr/bin/time')
  const [cmd, args] = hasTime ? ['/usr/bin/time', ['-v', process.execPath, CLI]] : [process.execPath, [CLI]]
  return new Promise((resolve) => {
    const t0 = performance.now()
    execFile(cmd, [...args, 'merge-driver', 'O', 'A', 'B', '.rhema/odd.yaml'], { cwd: dir, env: { ...process.env, ...env }, maxBuffer: 64 << 20 }, (err, _out, stderr) => {
      const ms = performance.now() - t0
      const rss = Number(/Maximum resident set size \(kbytes\): (\d+)/.exec(stderr)?.[1] ?? NaN) / 1024
      const said = stderr.split('\n').find((l) => l.startsWith('ctxsync:')) ?? ''
      resolve({ ms, rss, code: err ? err.code ?? 1 : 0, said })
    })
  })
}

run(async () => {
  const budget = arg('budget', undefined)
  const scale = QUICK ? 0.25 : 1
  const cases = [
    { name: `flat mapping, ${30_000 * scale} keys`, text: flat(30_000 * scale), edit: (t, s) => t.replace('value number 5\n', `${s}\n`) },
    { name: `flow map, ${50_000 * scale} entries`, text: flow(50_000 * scale), edit: (t, s) => t.replace('k5: v5,', `k5: ${s},`) },
    { name: `${20_000 * scale} \`<<\` merge keys`, text: mergeKeys(20_000 * scale), edit: (t, s) => t + `${s}: 1\n` },
    ...(QUICK ? [] : [{ name: 'flow map, 700k entries', text: flow(700_000), edit: (t, s) => t.replace('k5: v5,', `k5: ${s},`) }]),
  ]
  console.log(`yaml-parse: ${cases.length} hostile shapes; merge-driver budget ${budget ?? 'default (15 s)'}`)

  const rows = []
  for (let i = 0; i < 3; i++) parseYamlMeasured(flat(2_000)) // warm: the first parses run cold code
  for (const c of cases) {
    const [ms, r] = time(() => {
      try {
        return parseYamlMeasured(c.text)
      } catch (e) {
        return { error: e.message }
      }
    })
    rows.push({ figure: `parseYaml: ${c.name} (${kib(c.text.length)})`, value: ms, unit: 'ms', digits: 0, note: r.error ? `refused: ${r.error}` : `${r.entries} entries` })
  }
  // The old path, at growing sizes: quadratic (twice the keys, four times the time).
  for (const n of QUICK ? [2_500, 5_000] : [5_000, 10_000, 20_000]) {
    const text = flat(n)
    const [old] = time(() => yamlUniqueKeys(text))
    const [now] = time(() => parseYamlMeasured(text))
    rows.push({ figure: `flat mapping, ${n} keys: yaml's uniqueKeys (old) / parseYaml (now)`, value: old, unit: 'ms', digits: 0, note: `now ${now.toFixed(0)} ms, all of parseYaml` })
  }

  const dir = await tempDir('yaml-parse')
  for (const c of cases) {
    await fsp.writeFile(path.join(dir, 'O'), c.text)
    await fsp.writeFile(path.join(dir, 'A'), c.edit(c.text, 'ours'))
    await fsp.writeFile(path.join(dir, 'B'), c.edit(c.edit(c.text, 'theirs'), 'theirs2'))
    const r = await mergeDriver(dir, budget ? { CTXSYNC_MERGE_BUDGET_MS: budget } : {})
    const outcome = r.said.includes('falling back') ? `git's text merge: ${r.said.replace(/^ctxsync: [^:]+: /, '').replace(/; falling back.*/, '')}` : r.code === 0 ? 'merged' : `exit ${r.code}`
    rows.push({ figure: `merge-driver process: ${c.name}`, value: r.ms, unit: 'ms', digits: 0, note: `${outcome}; exit ${r.code}; peak RSS ${Number.isNaN(r.rss) ? '?' : r.rss.toFixed(0) + ' MiB'}` })
  }
  report('hostile YAML: parse and merge driver', rows)
})
