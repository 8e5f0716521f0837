/**
 * The command line itself: init (idempotent, .gitignore, join codes, a clone without the secret), invite,
 * help, version, usage errors, and the daemon's lifecycle (`watch --detach` + `stop`, SIGTERM).
 */
import fs from 'node:fs'
import path from 'node:path'
import { afterAll, afterEach, describe, expect, it } from 'vitest'
import {
  clone, connectedPair, ctx, ctxJson, edit, expectOk, fileState, freePort, git, killAll, lastLine, makeRepo, readFile, removeTmpDirs,
  setupSpace, startWatch, statusJson, stopWatch, waitFor, waitLog, writeFile, SMALL_TODOS, TODOS,
} from './helpers.js'

afterEach(killAll)
afterAll(removeTmpDirs)

describe('e2e: init and invite', { timeout: 60_000 }, () => {
  it('creates ctxsync.yaml, .ctxsync/ and the .gitignore entry; a second run changes nothing', async () => {
    const origin = await makeRepo({ [TODOS]: SMALL_TODOS })
    const dir = await clone(origin, 'a')
    const first = await ctxJson(dir, ['init', '--name', 'ann', '--port', String(await freePort()), '--discovery', 'none'])
    expect(first.created).toEqual(expect.arrayContaining(['ctxsync.yaml', '.ctxsync/identity.json', '.ctxsync/local.yaml', '.ctxsync/secret']))
    // The clone had no .gitignore: init created it (it said "updated": issue 17).
    expect(first.created).toContain('.gitignore')
    expect(first.enrolled).toEqual([TODOS])
    expect(first.peer).toMatchObject({ name: 'ann', kind: 'human' })
    const config = fs.readFileSync(path.join(dir, 'ctxsync.yaml'), 'utf8')
    expect(config).toContain(`space: ${first.space}`)
    expect(config).toContain('"**/.rhema/**/*.{yaml,yml}"')
    expect(config).toContain('discovery: none')
    expect(fs.statSync(path.join(dir, '.ctxsync')).isDirectory()).toBe(true)
    expect(fs.readFileSync(path.join(dir, '.gitignore'), 'utf8').split('\n')).toContain('.ctxsync/')
    // git sees ctxsync.yaml and .gitignore, never the local state.
    expect(await git(dir, ['status', '--porcelain', '--untracked-files=all'])).not.toContain('.ctxsync/')

    const snapshot = () => ['ctxsync.yaml', '.gitignore', '.ctxsync/local.yaml', '.ctxsync/identity.json', '.ctxsync/secret', TODOS]
      .map((f) => fs.readFileSync(path.join(dir, f), 'utf8'))
    const before = snapshot()
    const again = await ctxJson(dir, ['init'])
    // A re-run in the clone that created the space is no join (it said "joined space": issue 17).
    expect(again.joined).toBe(false)
    expect((await ctx(dir, ['init'])).stdout).toMatch(/^already a member of space /)
    expect(again.created).toEqual([])
    expect(again.changed).toEqual([])
    expect(again.enrolled).toEqual([])
    expect(again.space).toBe(first.space)
    expect(again.peer.id).toBe(first.peer.id)
    expect(snapshot()).toEqual(before)
    const text = await expectOk(ctx(dir, ['init']))
    expect(text.stdout).toContain('nothing changed')
  })

  it('invite prints the code last; init --join joins; a clone without the secret is told what to do', async () => {
    const { peers, code } = await setupSpace(['a', 'b'], { files: { [TODOS]: SMALL_TODOS } })
    const [a, b] = peers as [typeof peers[0], typeof peers[0]]
    const inv = await expectOk(ctx(a.dir, ['invite']))
    expect(lastLine(inv.stdout)).toBe(code)
    expect(code).toMatch(/^ctxsync1-/)
    expect(await ctxJson(a.dir, ['invite'])).toEqual({ code })

    const sa = await statusJson(a)
    const sb = await statusJson(b)
    expect(sb.space).toBe(sa.space)
    expect(sb.peer.id).not.toBe(sa.peer.id)
    expect(fs.readFileSync(path.join(b.dir, '.ctxsync/secret'), 'utf8')).toBe(fs.readFileSync(path.join(a.dir, '.ctxsync/secret'), 'utf8'))

    // A fresh clone of a repository whose ctxsync.yaml names the space, without the secret.
    const c = await clone(a.dir, 'c')
    const init = await expectOk(ctx(c, ['init', '--name', 'cy', '--discovery', 'none']))
    expect(init.stdout).toMatch(/ctxsync invite/)
    expect(init.stdout).toMatch(/init --join CODE/)
    const s = await ctx(c, ['sync', '--peer', a.url, '--timeout', '5'])
    expect(s.exitCode).toBe(1)
    expect(s.stderr).toMatch(/does not know the secret.*init --join CODE/s)
    expect((await ctx(c, ['invite'])).exitCode).toBe(1)
    const w = await ctx(c, ['watch', '--port', '0'])
    expect(w.exitCode).toBe(1)
    expect(w.stderr).toMatch(/init --join CODE/)
    // CI: the secret from the environment stands in for a join.
    const secret = fs.readFileSync(path.join(a.dir, '.ctxsync/secret'), 'utf8').trim()
    const da = await startWatch(a)
    const ci = await ctx(c, ['sync', '--peer', a.url], { env: { CTXSYNC_SECRET: secret } })
    expect(ci.exitCode, ci.stderr).toBe(0)
    await stopWatch(da)

    const bad = await ctx(c, ['init', '--join', 'not-a-code'])
    expect(bad.exitCode).toBe(1)
    expect(bad.stderr).toMatch(/not a ctxsync join code/)
    // The code of another space is refused rather than silently switching spaces.
    const other = await clone(await makeRepo({ [TODOS]: SMALL_TODOS }), 'other')
    await expectOk(ctx(other, ['init', '--name', 'o', '--discovery', 'none']))
    const wrong = await ctx(c, ['init', '--join', lastLine((await ctx(other, ['invite'])).stdout)])
    expect(wrong.exitCode).toBe(1)
    expect(wrong.stderr).toMatch(/that join code is for space/)
    expect(readFile({ name: 'c', dir: c, port: 0, url: '' })).toBe(SMALL_TODOS)
  })

  it('--help shows examples, --version prints the version, usage errors exit 2', async () => {
    const dir = await makeRepo({ [TODOS]: SMALL_TODOS })
    const help = await ctx(dir, ['--help'])
    expect(help.exitCode).toBe(0)
    expect(help.stdout).toContain('Examples:')
    expect(help.stdout.replace(/\n/g, ' ')).toMatch(/Exit codes: 0 ok, 1 error, 2 usage, 3 no peer reachable, 4 a --check failed, 5 access refused/)
    // Independent runs: in parallel, to keep the suite quick. Every help fits the terminal (issue 17: lines
    // ran to 186 columns), and says what --discovery does by default.
    const cmds = ['init', 'sync', 'status', 'resolve', 'watch', 'invite', 'serve', 'token', 'hooks', 'log', 'peers', 'history', 'show', 'diff', 'restore', 'undo', 'blame']
    const helps = await Promise.all(cmds.map((cmd) => ctx(dir, [cmd, '--help'], { env: { COLUMNS: '100' } })))
    helps.forEach((h, i) => {
      expect(h.exitCode, cmds[i]).toBe(0)
      if (!['token', 'hooks'].includes(cmds[i]!)) expect(h.stdout, cmds[i]).toContain('Examples:')
      for (const line of h.stdout.split('\n')) expect([...line].length, `${cmds[i]}: ${line}`).toBeLessThanOrEqual(100)
    })
    expect(helps[0]!.stdout.replace(/\s+/g, ' ')).toMatch(/--discovery <mode> how peers find each other \(a new space: mdns, listening on 0\.0\.0\.0/)
    const top = await ctx(dir, ['--help'], { env: { COLUMNS: '100' } })
    for (const line of top.stdout.split('\n')) expect([...line].length, line).toBeLessThanOrEqual(100)
    // Bare `ctxsync`, like bare `git`: the help on stderr, exit 1.
    const bare = await ctx(dir, [])
    expect(bare.exitCode).toBe(1)
    expect(bare.stderr).toContain('Usage: ctxsync')
    const pkg = JSON.parse(fs.readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string }
    const v = await ctx(dir, ['--version'])
    expect(v.exitCode).toBe(0)
    expect(v.stdout.trim()).toBe(pkg.version)
    const usage = [['--bogus'], ['init', '--bogus'], ['sync', '--timeout', 'soon'], ['watch', '--port', '70000'], ['frobnicate'], ['init', '--discovery', 'carrier-pigeon']]
    const bad = await Promise.all(usage.map((args) => ctx(dir, args)))
    bad.forEach((r, i) => {
      expect(r.exitCode, usage[i]!.join(' ')).toBe(2)
      expect(r.stderr, usage[i]!.join(' ')).not.toBe('')
    })
    // Commands other than init need a space.
    const s = await ctx(dir, ['status'])
    expect(s.exitCode).toBe(1)
    expect(s.stderr).toMatch(/ctxsync init/)
  })
})

describe('e2e: the daemon lifecycle', { timeout: 60_000 }, () => {
  it('watch --detach runs in the background; stop stops it', async () => {
    const { peers } = await setupSpace(['a'], { files: { [TODOS]: SMALL_TODOS } })
    const a = peers[0]!
    const started = await ctxJson(a.dir, ['watch', '--detach', '--port', String(a.port)])
    expect(started.url).toBe(a.url)
    expect(typeof started.pid).toBe('number')
    try {
      const info = JSON.parse(fs.readFileSync(path.join(a.dir, '.ctxsync/daemon.json'), 'utf8'))
      expect(info).toMatchObject({ pid: started.pid, url: a.url, port: a.port })
      expect((await statusJson(a)).daemon).toMatchObject({ running: true, pid: started.pid })
      // A second daemon for the same space is refused.
      const twice = await ctx(a.dir, ['watch', '--detach', '--port', '0'])
      expect(twice.exitCode).toBe(1)
      expect(twice.stderr).toMatch(/already runs/)
      expect(await ctxJson(a.dir, ['stop'])).toEqual({ stopped: true, pid: started.pid })
    } finally {
      try {
        process.kill(started.pid, 'SIGKILL')
      } catch {
        // already gone, as it should be
      }
    }
    expect(() => process.kill(started.pid, 0)).toThrow()
    expect(fs.existsSync(path.join(a.dir, '.ctxsync/daemon.json'))).toBe(false)
    expect((await statusJson(a)).daemon.running).toBe(false)
    expect((await expectOk(ctx(a.dir, ['stop']))).stdout).toMatch(/no daemon is running/)
  })

  it('SIGTERM to a foreground watch flushes and exits 0; status then says not running', async () => {
    const { peers } = await setupSpace(['a'], { files: { [TODOS]: SMALL_TODOS } })
    const a = peers[0]!
    const d = await startWatch(a)
    expect((await statusJson(a)).daemon.running).toBe(true)
    expect(await stopWatch(d)).toBe(0)
    expect(d.log()).toMatch(/stopping: saving state/)
    expect(fs.existsSync(path.join(a.dir, '.ctxsync/daemon.json'))).toBe(false)
    const s = await expectOk(ctx(a.dir, ['status']))
    expect(s.stdout).toMatch(/daemon not running/)
    expect((await statusJson(a)).daemon.running).toBe(false)
    // And the space can be opened again at once (the lock was released); Ctrl-C (SIGINT) also exits 0.
    const d2 = await startWatch(a)
    d2.proc.kill('SIGINT')
    expect((await d2.proc).exitCode).toBe(0)
    expect((await statusJson(a)).daemon.running).toBe(false)
  })

  it('status with the daemon stopped shows a file edited since: changed here, not taken in yet (issue 17)', async () => {
    const { a, da } = await connectedPair({ [TODOS]: SMALL_TODOS })
    await waitFor(async () => (await fileState(a))?.state === 'synced', 15_000, "a's file synced")
    expect(await stopWatch(da)).toBe(0)
    expect((await fileState(a)).notTakenIn).toBeUndefined()
    await edit(a, 'title: "First task"', 'title: "First task, edited offline"')
    // Said in --json and in words, with what takes it in; still `pending` (not a problem: --check exits 0).
    expect(await fileState(a)).toMatchObject({ state: 'pending', notTakenIn: 'edited' })
    const human = await expectOk(ctx(a.dir, ['status']))
    expect(human.stdout).toMatch(/pending {2}\.rhema\/todos\.yaml {2}edited here since the daemon last took it in: not synced yet \(`ctxsync watch` or `ctxsync sync` takes it in\)/)
    expect((await ctx(a.dir, ['status', '--check'])).exitCode).toBe(0)
    // A file that no longer parses is held: --check exits 4, as the README says.
    await writeFile(a, TODOS, 'todos:\n  - id: t1\n    title: [unclosed\n')
    expect(await fileState(a)).toMatchObject({ state: 'held', notTakenIn: 'edited' })
    expect((await ctx(a.dir, ['status', '--check'])).exitCode).toBe(4)
    await writeFile(a, TODOS, readFile(a)!.replace('[unclosed', 'fixed'))
    // Taken in once a daemon runs again: the note goes.
    const again = await startWatch(a)
    await waitLog(again, /todos\.yaml: your edit taken in/)
    await waitFor(async () => (await fileState(a))?.notTakenIn === undefined, 15_000, 'the note gone once taken in')
  })
})
