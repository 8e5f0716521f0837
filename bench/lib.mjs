/**
 * Shared helpers for the benchmark scripts: machine info, percentiles, the result table, realistic todos
 * files, single-field edits, temp directories and child processes that are always cleaned up.
 *
 * Benchmarks import the *built* code (`../dist/...`): run `npx tsc -p .` first.
 */
import { execFileSync, spawn } from 'node:child_process'
import fs from 'node:fs'
import fsp from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { mulberry32 } from './random.mjs'

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..')
export const CLI = path.join(ROOT, 'bin', 'ctxsync')
export const TODOS_10K = path.join(ROOT, 'fixtures/rhema/_history/2074bd7/.rhema/todos.yaml')
export const QUICK = process.argv.includes('--quick')
/** Other work on the machine skews timings: every table shows the load average at start and end. */
const START_LOAD = os.loadavg().map((x) => x.toFixed(2)).join(' ')

/** `--name value` from argv, or `def`. */
export function arg(name, def) {
  const i = process.argv.indexOf(`--${name}`)
  return i >= 0 && i + 1 < process.argv.length ? process.argv[i + 1] : def
}

export function requireBuild() {
  if (!fs.existsSync(path.join(ROOT, 'dist', 'cli.js'))) {
    console.error('bench: dist/ is missing: build first (npx tsc -p .)')
    process.exit(1)
  }
}

export function machine() {
  const cpus = os.cpus()
  return {
    node: process.version,
    cpus: cpus.length,
    cpu: (cpus[0]?.model ?? '?').replace(/\s+/g, ' ').trim(),
    platform: `${os.platform()} ${os.release()} ${os.arch()}`,
    memGiB: Math.round(os.totalmem() / 2 ** 30),
    load: os.loadavg().map((x) => x.toFixed(2)).join(' '),
  }
}

/** Nearest-rank percentile of an unsorted array (p in 0..100). */
export function pct(values, p) {
  if (values.length === 0) return NaN
  const s = [...values].sort((a, b) => a - b)
  const rank = Math.ceil((p / 100) * s.length)
  return s[Math.min(s.length - 1, Math.max(0, rank - 1))]
}
export const median = (v) => pct(v, 50)

export function fmt(n, digits = 1) {
  if (typeof n !== 'number') return String(n)
  if (!Number.isFinite(n)) return String(n)
  return Number.isInteger(n) && Math.abs(n) >= 100 ? String(n) : n.toFixed(digits)
}

/**
 * Prints the benchmark's table: one row per figure — measured value, target (if any) and verdict — then the
 * machine. `rows`: [{ figure, value, unit, target?: {op:'<=', value}, note? }].
 */
/** What was measured: the commit, whether the sources differ from it, and when dist/ was built. */
export function codeState() {
  let rev = '?'
  let dirty = 0
  try {
    rev = execFileSync('git', ['rev-parse', '--short', 'HEAD'], { cwd: ROOT, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim()
    dirty = execFileSync('git', ['status', '--porcelain', '--', 'src', 'test'], { cwd: ROOT, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).split('\n').filter(Boolean).length
  } catch { /* not a git checkout */ }
  let built = 0
  const walk = (d) => {
    for (const e of fs.readdirSync(d, { withFileTypes: true })) {
      const p = path.join(d, e.name)
      if (e.isDirectory()) walk(p)
      else if (e.name.endsWith('.js')) built = Math.max(built, fs.statSync(p).mtimeMs)
    }
  }
  try { walk(path.join(ROOT, 'dist')) } catch { /* no build */ }
  return `${rev}${dirty ? ` + ${dirty} changed file(s) under src/ or test/` : ''}; dist/ built ${built ? new Date(built).toISOString().replace('T', ' ').slice(0, 19) + ' UTC' : '?'}`
}

export function report(title, rows, extra = {}) {
  const m = machine()
  const cells = rows.map((r) => {
    const ok = r.target ? (r.target.op === '<=' ? r.value <= r.target.value : r.value >= r.target.value) : null
    return [
      r.figure,
      `${fmt(r.value, r.digits ?? 1)}${r.unit ? ' ' + r.unit : ''}`,
      r.target ? `${r.target.op === '<=' ? '≤' : '≥'} ${r.target.value}${r.unit ? ' ' + r.unit : ''}` : '',
      ok === null ? '' : ok ? 'ok' : 'MISS',
      r.note ?? '',
    ]
  })
  const head = ['figure', 'measured', 'target', '', 'note']
  const w = head.map((h, i) => Math.max(h.length, ...cells.map((c) => c[i].length)))
  const line = (c) => c.map((x, i) => x.padEnd(w[i])).join('  ').trimEnd()
  console.log(`\n## ${title}${QUICK ? ' (--quick)' : ''}`)
  console.log(line(head))
  console.log(line(w.map((n) => '-'.repeat(n))))
  for (const c of cells) console.log(line(c))
  for (const [k, v] of Object.entries(extra)) console.log(`${k}: ${v}`)
  console.log(`code: ${codeState()}`)
  console.log(`machine: node ${m.node}, ${m.cpus} CPUs (${m.cpu}), ${m.platform}, ${m.memGiB} GiB; load average ${m.load} (start: ${START_LOAD})`)
  if (process.env.BENCH_JSON) {
    fs.appendFileSync(process.env.BENCH_JSON, JSON.stringify({ title, quick: QUICK, rows, extra, machine: m, code: codeState(), at: new Date().toISOString() }) + '\n')
  }
  return rows.every((r) => !r.target || (r.target.op === '<=' ? r.value <= r.target.value : r.value >= r.target.value))
}

// ---------------------------------------------------------------------------------------------------------
// Deterministic data

export { mulberry32 }
const pickR = (rng, xs) => xs[Math.floor(rng() * xs.length)]

const WORDS = ('implement add fix refactor document validate cache sync merge render parse index search extension plugin ' +
  'server client schema context knowledge decision pattern convention scope agent workflow editor completion ' +
  'performance security test coverage release build pipeline migration config logging metrics api endpoint ' +
  'query storage snapshot compaction protocol handshake retry backoff watcher conflict resolution history').split(' ')
const STATUSES = ['todo', 'planned', 'in_progress', 'review', 'blocked', 'completed']
const PRIORITIES = ['low', 'medium', 'high', 'critical']
const TEAMS = ['vscode-team', 'intellij-team', 'lsp-team', 'core-team', 'ai-team', 'infra-team', 'docs-team', 'qa-team']

function words(rng, n) {
  const w = Array.from({ length: n }, () => pickR(rng, WORDS))
  w[0] = w[0][0].toUpperCase() + w[0].slice(1)
  return w.join(' ')
}
const date = (rng) => `2025-${String(1 + Math.floor(rng() * 12)).padStart(2, '0')}-${String(1 + Math.floor(rng() * 28)).padStart(2, '0')}`

/** One todo in the style of the real Rhema todos files (comments, flow tags, block subtasks, folded text). */
function todo(rng, i) {
  const lines = []
  if (i % 25 === 0) lines.push(`  # ${words(rng, 4)}`)
  lines.push(`  - id: "todo-${String(i).padStart(5, '0')}-${pickR(rng, WORDS)}"`)
  lines.push(`    title: "${words(rng, 5)}"`)
  if (rng() < 0.3) {
    lines.push('    description: >-', `      ${words(rng, 9)}`, `        ${words(rng, 8)}`)
  } else lines.push(`    description: "${words(rng, 12)}"`)
  lines.push(`    priority: "${pickR(rng, PRIORITIES)}"`)
  lines.push(`    status: "${pickR(rng, STATUSES)}"`)
  lines.push(`    category: "${pickR(rng, WORDS)}"`)
  lines.push(`    assignee: "${pickR(rng, TEAMS)}"`)
  lines.push(`    created: "${date(rng)}"`)
  lines.push(`    due: "${date(rng)}"${rng() < 0.1 ? '   # moved' : ''}`)
  // Distinct tags: `tags` is a set under the Rhema rules, so a repeated tag would not survive enrollment.
  lines.push(`    tags: [${[...new Set(Array.from({ length: 1 + Math.floor(rng() * 4) }, () => pickR(rng, WORDS)))].map((t) => `"${t}"`).join(', ')}]`)
  const subs = Math.floor(rng() * 4)
  if (subs) {
    lines.push('    subtasks:')
    for (let s = 0; s < subs; s++) lines.push(`      - "${words(rng, 6)}"`)
  }
  if (rng() < 0.5) lines.push(`    notes: "${words(rng, 10)}"`)
  return lines.join('\n') + '\n'
}

/** A realistic todos file with exactly `count` todos (seeded, so every run measures the same bytes). */
export function todosFile(count, seed = 42) {
  const rng = mulberry32(seed)
  let out = '# Todo Items\n# This file tracks work items, tasks, and improvements for this scope\n\ntodos:\n'
  for (let i = 0; i < count; i++) out += (i ? '\n' : '') + todo(rng, i)
  return out
}

/** A realistic todos file of about `bytes` bytes (whole todos, at least `bytes`). */
export function todosFileOfSize(bytes, seed = 42) {
  const rng = mulberry32(seed)
  let out = '# Todo Items\n# This file tracks work items, tasks, and improvements for this scope\n\ntodos:\n'
  let i = 0
  while (Buffer.byteLength(out) < bytes) out += (i ? '\n' : '') + todo(rng, i++)
  return { text: out, todos: i }
}

/**
 * Single-field edits on a todos text: every `status:`/`priority:`/`title:`/`assignee:` line of a list item is
 * an editable field. `edit(text, k)` returns the text with field k's value replaced by a new value (different
 * from the current one), changing exactly one line.
 */
export class FieldEditor {
  constructor(text, fields = ['status', 'priority', 'title', 'assignee']) {
    const re = new RegExp(`^(\\s+)(${fields.join('|')}): "([^"\\n]*)"`, 'gm')
    this.slots = []
    for (let m; (m = re.exec(text)); ) this.slots.push({ key: m[2] })
    if (this.slots.length === 0) throw new Error('no editable fields found')
    this.re = re
    this.n = 0
  }

  get count() {
    return this.slots.length
  }

  /** Replaces the value of the k-th editable field (one line changes). */
  edit(text, k) {
    let i = 0
    const tick = ++this.n
    this.re.lastIndex = 0
    return text.replace(this.re, (all, ind, key, val) => {
      if (i++ !== k) return all
      return `${ind}${key}: "${nextValue(key, val, tick)}"`
    })
  }
}

function nextValue(key, val, tick) {
  if (key === 'status') return STATUSES[(STATUSES.indexOf(val) + 1 + STATUSES.length) % STATUSES.length] ?? 'todo'
  if (key === 'priority') return PRIORITIES[(PRIORITIES.indexOf(val) + 1 + PRIORITIES.length) % PRIORITIES.length] ?? 'low'
  if (key === 'assignee') return TEAMS[(TEAMS.indexOf(val) + 1 + TEAMS.length) % TEAMS.length] ?? 'core-team'
  // title: keep it a title, vary a revision mark at the end
  return `${val.replace(/ \(r\d+\)$/, '')} (r${tick})`
}

// ---------------------------------------------------------------------------------------------------------
// Processes and temp directories

const tempDirs = new Set()
const children = new Set()
/** Children started in their own process group (detached), e.g. vitest and its workers: ended as a group. */
const groups = new Set()
let cleaning = null

/** Tracks a child spawned with `detached: true`: cleanup ends its whole process group (its id is the pid). */
export function trackGroup(c) {
  groups.add(c)
  c.on('exit', () => groups.delete(c))
  return c
}

/**
 * One vitest run of a test file (a generator run longer through env knobs), in its own process group so that an
 * interrupted bench ends vitest's workers too: its exit code, output (stdout and stderr) and time.
 */
export function vitestRun(file, env) {
  return new Promise((resolve, reject) => {
    const t0 = performance.now()
    const c = trackGroup(spawn(process.execPath, [path.join(ROOT, 'node_modules', 'vitest', 'vitest.mjs'), 'run', file], {
      cwd: ROOT,
      detached: true,
      env: { ...process.env, ...env, FORCE_COLOR: '0', NO_COLOR: '1' },
      stdio: ['ignore', 'pipe', 'pipe'],
    }))
    let out = ''
    c.stdout.on('data', (d) => (out += d))
    c.stderr.on('data', (d) => (out += d))
    c.on('error', reject)
    c.on('close', (code) => resolve({ code, out, ms: performance.now() - t0 }))
  })
}

function killGroup(c, sig) {
  try { process.kill(-c.pid, sig) } catch { /* gone */ }
}

export async function tempDir(prefix) {
  const d = await fsp.mkdtemp(path.join(os.tmpdir(), `ctxsync-bench-${prefix}-`))
  tempDirs.add(d)
  return d
}

/** Kills (by pid) every child this process started and removes every temp dir it made. Idempotent. */
export function cleanup() {
  cleaning ??= (async () => {
    await Promise.all([...children].map((c) => stopChild(c)))
    await Promise.all([...groups].map((c) => new Promise((resolve) => {
      const t = setTimeout(() => killGroup(c, 'SIGKILL'), 3000)
      c.once('exit', () => {
        clearTimeout(t)
        killGroup(c, 'SIGKILL') // workers the group leader left behind
        resolve()
      })
      killGroup(c, 'SIGTERM')
    })))
    for (const d of tempDirs) await fsp.rm(d, { recursive: true, force: true }).catch(() => undefined)
    tempDirs.clear()
  })()
  return cleaning
}

for (const sig of ['SIGINT', 'SIGTERM']) {
  process.once(sig, () => {
    void cleanup().finally(() => process.exit(130))
  })
}
process.once('exit', () => {
  // Last resort (synchronous): no orphan daemons, no leftover temp dirs.
  for (const c of children) if (c.exitCode === null && c.signalCode === null) try { process.kill(c.pid, 'SIGKILL') } catch { /* gone */ }
  for (const c of groups) killGroup(c, 'SIGKILL')
  for (const d of tempDirs) try { fs.rmSync(d, { recursive: true, force: true }) } catch { /* best effort */ }
})

/** Runs `ctxsync ...args` to completion; resolves {code, stdout, stderr, ms}. Benchmarks never multicast (CTXSYNC_NO_MDNS). */
export function ctx(args, opts = {}) {
  return new Promise((resolve, reject) => {
    const t0 = performance.now()
    const c = spawn(process.execPath, [...(opts.nodeArgs ?? []), CLI, ...args], { cwd: opts.cwd, env: { ...process.env, CTXSYNC_NO_MDNS: '1', ...opts.env }, stdio: ['ignore', 'pipe', 'pipe'] })
    let stdout = ''
    let stderr = ''
    c.stdout.on('data', (d) => (stdout += d))
    c.stderr.on('data', (d) => (stderr += d))
    c.on('error', reject)
    c.on('close', (code) => {
      const ms = performance.now() - t0
      if (opts.check !== false && code !== 0) reject(new Error(`ctxsync ${args.join(' ')} exited ${code}: ${stderr.trim()}`))
      else resolve({ code, stdout, stderr, ms })
    })
  })
}

/** Starts a long-running `ctxsync ...args` child (e.g. `watch`); it is stopped by `stopChild` or `cleanup`. */
export function ctxChild(args, opts = {}) {
  const c = spawn(process.execPath, [...(opts.nodeArgs ?? []), CLI, ...args], { cwd: opts.cwd, env: { ...process.env, CTXSYNC_NO_MDNS: '1', ...opts.env }, stdio: ['ignore', 'pipe', 'pipe'] })
  children.add(c)
  c.output = ''
  const take = (d) => {
    c.output += d
    if (c.output.length > 1e6) c.output = c.output.slice(-5e5)
  }
  c.stdout.on('data', take)
  c.stderr.on('data', take)
  c.on('exit', () => children.delete(c))
  return c
}

/** Resolves with the first match of `re` in the child's output (waits up to `ms`). */
export function waitOutput(c, re, ms = 20_000) {
  return new Promise((resolve, reject) => {
    const check = () => {
      const m = re.exec(c.output)
      if (m) {
        done()
        resolve(m)
      }
    }
    const onExit = (code) => {
      done()
      reject(new Error(`process exited (${code}) before printing ${re}:\n${c.output}`))
    }
    const timer = setTimeout(() => {
      done()
      reject(new Error(`timed out waiting for ${re}; output so far:\n${c.output}`))
    }, ms)
    const done = () => {
      clearTimeout(timer)
      c.stdout.off('data', check)
      c.stderr.off('data', check)
      c.off('exit', onExit)
    }
    c.stdout.on('data', check)
    c.stderr.on('data', check)
    c.on('exit', onExit)
    check()
  })
}

/** SIGTERM (the daemon flushes and exits 0), SIGKILL after `graceMs`. */
export function stopChild(c, graceMs = 5000) {
  if (c.exitCode !== null || c.signalCode !== null) return Promise.resolve()
  return new Promise((resolve) => {
    const t = setTimeout(() => {
      try { process.kill(c.pid, 'SIGKILL') } catch { /* gone */ }
    }, graceMs)
    c.once('exit', () => {
      clearTimeout(t)
      resolve()
    })
    try { process.kill(c.pid, 'SIGTERM') } catch { resolve() }
  })
}

/**
 * Two clones of one repository, both `ctxsync init`ed into the same space (B joins with A's invite code),
 * each holding `files` ({relPath: text}). Returns {a, b} directories.
 */
export async function twoClones(files, prefix) {
  const base = await tempDir(prefix)
  const a = path.join(base, 'a')
  const b = path.join(base, 'b')
  for (const dir of [a, b]) {
    for (const [rel, text] of Object.entries(files)) {
      await fsp.mkdir(path.dirname(path.join(dir, rel)), { recursive: true })
      await fsp.writeFile(path.join(dir, rel), text)
    }
  }
  await ctx(['init', '--name', 'bench-a', '--discovery', 'none', '--no-git'], { cwd: a })
  const code = (await ctx(['invite'], { cwd: a })).stdout.trim().split('\n').pop()
  await ctx(['init', '--name', 'bench-b', '--join', code, '--discovery', 'none', '--no-git'], { cwd: b })
  return { base, a, b }
}

/**
 * Starts `ctxsync watch` in A (port 0) and in B dialling `peerUrl(aUrl)` (default: A itself), waits until
 * both report the connection. Returns {pa, pb, aUrl}.
 */
export async function twoDaemons({ a, b }, { peerUrl = (u) => u, env = {}, nodeArgs } = {}) {
  const pa = ctxChild(['watch', '--port', '0'], { cwd: a, env, nodeArgs })
  const aUrl = (await waitOutput(pa, /listening on (ws:\/\/127\.0\.0\.1:\d+)/))[1]
  const pb = ctxChild(['watch', '--port', '0', '--peer', peerUrl(aUrl)], { cwd: b, env, nodeArgs })
  await waitOutput(pb, /connected to /)
  await waitOutput(pa, /connected to /)
  return { pa, pb, aUrl }
}

export const sleep = (ms) => new Promise((r) => setTimeout(r, ms))

/** Runs `main`, prints its errors, always cleans up; exit code 1 on error (a missed target is not an error). */
export function run(main) {
  requireBuild()
  main()
    .then(() => cleanup())
    .catch(async (e) => {
      console.error(e && e.stack ? e.stack : e)
      await cleanup()
      process.exitCode = 1
    })
}

// ---------------------------------------------------------------------------------------------------------
// In-process CRDT helpers

export const DOC = '.rhema/todos.yaml'
export const author = (name) => ({ id: `p-bench${name}`, name, kind: 'human' })

/** Times `f` once; returns [ms, result]. */
export function timed(f) {
  const t = performance.now()
  const r = f()
  return [performance.now() - t, r]
}

/** Runs `f` `n` times (after `warm` untimed runs); returns the list of ms. */
export function sample(n, f, warm = 0) {
  for (let i = 0; i < warm; i++) f(i)
  const out = []
  for (let i = 0; i < n; i++) {
    const t = performance.now()
    f(i)
    out.push(performance.now() - t)
  }
  return out
}

export const MiB = 1024 * 1024
export const kib = (n) => `${(n / 1024).toFixed(1)} KiB`

/**
 * A real model holding `key: value` lines: what benches push to a relay must be the model's own schema (a
 * relay refuses anything else, src/crdt/guard.ts). `set` changes or adds one line, as an edit would.
 */
export async function lineModel(name) {
  const { FileModel } = await import('../dist/crdt/model.js')
  const model = new FileModel({ name: '.rhema/todos.yaml', author: { id: `p-${name}`, name, kind: 'agent' } })
  const lines = new Map()
  return {
    model,
    doc: model.doc,
    set(key, value) {
      lines.set(key, value)
      const text = [...lines].map(([k, v]) => `${k}: ${JSON.stringify(String(v))}\n`).join('')
      if (!model.render().text) model.enroll(text)
      else model.ingest(text)
    },
  }
}
