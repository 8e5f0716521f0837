/**
 * Issue 5 benchmark: the time the post-commit hook (recording a sync point) adds to a commit.
 *
 * Two identical repositories with the 10 KB Rhema todos file, both `ctxsync init`ed; one also has
 * `ctxsync hooks install`. Each commit changes one field and commits it (`git commit -qam`, wall clock,
 * spawn to exit); the hook's cost is the difference of the medians. Measured without a daemon (the hook
 * reads the saved summary) and with `ctxsync watch` running (the hook asks the daemon).
 *
 * The hook script starts the recorder in the background, so the commit pays for starting it only; the
 * recorder's own run time (`ctxsync hook post-commit` in the foreground) is printed beside it, and the
 * number of sync points recorded checks that every commit got one.
 *
 *   node bench/post-commit-hook.mjs [--quick] [--commits N]
 */
import { execFileSync, spawnSync } from 'node:child_process'
import fs from 'node:fs'
import path from 'node:path'
import { CLI, DOC, FieldEditor, QUICK, TODOS_10K, arg, ctx, ctxChild, median, pct, report, run, stopChild, tempDir, waitOutput } from './lib.mjs'

const git = (cwd, ...args) => execFileSync('git', args, { cwd, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] })

async function repo(name, hooks) {
  const dir = path.join(await tempDir(`hook-${name}`), name)
  fs.mkdirSync(path.join(dir, '.rhema'), { recursive: true })
  fs.writeFileSync(path.join(dir, DOC), fs.readFileSync(TODOS_10K, 'utf8'))
  git(path.dirname(dir), 'init', '-q', '-b', 'main', dir)
  git(dir, 'config', 'user.name', 'bench')
  git(dir, 'config', 'user.email', 'bench@example.invalid')
  await ctx(['init', '--name', name, '--discovery', 'none', ...(hooks ? ['--hooks'] : [])], { cwd: dir })
  git(dir, 'add', '-A')
  git(dir, 'commit', '-qm', 'start')
  return dir
}

/** Waits until no background recorder runs (its pid file is gone). */
async function recorderDone(dir) {
  const pid = path.join(dir, '.ctxsync', 'post-commit.pid')
  for (let i = 0; i < 500 && fs.existsSync(pid); i++) await new Promise((r) => setTimeout(r, 10))
}

/** The recorder in the foreground, as the hook runs it: its own cost. */
function recorder(dir) {
  const t0 = performance.now()
  const r = spawnSync(process.execPath, [CLI, 'hook', 'post-commit'], { cwd: dir, encoding: 'utf8' })
  if (r.status !== 0) throw new Error(`hook failed: ${r.stderr}`)
  return performance.now() - t0
}

/** n commits of one field edit each; returns their wall-clock times (ms). */
function commits(dir, n, ed, state) {
  const out = []
  for (let i = 0; i < n; i++) {
    state.text = ed.edit(state.text, (i * 7) % ed.count)
    fs.writeFileSync(path.join(dir, DOC), state.text)
    const t0 = performance.now()
    const r = spawnSync('git', ['commit', '-qam', `edit ${i}`], { cwd: dir, encoding: 'utf8' })
    out.push(performance.now() - t0)
    if (r.status !== 0) throw new Error(`git commit failed: ${r.stderr}`)
  }
  return out
}

run(async () => {
  const n = Number(arg('commits', QUICK ? 5 : 30))
  const [plain, hooked] = [await repo('plain', false), await repo('hooked', true)]
  const text = fs.readFileSync(TODOS_10K, 'utf8')
  const ed = new FieldEditor(text)
  const sp = { text }
  const sh = { text }
  // Interleaved, so that machine noise falls on both alike.
  const p = []
  const h = []
  for (let i = 0; i < n; i++) {
    p.push(...commits(plain, 1, ed, sp))
    h.push(...commits(hooked, 1, ed, sh))
    await recorderDone(hooked) // one recorder at a time, as when a person commits
  }
  const rec = Array.from({ length: Math.min(n, 10) }, () => recorder(hooked))
  // With a daemon: the hook asks it for the states.
  const d = ctxChild(['watch', '--port', '0'], { cwd: hooked })
  await waitOutput(d, /listening on/)
  const pd = []
  const hd = []
  for (let i = 0; i < n; i++) {
    pd.push(...commits(plain, 1, ed, sp))
    hd.push(...commits(hooked, 1, ed, sh))
    await recorderDone(hooked)
  }
  const recd = Array.from({ length: Math.min(n, 10) }, () => recorder(hooked))
  await stopChild(d)
  const notes = git(hooked, 'notes', '--ref=ctxsync', 'list').trim().split('\n').length
  const made = Number(git(hooked, 'rev-list', '--count', 'HEAD').trim())
  const cold = median(h) - median(p)
  const live = median(hd) - median(pd)
  const nodeStart = (() => {
    const t = []
    for (let i = 0; i < 5; i++) {
      const t0 = performance.now()
      spawnSync(process.execPath, [CLI, '--version'])
      t.push(performance.now() - t0)
    }
    return median(t)
  })()
  report('post-commit hook: time added to a commit', [
    { figure: 'added by the hook, no daemon (median difference)', value: cold, unit: 'ms', target: { op: '<=', value: 150 }, note: `commit ${median(p).toFixed(0)} ms without hooks, ${median(h).toFixed(0)} ms with (p90 ${pct(h, 90).toFixed(0)})` },
    { figure: 'added by the hook, daemon running', value: live, unit: 'ms', target: { op: '<=', value: 150 }, note: `commit ${median(pd).toFixed(0)} ms without hooks, ${median(hd).toFixed(0)} ms with (p90 ${pct(hd, 90).toFixed(0)})` },
    { figure: 'the background recorder itself, no daemon', value: median(rec), unit: 'ms', note: '`ctxsync hook post-commit` run in the foreground: what the machine spends, not what the commit waits for' },
    { figure: 'the background recorder itself, daemon running', value: median(recd), unit: 'ms' },
    { figure: 'for scale: `ctxsync --version` process', value: nodeStart, unit: 'ms', note: 'node start + CLI load: the floor of any hook that runs ctxsync' },
  ], { commits: `${n} per series; ${notes} annotated commits of ${made} (every commit after \`init\` should have a sync point)` })
})
