/**
 * `.ctxsync/` is this machine's alone (issue 12, findings 6 and 7), through the built CLI.
 *
 * A repository commits `.ctxsync/` content and a teammate clones it fresh:
 *  - a committed local.yaml (host 0.0.0.0, a peer to dial), identity and secret are ignored by
 *    `init --join`, replaced by its own, and a second init changes nothing;
 *  - a committed `secret` that is a link (to a FIFO outside the repository: opening it would block the
 *    command, so a command that finishes never opened it) is refused by init, invite, status and watch;
 *  - a committed `.ctxsync` that is a link to a directory outside is refused by every command, and nothing is
 *    ever written there.
 * And the secret is never readable by others at any moment of `init`: the directory is watched (fs.watch
 * plus a tight poll) and every entry that appears is stat-ed; the directory is 0700 before the secret (or
 * its temp file) exists, and every secret file seen is 0600.
 */
import { execFileSync } from 'node:child_process'
import fs from 'node:fs'
import path from 'node:path'
import { afterAll, afterEach, describe, expect, it } from 'vitest'
import {
  clone, ctx, ctxJson, expectOk, freePort, git, killAll, lastLine, makeRepo, removeTmpDirs, SMALL_TODOS, TODOS, tmpDir,
} from './helpers.js'
import { tree } from './hostile-helpers.js'

afterEach(killAll)
afterAll(removeTmpDirs)

/** A space's origin and a join code for it. */
async function space(): Promise<{ origin: string; code: string; secret: string }> {
  const origin = await makeRepo({ [TODOS]: SMALL_TODOS })
  await expectOk(ctx(origin, ['init', '--discovery', 'none', '--name', 'owner']))
  await git(origin, ['add', 'ctxsync.yaml', '.gitignore'])
  await git(origin, ['commit', '-qm', 'ctxsync'])
  const code = lastLine((await expectOk(ctx(origin, ['invite']))).stdout)
  const secret = fs.readFileSync(path.join(origin, '.ctxsync/secret'), 'utf8').trim()
  return { origin, code, secret }
}

/** Commits `files` (relative path → text, or `{ link }`) under .ctxsync/ in a copy of origin, returns the copy. */
async function committing(origin: string, files: Record<string, string | { link: string }>): Promise<string> {
  const evil = await clone(origin, 'evil')
  for (const [rel, v] of Object.entries(files)) {
    const abs = path.join(evil, rel)
    fs.mkdirSync(path.dirname(abs), { recursive: true })
    if (typeof v === 'string') fs.writeFileSync(abs, v)
    else fs.symlinkSync(v.link, abs)
  }
  await git(evil, ['add', '-f', ...Object.keys(files)])
  await git(evil, ['commit', '-qm', 'our .ctxsync'])
  return evil
}

describe('e2e: local state is ours alone', { timeout: 120_000 }, () => {
  it('a fresh clone ignores a committed local.yaml, identity and secret: init --join writes its own, idempotently', async () => {
    const { origin, code, secret } = await space()
    const port = await freePort()
    const evilSecret = 'A'.repeat(43)
    const evilId = 'p-aaaaaaaaaaaaaaaa'
    const evil = await committing(origin, {
      '.ctxsync/local.yaml': `name: evil\nagent: false\nhost: 0.0.0.0\nport: 7420\npeers:\n  - ws://127.0.0.1:${port}\n`,
      '.ctxsync/identity.json': JSON.stringify({ id: evilId, createdAt: '2020-01-01T00:00:00.000Z' }),
      '.ctxsync/secret': `${evilSecret}\n`,
    })
    const dir = await clone(evil, 'fresh')
    const r = await ctxJson(dir, ['init', '--join', code, '--name', 'me'])
    expect(r.ignored.sort()).toEqual(['.ctxsync/identity.json', '.ctxsync/local.yaml', '.ctxsync/secret'])
    expect(r.secret).toBe('joined')
    expect(r.peer.id).not.toBe(evilId)
    expect(r.next.join('\n')).toMatch(/git rm -r --cached \.ctxsync/)
    const local = fs.readFileSync(path.join(dir, '.ctxsync/local.yaml'), 'utf8')
    expect(local).toMatch(/^host: 127\.0\.0\.1$/m)
    expect(local).not.toContain(String(port))
    expect(local).toMatch(/^name: "me"$/m)
    expect(fs.readFileSync(path.join(dir, '.ctxsync/secret'), 'utf8').trim()).toBe(secret)
    expect((await ctxJson(dir, ['invite'])).code).toBe(code)
    // Idempotent: what init wrote differs from the index, so it is ours now.
    const again = await ctxJson(dir, ['init', '--join', code, '--name', 'me'])
    expect(again.ignored).toEqual([])
    expect(again.peer.id).toBe(r.peer.id)
    expect([...again.created, ...again.changed]).toEqual([])

    // Without a join code, a committed secret is not the space's: removed, and the clone is told to join.
    const other = await clone(evil, 'fresh-nojoin')
    const nojoin = await ctxJson(other, ['init'])
    expect(nojoin.secret).toBe('missing')
    expect(fs.existsSync(path.join(other, '.ctxsync/secret'))).toBe(false)
    expect((await ctx(other, ['invite'])).stdout).not.toContain(Buffer.from(evilSecret).toString('base64url').slice(0, 20))
  })

  it('a committed secret link is refused by every command and its target is never opened', async () => {
    const { origin, code } = await space()
    const outside = await tmpDir('ctxsync-outside-')
    const fifo = path.join(outside, 'id_ed25519')
    execFileSync('mkfifo', [fifo])
    const evil = await committing(origin, { '.ctxsync/secret': { link: fifo } })
    const dir = await clone(evil, 'fresh')
    const before = tree(outside)
    // Opening the FIFO for reading would block until a writer comes: a command that finishes never opened it.
    for (const args of [['init', '--join', code], ['init'], ['invite'], ['status'], ['sync'], ['watch']]) {
      const r = await ctx(dir, args, { timeout: 20_000 })
      expect(r.exitCode, `${args.join(' ')}: ${r.stderr}`).not.toBe(0)
      expect(r.exitCode, args.join(' ')).not.toBe(-1)
      expect(r.stderr, args.join(' ')).toMatch(/\.ctxsync\/secret is a symbolic link/)
    }
    expect(tree(outside)).toEqual(before)
    expect(fs.lstatSync(path.join(dir, '.ctxsync/secret')).isSymbolicLink()).toBe(true)
  })

  it('a committed .ctxsync link to a directory outside: every command refuses, nothing is written there', async () => {
    const { origin, code } = await space()
    const outside = await tmpDir('ctxsync-outside-')
    const evil = await committing(origin, { '.ctxsync': { link: outside } })
    const dir = await clone(evil, 'fresh')
    expect(fs.lstatSync(path.join(dir, '.ctxsync')).isSymbolicLink()).toBe(true)
    for (const args of [['init', '--join', code], ['init'], ['invite'], ['status'], ['peers'], ['sync'], ['watch'], ['hooks', 'install']]) {
      const r = await ctx(dir, args, { timeout: 20_000 })
      expect(r.exitCode, `${args.join(' ')}: ${r.stdout}${r.stderr}`).not.toBe(0)
      expect(r.stderr, args.join(' ')).toMatch(/\.ctxsync is a symbolic link/)
    }
    expect(fs.readdirSync(outside)).toEqual([])
  })

  it('the secret is never readable by others while init creates it: 0700 directory first, 0600 file from its first byte', async () => {
    const dir = await clone(await makeRepo({ [TODOS]: SMALL_TODOS }), 'fresh')
    const state = path.join(dir, '.ctxsync')
    // As a checkout leaves it: a world-readable directory (init must close it before the secret appears).
    fs.mkdirSync(state, { mode: 0o755 })
    fs.chmodSync(state, 0o755)
    const seen: Array<{ name: string; mode: number; dirMode: number }> = []
    const look = () => {
      let names: string[]
      try {
        names = fs.readdirSync(state)
      } catch {
        return
      }
      for (const name of names) {
        if (!name.startsWith('secret')) continue
        try {
          const mode = fs.lstatSync(path.join(state, name)).mode & 0o777
          seen.push({ name, mode, dirMode: fs.statSync(state).mode & 0o777 })
        } catch {
          // renamed or removed between readdir and lstat
        }
      }
    }
    const watcher = fs.watch(state, () => look())
    let running = true
    const poll = (async () => {
      while (running) {
        look()
        await new Promise((r) => setImmediate(r))
      }
    })()
    try {
      const r = await ctxJson(dir, ['init', '--discovery', 'none'])
      expect(r.secret).toBe('created')
    } finally {
      running = false
      watcher.close()
      await poll
    }
    look()
    expect(seen.length).toBeGreaterThan(0)
    const names = [...new Set(seen.map((s) => s.name))]
    console.log(`secret entries seen while init ran: ${seen.length} observations of ${names.join(', ')}`)
    for (const s of seen) {
      expect(s.mode & 0o077, `${s.name} was ${s.mode.toString(8)}`).toBe(0)
      expect(s.dirMode, `.ctxsync was ${s.dirMode.toString(8)} while ${s.name} existed`).toBe(0o700)
    }
    expect(fs.statSync(state).mode & 0o777).toBe(0o700)
    expect(fs.statSync(path.join(state, 'secret')).mode & 0o777).toBe(0o600)
  })
})
