/**
 * Issue 12, findings 1–3 through the built CLI: a genuine `ctxsync serve` given as a peer gets nothing; the
 * registry relay's key is pinned in ctxsync.yaml at first contact; an impostor relay at the same URL (another
 * `ctxsync serve`, with its own key) is refused before it sees a credential or a token, and registers nothing.
 */
import fs from 'node:fs'
import path from 'node:path'
import { afterAll, afterEach, describe, expect, it } from 'vitest'
import { ctx, expectOk, killAll, readFile, removeTmpDirs, setupSpace, SMALL_TODOS, TODOS, type Peer } from './helpers.js'
import { killRelayProcs, registrySpace, startServe } from './relay-helpers.js'

afterEach(async () => {
  await killAll()
  await killRelayProcs()
})
afterAll(removeTmpDirs)

const files = { [TODOS]: SMALL_TODOS }
/** Space ids a relay registered (one directory each beside relay.json and relay-key). */
const registered = (data: string): string[] => fs.readdirSync(data).filter((n) => n.startsWith('s-'))
const pinOf = (p: Peer): string | undefined => /^registry-key: (\S+)$/m.exec(fs.readFileSync(path.join(p.dir, 'ctxsync.yaml'), 'utf8'))?.[1]

describe('e2e: who an endpoint is depends on how it was reached', { timeout: 120_000 }, () => {
  it('sync --peer at a real relay is refused (exit 5): the relay registers nothing and learns no document', async () => {
    const relay = await startServe()
    const { peers } = await setupSpace(['a'], { files })
    const [a] = peers as [Peer]
    const r = await ctx(a.dir, ['sync', '--peer', relay.url, '--json', '--timeout', '10'])
    expect(r.exitCode, r.stderr).toBe(5)
    expect(JSON.parse(r.stdout).peers[0]).toMatchObject({ outcome: 'refused', error: expect.stringMatching(/answered as a relay, but it was dialled as a peer/) })
    expect(registered(relay.data)).toEqual([])
  })

  it('the first contact pins the relay key; an impostor at the same URL sees no credential, no token, registers nothing', async () => {
    const relay = await startServe()
    const key = /relay key: (\S+)/.exec(relay.log())![1]!
    const { peers } = await registrySpace(['a'], relay.url, files)
    const [a] = peers as [Peer]
    const first = await expectOk(ctx(a.dir, ['sync']))
    expect(pinOf(a)).toBe(key)
    expect(first.stderr).toMatch(/pinned the relay.s key in ctxsync.yaml .*commit it/)
    expect(first.stderr + first.stdout).not.toMatch(/error/i)
    const token = (await expectOk(ctx(a.dir, ['token', 'create', '--role', 'write']))).stdout.trim().split('\n').at(-1)!
    const ours = registered(relay.data)
    expect(ours).toHaveLength(1)

    // Someone else's relay takes the URL over (same port, its own --data, so its own key).
    relay.proc.kill('SIGTERM')
    await relay.proc.catch(() => undefined)
    const impostor = await startServe({ port: relay.port })
    expect(/relay key: (\S+)/.exec(impostor.log())![1]).not.toBe(key)
    const before = readFile(a)
    const bySecret = await ctx(a.dir, ['sync', '--timeout', '10'])
    expect(bySecret.exitCode).toBe(5)
    expect(bySecret.stderr).toMatch(/but this space pins .*registry-key/)
    const byToken = await ctx(a.dir, ['sync', '--timeout', '10'], { env: { CTXSYNC_TOKEN: token, CTXSYNC_SECRET: undefined } })
    expect(byToken.exitCode).toBe(5)
    // The token carries the pin it was made under: it names itself, and the fix is a new token.
    expect(byToken.stderr).toMatch(/but this token pins/)
    expect(registered(impostor.data)).toEqual([])
    expect(readFile(a)).toBe(before)
  })

  it('a registry that is not on this machine must be wss:// unless --insecure', async () => {
    const { peers } = await setupSpace(['a'], { files })
    const [a] = peers as [Peer]
    const r = await ctx(a.dir, ['sync', '--registry', 'ws://relay.invalid:7420', '--timeout', '1'])
    expect(r.exitCode).toBe(2)
    expect(r.stderr).toMatch(/not on this machine and not wss:\/\/.*--insecure/)
  })
})
