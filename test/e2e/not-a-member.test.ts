/**
 * Where no space is, or this machine is not in it, the CLI says so (issue 17, black-box tester):
 * - `status` in a clone of a space (ctxsync.yaml committed) where `init` never ran showed `you  (human)` with a
 *   blank name, as if this machine were a nameless member: it now says it has not joined, and how to.
 * - outside a space the error said "in DIR or its parents", but the search stops at the repository's root
 *   (like git's): it now names that root.
 */
import fs from 'node:fs'
import path from 'node:path'
import { afterAll, afterEach, describe, expect, it } from 'vitest'
import { clone, ctx, expectOk, git, killAll, removeTmpDirs, setupSpace, SMALL_TODOS, TODOS, tmpDir, type Peer } from './helpers.js'

afterEach(killAll)
afterAll(removeTmpDirs)

const NOT_JOINED = 'this machine has not joined this space: ctxsync.yaml is here, but `ctxsync init` never ran in this clone. Ask a member for a join code (`ctxsync invite`) and run `ctxsync init --join CODE`; CI and scripts can run `ctxsync sync` without init, given CTXSYNC_SECRET (or CTXSYNC_TOKEN with a relay)'

describe('e2e: not a member, not in a space', { timeout: 60_000 }, () => {
  it('status in a clone that never ran init says this machine has not joined, and how to', async () => {
    const { peers } = await setupSpace(['a'], { files: { [TODOS]: SMALL_TODOS } })
    const [a] = peers as [Peer]
    const c = await clone(a.dir, 'c')
    expect(fs.existsSync(path.join(c, 'ctxsync.yaml'))).toBe(true)
    const st = await expectOk(ctx(c, ['status'], { env: { CTXSYNC_SECRET: undefined } }))
    const lines = st.stdout.split('\n')
    expect(lines[0]).toMatch(/^space s-\S+ {3}you not joined yet {3}daemon not running$/)
    expect(lines[1]).toBe(NOT_JOINED)
    expect(st.stdout).not.toContain('(human)')
    const json = JSON.parse((await expectOk(ctx(c, ['status', '--json']))).stdout)
    expect(json.notJoined).toBe(true)
    // A member is not told so.
    const member = await expectOk(ctx(a.dir, ['status']))
    expect(member.stdout.split('\n')[0]).toMatch(/ {3}you a \(human\) {3}/)
    expect(member.stdout).not.toContain('has not joined')
    expect(JSON.parse((await expectOk(ctx(a.dir, ['status', '--json']))).stdout).notJoined).toBeUndefined()
  })

  it('init without a join code or secret in a clone of a space says it is not yet a member, not "joined"', async () => {
    const { peers } = await setupSpace(['a'], { files: { [TODOS]: SMALL_TODOS } })
    const c = await clone((peers[0] as Peer).dir, 'c')
    const r = await ctx(c, ['init', '--name', 'c', '--discovery', 'none'], { env: { CTXSYNC_SECRET: undefined } })
    const out = r.stdout.split('\n')
    expect(out[0]).toMatch(/^not yet a member of space s-\S+ in .*: this machine has no secret for it \(see next\)$/)
    expect(r.stdout).toContain('next: this space already exists: ask a teammate to run `ctxsync invite`, then `ctxsync init --join CODE`')
    expect(r.stdout).not.toMatch(/^joined/m)
    expect(JSON.parse((await ctx(c, ['init', '--name', 'c', '--json'], { env: { CTXSYNC_SECRET: undefined } })).stdout).joined).toBe(false)
  })

  it('outside a space the error names where the search stopped: the git repository root', async () => {
    const repo = await tmpDir('ctxsync-nospace-')
    await git(repo, ['init', '-q'])
    const sub = path.join(repo, 'sub', 'deeper')
    fs.mkdirSync(sub, { recursive: true })
    const inSub = await ctx(sub, ['status'])
    expect(inSub.exitCode).not.toBe(0)
    expect(inSub.stderr.trim()).toBe(`ctxsync: no ctxsync space in ${sub} or its parents up to the git repository root ${repo}: run \`ctxsync init\` first`)
    const atRoot = await ctx(repo, ['history'])
    expect(atRoot.stderr.trim()).toBe(`ctxsync: no ctxsync space in ${repo} (the git repository's root: the search stops there): run \`ctxsync init\` first`)
    // Outside git the search goes to the top.
    const plain = await tmpDir('ctxsync-nogit-')
    expect((await ctx(plain, ['status'])).stderr.trim()).toBe(`ctxsync: no ctxsync space in ${plain} or its parents: run \`ctxsync init\` there first`)
  })
})
