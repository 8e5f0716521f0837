/**
 * Hooks through real git: install keeps an existing hook (chained, run first, with its stdin) and
 * uninstall restores it byte for byte — with `core.hooksPath` set; a hook never fails git when ctxsync is
 * broken or its daemon does not answer; sync points are recorded on commit, pushed by pre-push (merging
 * when the remote's notes moved on), fetched and merged; `status` warns about a driver git cannot call.
 */
import fs from 'node:fs'
import fsp from 'node:fs/promises'
import net from 'node:net'
import path from 'node:path'
import { afterAll, afterEach, describe, expect, it } from 'vitest'
import { ctx, ctxJson, expectOk, freePort, killAll, removeTmpDirs, TODOS, waitFor } from './helpers.js'
import { bareRemote, cloneAs, CONTEXT_TODOS, founder, gitIn, gitTeam, joiner, replaceIn } from './gitHelpers.js'
import { attributeBlock } from '../../src/git/attributes.js'

afterEach(killAll)
afterAll(removeTmpDirs)

const OLD_POST_COMMIT = '#!/bin/sh\n# the team\'s own hook\necho "old post-commit $*" >> "$(git rev-parse --show-toplevel)/.git/old-hook.log"\n'
const OLD_PRE_PUSH = '#!/bin/sh\nwhile read -r line; do echo "pre-push saw: $line" >> "$(git rev-parse --show-toplevel)/.git/old-hook.log"; done\nexit 0\n'

const noteOf = async (dir: string, rev = 'HEAD') => (await gitIn(dir, ['notes', '--ref=ctxsync', 'show', rev], { reject: false })).stdout

describe('e2e: hooks', { timeout: 120_000 }, () => {
  it('keeps an existing hook under core.hooksPath (run first, with stdin) and restores it byte for byte', async () => {
    const remote = await bareRemote({ [TODOS]: CONTEXT_TODOS })
    const dir = await cloneAs(remote, 'ann')
    const hooks = path.join(dir, '.githooks')
    await fsp.mkdir(hooks)
    await fsp.writeFile(path.join(hooks, 'post-commit'), OLD_POST_COMMIT, { mode: 0o755 })
    await fsp.writeFile(path.join(hooks, 'pre-push'), OLD_PRE_PUSH, { mode: 0o750 })
    await gitIn(dir, ['config', 'core.hooksPath', '.githooks'])
    const before = Object.fromEntries(['post-commit', 'pre-push'].map((h) => [h, { text: fs.readFileSync(path.join(hooks, h)), mode: fs.statSync(path.join(hooks, h)).mode }]))
    const attrsBefore = '*.png binary\n'
    await fsp.writeFile(path.join(dir, '.gitattributes'), attrsBefore)

    // Hooks need an initialised clone.
    const early = await ctx(dir, ['hooks', 'install'])
    expect(early.exitCode).toBe(1)
    expect(early.stderr).toMatch(/ctxsync init/)

    await expectOk(ctx(dir, ['init', '--name', 'ann', '--port', String(await freePort()), '--discovery', 'none']))
    const r = await ctxJson(dir, ['hooks', 'install'])
    expect(r.hooksDir).toBe(hooks)
    expect(r.hooks.chained.sort()).toEqual(['post-commit', 'pre-push'])
    expect(fs.readFileSync(path.join(hooks, 'post-commit.pre-ctxsync'))).toEqual(before['post-commit']!.text)
    // The attributes go to this clone's own file: the work tree's .gitattributes is the team's.
    expect(fs.readFileSync(path.join(dir, '.gitattributes'), 'utf8')).toBe(attrsBefore)
    expect(fs.readFileSync(path.join(dir, '.git', 'info', 'attributes'), 'utf8')).toMatch(/# >>> ctxsync[^\n]*\n\*\*\/\.rhema\/\*\*\/\*\.yaml merge=ctxsync\n/)
    expect((await gitIn(dir, ['check-attr', 'merge', '--', TODOS])).stdout).toBe(`${TODOS}: merge: ctxsync`)
    expect((await gitIn(dir, ['config', '--local', 'merge.autoStash'])).stdout.trim()).toBe('true')
    expect((await gitIn(dir, ['config', '--local', 'rebase.autoStash'])).stdout.trim()).toBe('true')
    expect((await gitIn(dir, ['config', 'merge.ctxsync.driver'])).stdout).toMatch(/merge-driver %O %A %B %P$/)
    // Installing again changes nothing.
    expect((await ctxJson(dir, ['hooks', 'install'])).hooks).toMatchObject({ installed: [], chained: [] })

    await replaceIn(dir, TODOS, 'title: "Ship it"', 'title: "Ship it soon"')
    await gitIn(dir, ['add', '-A'])
    await gitIn(dir, ['commit', '-qm', 'ship soon'])
    const log = fs.readFileSync(path.join(dir, '.git', 'old-hook.log'), 'utf8')
    expect(log).toContain('old post-commit')
    // Recorded in the background: the commit does not wait for it.
    await waitFor(async () => /"via":"commit"/.test(await noteOf(dir)), 10_000, 'the sync point of the commit')
    await gitIn(dir, ['push', '-q', 'origin', 'main'])
    expect(fs.readFileSync(path.join(dir, '.git', 'old-hook.log'), 'utf8')).toMatch(/pre-push saw: refs\/heads\/main [0-9a-f]{40} refs\/heads\/main/)
    expect((await gitIn(remote, ['for-each-ref', 'refs/notes/'])).stdout).toContain('refs/notes/ctxsync')

    const u = await ctxJson(dir, ['hooks', 'uninstall'])
    expect(u.hooks.restored.sort()).toEqual(['post-commit', 'pre-push'])
    for (const h of ['post-commit', 'pre-push']) {
      expect(fs.readFileSync(path.join(hooks, h))).toEqual(before[h]!.text)
      expect(fs.statSync(path.join(hooks, h)).mode).toBe(before[h]!.mode)
    }
    expect(fs.readdirSync(hooks).sort()).toEqual(['post-commit', 'pre-push'])
    expect(fs.readFileSync(path.join(dir, '.gitattributes'), 'utf8')).toBe(attrsBefore)
    // It held only our block: gone with it.
    expect(fs.existsSync(path.join(dir, '.git', 'info', 'attributes'))).toBe(false)
    expect((await gitIn(dir, ['config', '--get', 'merge.ctxsync.driver'], { reject: false })).exitCode).toBe(1)
    expect((await gitIn(dir, ['config', '--get', 'merge.autoStash'], { reject: false })).exitCode).toBe(1)
    expect((await gitIn(dir, ['config', '--get-all', 'remote.origin.fetch'])).stdout.trim()).toBe('+refs/heads/*:refs/remotes/origin/*')
    expect((await gitIn(dir, ['config', '--get-all', 'notes.rewriteRef'], { reject: false })).stdout).toBe('')
  })

  it('git goes on when ctxsync is broken or its daemon does not answer', async () => {
    const { a: { dir } } = await gitTeam()
    const hook = path.join(dir, '.git', 'hooks', 'post-commit')
    const installed = fs.readFileSync(hook, 'utf8')

    // A daemon that accepts and never answers: the hook gives up after CTXSYNC_HOOK_TIMEOUT.
    const sock = path.join(dir, '.ctxsync', 'daemon.sock')
    const server = net.createServer(() => undefined)
    await new Promise<void>((r) => server.listen(sock, r))
    await fsp.writeFile(path.join(dir, '.ctxsync', 'daemon.json'), JSON.stringify({ pid: process.pid, url: 'ws://127.0.0.1:1', socket: sock }))
    try {
      await replaceIn(dir, TODOS, 'title: "Ship it"', 'title: "Ship it now"')
      const t0 = Date.now()
      const c = await gitIn(dir, ['commit', '-qam', 'with a hung daemon'], { env: { CTXSYNC_HOOK_TIMEOUT: '1' } })
      expect(c.exitCode).toBe(0)
      expect(Date.now() - t0).toBeLessThan(8000)
      // post-commit works in the background: its warning lands in .ctxsync/hooks.log.
      const log = path.join(dir, '.ctxsync', 'hooks.log')
      await waitFor(() => fs.existsSync(log) && /post-commit: (gave up after 1 s|could not record a sync point)/.test(fs.readFileSync(log, 'utf8')), 10_000, 'the warning in hooks.log')
      // A hook git waits for (post-checkout) also gives up after the deadline and lets git go on.
      const t1 = Date.now()
      const co = await gitIn(dir, ['checkout', '-q', '-b', 'other'], { env: { CTXSYNC_HOOK_TIMEOUT: '1' } })
      expect(co.exitCode).toBe(0)
      expect(Date.now() - t1).toBeLessThan(8000)
      expect(co.stderr).toMatch(/ctxsync: warning: post-checkout: (gave up after 1 s|could not tell the daemon)/)
    } finally {
      server.close()
      await fsp.rm(path.join(dir, '.ctxsync', 'daemon.json'), { force: true })
    }

    // ctxsync itself broken: the hook's command fails; git does not.
    const broken = path.join(dir, 'broken-ctxsync.mjs')
    await fsp.writeFile(broken, 'throw new Error("ctxsync is broken")\n')
    await fsp.writeFile(hook, installed.replace(/bin='[^']*'/, `bin='${broken}'`), { mode: 0o755 })
    await replaceIn(dir, TODOS, 'title: "Ship it now"', 'title: "Ship it later"')
    const c2 = await gitIn(dir, ['commit', '-qam', 'with ctxsync broken'])
    expect(c2.exitCode).toBe(0)
    const checkout = path.join(dir, '.git', 'hooks', 'post-checkout')
    await fsp.writeFile(checkout, fs.readFileSync(checkout, 'utf8').replace(/bin='[^']*'/, `bin='${broken}'`), { mode: 0o755 })
    const co2 = await gitIn(dir, ['checkout', '-q', 'main'])
    expect(co2.exitCode).toBe(0)
    expect(co2.stderr).toContain('ctxsync is broken')
    // Not installed at all (the path is gone, no npx ctxsync): a warning, and the commit.
    await fsp.writeFile(hook, installed.replace(/bin='[^']*'/, `bin='/nonexistent/ctxsync'`), { mode: 0o755 })
    await replaceIn(dir, TODOS, 'title: "Ship it now"', 'title: "Ship it never"') // main's version
    const c3 = await gitIn(dir, ['commit', '-qam', 'without ctxsync'], { env: { PATH: `${path.dirname(process.execPath)}:/usr/bin:/bin` } })
    expect(c3.exitCode).toBe(0)
    expect((await gitIn(dir, ['log', '-1', '--format=%s'])).stdout.trim()).toBe('without ctxsync')
  })

  it('sync points travel: pushed by pre-push, fetched into their own ref, merged without losing one', async () => {
    const { remote, a, joined: [b] } = await gitTeam(['bob']) as { remote: string; a: { dir: string; code: string }; joined: [string] }
    await gitIn(b, ['pull', '-q'])
    // Both commit (on different branches) and push: the second notes push must merge, not overwrite.
    await replaceIn(a.dir, TODOS, 'title: "Ship it"', 'title: "Ship it (ann)"')
    await gitIn(a.dir, ['commit', '-qam', 'ann'])
    await gitIn(b, ['checkout', '-q', '-b', 'bob'])
    await replaceIn(b, TODOS, 'title: "Fix the renderer"', 'title: "Fix the renderer (bob)"')
    await gitIn(b, ['commit', '-qam', 'bob'])
    const [ca, cb] = [(await gitIn(a.dir, ['rev-parse', 'HEAD'])).stdout.trim(), (await gitIn(b, ['rev-parse', 'HEAD'])).stdout.trim()]
    await gitIn(a.dir, ['push', '-q', 'origin', 'main'])
    const pushed = await gitIn(b, ['push', '-q', 'origin', 'bob'], { env: { DEBUG: process.env.CTXSYNC_E2E_DEBUG ?? '' } })
    expect(pushed.stderr).toBe('')
    expect(await noteOf(remote, ca)).toContain('"by":"ann"')
    expect(await noteOf(remote, cb)).toContain('"by":"bob"')
    // Fetching brings them into refs/notes/ctxsync-remote/origin; a pull's post-merge merges them.
    await gitIn(b, ['checkout', '-q', 'main'])
    await gitIn(b, ['pull', '-q'])
    expect((await gitIn(b, ['for-each-ref', '--format=%(refname)', 'refs/notes/'])).stdout).toContain('refs/notes/ctxsync-remote/origin')
    expect(await noteOf(b, ca)).toContain('"by":"ann"')
    const logged = await ctxJson(b, ['log'])
    expect(logged.entries.map((e: { commit: string }) => e.commit)).toContain(ca)
    expect(logged.entries.find((e: { commit: string }) => e.commit === ca).changed).toEqual([TODOS])
    expect((await ctxJson(b, ['log', TODOS])).entries.length).toBeGreaterThan(0)
    // -n counts entries, as git log does (it counted commits looked at: `log -n 1` printed 3, issue 17);
    // short hashes have git's 7 characters and times are for people.
    expect(logged.entries.length).toBeGreaterThan(1)
    expect((await ctxJson(b, ['log', '-n', '1'])).entries).toHaveLength(1)
    const human = await ctx(b, ['log', '-n', '1'])
    expect(human.stdout).toMatch(new RegExp(`^${logged.entries[0].commit.slice(0, 7)} `))
    expect(human.stdout).toMatch(/ago /)
    expect(human.stdout).not.toMatch(/\d{4}-\d\d-\d\dT/)
    expect((await ctxJson(b, ['log', 'ctxsync.yaml'])).entries.every((e: { changed: string[] }) => e.changed.includes('ctxsync.yaml'))).toBe(true)
  })

  it('pulls from a remote without sync points yet; `commit && push` pushes the commit\'s sync point', async () => {
    const remote = await bareRemote({ [TODOS]: CONTEXT_TODOS })
    const a = await cloneAs(remote, 'ann')
    await expectOk(ctx(a, ['init', '--name', 'ann', '--discovery', 'none', '--hooks']))
    // Nobody has pushed notes: the notes refspec must not break fetch or pull.
    expect((await gitIn(a, ['pull', '-q'], { reject: false })).exitCode).toBe(0)
    expect((await gitIn(a, ['fetch', '-q'], { reject: false })).exitCode).toBe(0)
    await gitIn(a, ['add', 'ctxsync.yaml', '.gitignore'])
    await gitIn(a, ['commit', '-qm', 'ctxsync'])
    await gitIn(a, ['push', '-q', 'origin', 'main'])
    const head = (await gitIn(a, ['rev-parse', 'HEAD'])).stdout.trim()
    // The recorder ran in the background; pre-push waited for it.
    expect(await noteOf(remote, head)).toContain('"via":"commit"')
  })

  it('commits in quick succession each get their own sync point (the recorders run side by side)', async () => {
    const { remote, a } = await gitTeam()
    const commits: string[] = []
    for (let i = 0; i < 8; i++) {
      await replaceIn(a.dir, TODOS, i === 0 ? 'title: "Ship it"' : `title: "Ship it ${i - 1}"`, `title: "Ship it ${i}"`)
      await gitIn(a.dir, ['commit', '-qam', `quick ${i}`])
      commits.push((await gitIn(a.dir, ['rev-parse', 'HEAD'])).stdout.trim())
    }
    await waitFor(async () => {
      for (const c of commits) if (!(await noteOf(a.dir, c)).includes('"via":"commit"')) return false
      return true
    }, 30_000, 'a sync point on every quick commit', () => fs.readFileSync(path.join(a.dir, '.ctxsync', 'hooks.log'), 'utf8'))
    // Each note describes its own commit, not whatever HEAD was when its recorder ran.
    const blobs = await Promise.all(commits.map(async (c) => (await gitIn(a.dir, ['rev-parse', `${c}:${TODOS}`])).stdout.trim()))
    for (let i = 0; i < commits.length; i++) {
      const points = (await noteOf(a.dir, commits[i])).trim().split('\n').map((l) => JSON.parse(l))
      expect(points.some((p: { files: Record<string, { b: string }> }) => p.files[TODOS]?.b === blobs[i])).toBe(true)
    }
  })

  it('status says whether the files match HEAD\'s sync point, and warns when the driver is named but missing', async () => {
    const remote = await bareRemote({ [TODOS]: CONTEXT_TODOS })
    const a = await founder(remote, 'ann', await freePort())
    let s = await ctxJson(a.dir, ['status'])
    expect(s.git).toMatchObject({ branch: 'main', matches: true, driver: 'configured', warnings: [] })
    await replaceIn(a.dir, TODOS, 'title: "Ship it"', 'title: "Ship it!"')
    s = await ctxJson(a.dir, ['status'])
    expect(s.git).toMatchObject({ matches: false, differs: [TODOS] })
    // A clone that got a committed .gitattributes naming the driver (as earlier versions had teams commit)
    // but never ran `hooks install`.
    await fsp.writeFile(path.join(a.dir, '.gitattributes'), attributeBlock(['**/.rhema/**/*.yaml']))
    await gitIn(a.dir, ['add', '.gitattributes'])
    await gitIn(a.dir, ['commit', '-qm', 'attributes'])
    await gitIn(a.dir, ['push', '-q', 'origin', 'main'])
    const b = await joiner(remote, 'bob', a.code, await freePort(), { hooks: false })
    s = await ctxJson(b, ['status'])
    expect(s.git.driver).toBe('missing')
    expect(s.git.warnings[0]).toMatch(/would silently merge them as text/)
    expect((await ctx(b, ['status'])).stdout).toMatch(/warning: .*ctxsync hooks install/)
  })

  it('uninstall never changes what the team committed: a committed .gitattributes survives; only this clone\'s additions go', async () => {
    const teamAttrs = '*.png binary\n' + attributeBlock(['**/.rhema/**/*.yaml'])
    const remote = await bareRemote({ [TODOS]: CONTEXT_TODOS, '.gitattributes': teamAttrs })
    const a = await founder(remote, 'ann', await freePort())
    await gitIn(a.dir, ['config', '--local', 'rebase.autoStash', 'false']) // the user's own choice
    await ctxJson(a.dir, ['hooks', 'install'])
    expect((await gitIn(a.dir, ['config', '--local', 'rebase.autoStash'])).stdout.trim()).toBe('false')
    const u = await ctxJson(a.dir, ['hooks', 'uninstall'])
    expect(fs.readFileSync(path.join(a.dir, '.gitattributes'), 'utf8')).toBe(teamAttrs)
    expect((await gitIn(a.dir, ['status', '--porcelain', '--', '.gitattributes'])).stdout).toBe('')
    expect(u.committedAttributes).toBe('.gitattributes')
    expect(u.next).toEqual([expect.stringMatching(/^the committed \.gitattributes still names the ctxsync merge driver: left as the team committed it; .*delete its ctxsync block and commit that$/)])
    expect((await ctx(a.dir, ['hooks', 'uninstall'])).stdout).toMatch(/next: the committed \.gitattributes/)
    // The committed block as an earlier install here refreshed it: put back as the team committed it.
    await fsp.writeFile(path.join(a.dir, '.gitattributes'), '*.png binary\n' + attributeBlock(['**/.rhema/**/*.yaml', '**/rhema.yaml']))
    const u3 = await ctxJson(a.dir, ['hooks', 'uninstall'])
    expect(u3.next.join('\n')).toMatch(/left as the team committed it \(its ctxsync block, which an earlier install here had changed, is back as committed\)/)
    expect(fs.readFileSync(path.join(a.dir, '.gitattributes'), 'utf8')).toBe(teamAttrs)
    expect((await gitIn(a.dir, ['status', '--porcelain', '--', '.gitattributes'])).stdout).toBe('')
    expect((await gitIn(a.dir, ['config', '--local', 'rebase.autoStash'])).stdout.trim()).toBe('false')
    expect((await gitIn(a.dir, ['config', '--get', 'merge.autoStash'], { reject: false })).exitCode).toBe(1)

    // A clone where an earlier version appended its block to the committed file without committing it.
    const plainAttrs = '*.png binary\n'
    const remote2 = await bareRemote({ [TODOS]: CONTEXT_TODOS, '.gitattributes': plainAttrs })
    const b = await founder(remote2, 'bob', await freePort())
    await fsp.appendFile(path.join(b.dir, '.gitattributes'), attributeBlock(['**/.rhema/**/*.yaml']))
    const u2 = await ctxJson(b.dir, ['hooks', 'uninstall'])
    expect(u2.committedAttributes).toBe(null)
    expect(u2.next).toEqual(["nothing to commit: everything removed was this clone's own (.git/hooks, .git/info/attributes, .git/config)"])
    expect(fs.readFileSync(path.join(b.dir, '.gitattributes'), 'utf8')).toBe(plainAttrs)
    expect((await gitIn(b.dir, ['status', '--porcelain'])).stdout).toBe('')
    // The same block staged by hand (never committed): uninstall says how to unstage it, and that is right.
    await fsp.appendFile(path.join(b.dir, '.gitattributes'), attributeBlock(['**/.rhema/**/*.yaml']))
    await gitIn(b.dir, ['add', '.gitattributes'])
    const u4 = await ctxJson(b.dir, ['hooks', 'uninstall'])
    expect(u4.stagedAttributes).toBe('.gitattributes')
    expect(u4.next).toEqual(['the ctxsync block is still staged in .gitattributes, never committed: `git restore --staged .gitattributes` before your next commit'])
    await gitIn(b.dir, ['restore', '--staged', '.gitattributes'])
    expect((await gitIn(b.dir, ['status', '--porcelain'])).stdout).toBe('')
  })
})
