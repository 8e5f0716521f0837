/**
 * Issue 2 benchmark: `ctxsync status` cold start (no daemon) on a repository with 1,000 todos.
 *
 * A temp git repository holds `.rhema/todos.yaml` with 1,000 generated todos (~450 KB, in the style of the
 * real Rhema files) beside the other real Rhema context files from fixtures/rhema/.rhema/; `ctxsync init`
 * enrolls them, then `ctxsync status` and `ctxsync status --json` run N times each as fresh processes, timed
 * wall clock from spawn to exit. For context the same is shown for `node -e 0` (the runtime alone) and
 * `ctxsync --version` (loading the CLI's modules), the in-process time of the status work itself, and a
 * status after a local edit not yet synced (the file no longer matches the saved summary, so status parses
 * it to tell `pending` from `held`).
 *
 *   node bench/status-cold.mjs [--quick] [--runs N] [--todos N]
 */
import { spawn } from 'node:child_process'
import fs from 'node:fs'
import fsp from 'node:fs/promises'
import path from 'node:path'
import { status } from '../dist/commands/status.js'
import { FieldEditor, QUICK, ROOT, arg, ctx, median, pct, report, run, sample, tempDir, todosFile } from './lib.mjs'

function wall(cmd, args, cwd) {
  return new Promise((resolve, reject) => {
    const t0 = performance.now()
    const c = spawn(cmd, args, { cwd, stdio: ['ignore', 'ignore', 'pipe'] })
    let err = ''
    c.stderr.on('data', (d) => (err += d))
    c.on('error', reject)
    c.on('close', (code) => (code === 0 ? resolve(performance.now() - t0) : reject(new Error(`${args.join(' ')} exited ${code}: ${err}`))))
  })
}

async function times(n, f) {
  const out = []
  for (let i = 0; i < n; i++) out.push(await f())
  return out
}

run(async () => {
  const runs = Number(arg('runs', QUICK ? 2 : 20))
  const count = Number(arg('todos', 1000))
  const dir = await tempDir('status')
  const rhema = path.join(dir, '.rhema')
  await fsp.mkdir(rhema, { recursive: true })
  for (const f of fs.readdirSync(path.join(ROOT, 'fixtures/rhema/.rhema'))) {
    if (f !== 'todos.yaml') await fsp.copyFile(path.join(ROOT, 'fixtures/rhema/.rhema', f), path.join(rhema, f))
  }
  const todos = todosFile(count)
  await fsp.writeFile(path.join(rhema, 'todos.yaml'), todos)
  await new Promise((r) => spawn('git', ['init', '-q'], { cwd: dir, stdio: 'ignore' }).on('close', r).on('error', r))
  const init = await ctx(['init', '--name', 'bench', '--discovery', 'none'], { cwd: dir })
  const cli = path.join(ROOT, 'bin', 'ctxsync')
  console.log(`status-cold: ${count} todos (${(Buffer.byteLength(todos) / 1024).toFixed(0)} KiB) + ${fs.readdirSync(rhema).length - 1} other Rhema files; init took ${init.ms.toFixed(0)} ms; ${runs} runs each`)

  const check = await ctx(['status', '--json'], { cwd: dir })
  const s = JSON.parse(check.stdout)
  if (s.daemon.running) throw new Error('a daemon runs: this is not a cold status')
  const states = s.files.map((f) => f.state).join(', ')

  const node0 = await times(runs, () => wall(process.execPath, ['-e', '0'], dir))
  const version = await times(runs, () => wall(process.execPath, [cli, '--version'], dir))
  const plain = await times(runs, () => wall(process.execPath, [cli, 'status'], dir))
  const json = await times(runs, () => wall(process.execPath, [cli, 'status', '--json'], dir))
  await status({ cwd: dir }) // warm the module graph before timing in process
  const inproc = []
  for (let i = 0; i < runs; i++) {
    const t = performance.now()
    await status({ cwd: dir })
    inproc.push(performance.now() - t)
  }

  // A local edit that no ctxsync process has seen yet.
  const ed = new FieldEditor(todos)
  await fsp.writeFile(path.join(rhema, 'todos.yaml'), ed.edit(todos, Math.floor(ed.count / 2)))
  const dirty = await times(runs, () => wall(process.execPath, [cli, 'status', '--json'], dir))
  const dirtyState = JSON.parse((await ctx(['status', '--json'], { cwd: dir })).stdout).files.find((f) => f.path.endsWith('todos.yaml'))?.state

  const row = (figure, v, target, note) => ({ figure, value: median(v), unit: 'ms', target, note: `p90 ${pct(v, 90).toFixed(0)} ms${note ? '; ' + note : ''}` })
  const T = { op: '<=', value: 200 }
  report(`ctxsync status, cold (no daemon), ${count} todos`, [
    row('status (median wall)', plain, T),
    row('status --json (median wall)', json, T),
    row('  node -e 0 (runtime start)', node0),
    row('  ctxsync --version (CLI modules loaded)', version),
    row('  status work in process (readStatus)', inproc),
    row('status --json after an unsynced local edit', dirty, T, `todos.yaml is ${dirtyState}: status parses it`),
  ], { files: states })
})
