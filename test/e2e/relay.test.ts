/**
 * The relay end to end, through the built CLI: a real `ctxsync serve` on 127.0.0.1 with a temp --data dir,
 * clones in registry mode (they reach the relay only, never each other), daemons and one-shot syncs,
 * secrets and tokens. Covers: convergence through the relay alone; a peer that was offline catching up
 * from the relay alone; kill -9 of the relay losing no acknowledged update; a wrong secret and a tampered
 * token getting no data (exit 5); a read token receiving but not writing (exit 5, file stays pending); CI
 * with CTXSYNC_TOKEN in a fresh checkout without init; /healthz and /metrics.
 */
import fs from 'node:fs'
import path from 'node:path'
import { afterAll, afterEach, describe, expect, it } from 'vitest'
import {
  ctx, edit, explained, fileState, killAll, readFile, removeTmpDirs, SMALL_TODOS, stopWatch, TODOS, waitLog, waitSame,
  type Peer,
} from './helpers.js'
import { freshCheckout, killRelayProcs, registrySpace, startRegistryWatch, startServe } from './relay-helpers.js'

afterEach(async () => {
  await killRelayProcs()
  await killAll()
})
afterAll(removeTmpDirs)

const OTHER_SECRET = 'y'.repeat(43)
const files = { [TODOS]: SMALL_TODOS }

/** A large todos file (~130 bytes a todo): its first rendering is checked on the parse worker. */
function bigTodos(n: number, tag: string): string {
  const words = ['alpha', 'beta: "quoted"', "it's", 'x # not a comment', 'ünïcödé', '[brackets]']
  let out = `# ${tag}: many todos\ntodos:\n`
  for (let i = 0; i < n; i++) {
    out += `  - id: ${tag}-${i}\n    title: ${JSON.stringify(`item ${i}: ${words[i % words.length]}`)}\n    status: ${i % 3 ? 'open' : 'done'}\n`
    out += `    # note ${i}\n    tags: [a${i % 5}, b${i % 11}]\n`
  }
  return out
}

async function tokenFor(peer: Peer, role: string): Promise<string> {
  const r = await ctx(peer.dir, ['token', 'create', '--role', role, '--json'])
  expect(r.exitCode, r.stderr).toBe(0)
  return JSON.parse(r.stdout).token as string
}

describe('e2e: relay', { timeout: 120_000 }, () => {
  it('a first sync of large files into an empty checkout writes every one byte-identical (checked on the parse worker)', async () => {
    const relay = await startServe()
    const big = { '.rhema/a/todos.yaml': bigTodos(900, 'a'), '.rhema/b/todos.yaml': bigTodos(1200, 'b'), '.rhema/c/todos.yaml': bigTodos(700, 'c') }
    const { peers } = await registrySpace(['a'], relay.url, big)
    const [a] = peers as [Peer]
    expect((await ctx(a.dir, ['sync'])).exitCode).toBe(0)
    const read = await tokenFor(a, 'read')
    // Only ctxsync.yaml: every file arrives from the relay and is rendered from the CRDT.
    const empty = fs.mkdtempSync(path.join(path.dirname(a.dir), 'empty-'))
    fs.copyFileSync(path.join(a.dir, 'ctxsync.yaml'), path.join(empty, 'ctxsync.yaml'))
    const r = await ctx(empty, ['sync', '--json'], { env: { CTXSYNC_TOKEN: read, DEBUG: 'ctxsync:parsecheck' } })
    expect(r.exitCode, r.stderr).toBe(0)
    expect(r.stderr).toMatch(/starting the parse worker/)
    expect(JSON.parse(r.stdout).filesChanged.sort()).toEqual(Object.keys(big).sort())
    for (const [rel, text] of Object.entries(big)) {
      expect(Buffer.byteLength(text)).toBeGreaterThan(64 * 1024)
      expect(fs.readFileSync(path.join(empty, rel), 'utf8')).toBe(text)
    }
  })

  it('three peers that only reach the relay converge; one offline meanwhile catches up from the relay alone', async () => {
    const relay = await startServe()
    const { peers } = await registrySpace(['a', 'b', 'c'], relay.url, files)
    const [a, b, c] = peers as [Peer, Peer, Peer]
    expect(fs.readFileSync(path.join(a.dir, 'ctxsync.yaml'), 'utf8')).toMatch(/discovery: registry\nregistry: "ws:\/\/127\.0\.0\.1:\d+"/)
    const daemons = await Promise.all(peers.map((p) => startRegistryWatch(p)))
    const [da, db, dc] = daemons as [typeof daemons[0], typeof daemons[0], typeof daemons[0]]

    await edit(a, 'title: "First task"', 'title: "First task, by a"')
    await edit(b, 'title: "Second task"', 'title: "Second task, by b"')
    await edit(c, 'title: "Third task"', 'title: "Third task, by c"')
    const merged = await explained(waitSame([a, b, c], TODOS, (t) => t.includes('by a') && t.includes('by b') && t.includes('by c')), peers, daemons)
    expect(merged).toBe(SMALL_TODOS.replace('First task"', 'First task, by a"').replace('Second task"', 'Second task, by b"').replace('Third task"', 'Third task, by c"'))

    // The relay's live list, asked through c's daemon.
    const list = await ctx(c.dir, ['peers', '--json'])
    expect(list.exitCode, list.stderr).toBe(0)
    const reg = JSON.parse(list.stdout).registry
    expect(reg).toMatchObject({ url: relay.url, outcome: 'synced' })
    expect(reg.peers.map((p: { name: string }) => p.name).sort()).toEqual(['a', 'b', 'c'])

    // c goes offline; a and b edit on; then they go offline too: only the relay holds their edits.
    expect(await stopWatch(dc)).toBe(0)
    await edit(a, 'status: open\n  - id: t2', 'status: done\n  - id: t2')
    await edit(b, 'status: open\n  - id: t3', 'status: done\n  - id: t3')
    const later = await explained(waitSame([a, b], TODOS, (t) => (t.match(/status: done/g) ?? []).length === 2), [a, b], [da, db])
    await waitLog(da, /updated \.rhema\/todos\.yaml/)
    expect(await stopWatch(da)).toBe(0)
    expect(await stopWatch(db)).toBe(0)

    const sync = await ctx(c.dir, ['sync', '--json'])
    expect(sync.exitCode, sync.stderr).toBe(0)
    expect(JSON.parse(sync.stdout)).toMatchObject({ ok: true, filesChanged: [TODOS], peers: [expect.objectContaining({ url: relay.url, outcome: 'synced', kind: 'relay' })] })
    expect(readFile(c)).toBe(later)

    const health = await fetch(`${relay.http}/healthz`)
    expect(health.status).toBe(200)
    expect(await health.json()).toMatchObject({ status: 'ok', spaces: 1 })
    const metrics = await (await fetch(`${relay.http}/metrics`)).text()
    expect(metrics).toMatch(/^ctxsync_relay_connections \d+$/m)
    expect(Number(/^ctxsync_relay_updates_total (\d+)$/m.exec(metrics)![1])).toBeGreaterThanOrEqual(5)
    expect(Number(/^ctxsync_relay_relayed_total (\d+)$/m.exec(metrics)![1])).toBeGreaterThan(0)
    // The relay's own share of latency, as a Prometheus histogram: one observation per update taken in.
    const count = Number(/^ctxsync_relay_fanout_seconds_count (\d+)$/m.exec(metrics)![1])
    expect(count).toBe(Number(/^ctxsync_relay_updates_total (\d+)$/m.exec(metrics)![1]))
    expect(Number(/^ctxsync_relay_fanout_seconds_bucket\{le="\+Inf"\} (\d+)$/m.exec(metrics)![1])).toBe(count)
    expect(metrics).toMatch(/^ctxsync_relay_updates_per_second [\d.]+$/m)
  })

  it('a relay killed with -9 and restarted has lost no acknowledged update', async () => {
    const relay = await startServe()
    const { peers } = await registrySpace(['a', 'b'], relay.url, files)
    const [a, b] = peers as [Peer, Peer]
    let want = ''
    for (const [from, to] of [['title: "First task"', 'title: "First, acked"'], ['status: open\n  - id: t2', 'status: done\n  - id: t2']] as const) {
      want = await edit(a, from, to)
      const r = await ctx(a.dir, ['sync'])
      expect(r.exitCode, r.stderr).toBe(0)
    }
    // `sync` exited 0: the relay acknowledged, so it is on the relay's disk. No grace period: kill -9 now.
    relay.proc.kill('SIGKILL')
    await relay.proc.catch(() => undefined)
    const again = await startServe({ port: relay.port, data: relay.data })
    const r = await ctx(b.dir, ['sync', '--json'])
    expect(r.exitCode, `${r.stderr}\n${again.log()}`).toBe(0)
    expect(readFile(b)).toBe(want)
    expect((await fileState(a)).state).toBe('synced')
  })

  it('a wrong secret and a tampered token get no data and give none (exit 5)', async () => {
    const relay = await startServe()
    const { peers } = await registrySpace(['a'], relay.url, files)
    const [a] = peers as [Peer]
    const ta = await edit(a, 'title: "First task"', 'title: "First task, private to the team"')
    expect((await ctx(a.dir, ['sync'])).exitCode).toBe(0)

    const stranger = await freshCheckout(a, 'stranger')
    const mine = await edit(stranger, 'title: "Third task"', 'title: "Third task, planted"')
    const wrong = await ctx(stranger.dir, ['sync', '--timeout', '10'], { env: { CTXSYNC_SECRET: OTHER_SECRET } })
    expect(wrong.exitCode).toBe(5)
    expect(wrong.stderr).toMatch(/registered on this relay with another key/)

    const token = await tokenFor(a, 'read')
    const [head, claims, sig, seed] = [token.slice(0, token.indexOf('.') + 1), ...token.slice(token.indexOf('.') + 1).split('.')] as [string, string, string, string]
    const raised = Buffer.from(JSON.stringify({ ...JSON.parse(Buffer.from(claims, 'base64url').toString()), role: 'admin' })).toString('base64url')
    const tampered = await ctx(stranger.dir, ['sync', '--json'], { env: { CTXSYNC_TOKEN: `${head}${raised}.${sig}.${seed}` } })
    expect(tampered.exitCode).toBe(5)
    expect(JSON.parse(tampered.stdout), tampered.stdout + tampered.stderr).toMatchObject({ ok: false, peers: [expect.objectContaining({ outcome: 'refused', error: expect.stringMatching(/signature does not match/) })] })
    expect(tampered.stderr).toMatch(/access refused by 1 peer\(s\): ws:\/\/127\.0\.0\.1:\d+: token refused/)
    expect(readFile(stranger)).toBe(mine)

    // Nothing of the stranger's reached the relay either.
    const check = await ctx(a.dir, ['sync', '--json'])
    expect(JSON.parse(check.stdout)).toMatchObject({ ok: true, filesChanged: [] })
    expect(readFile(a)).toBe(ta)
  })

  it('tokens: CI in a fresh checkout syncs without init or secret (--json); a read token receives but cannot write', async () => {
    const relay = await startServe()
    const { peers } = await registrySpace(['a'], relay.url, files)
    const [a] = peers as [Peer]
    const fromA = await edit(a, 'title: "First task"', 'title: "First task, from a"')
    expect((await ctx(a.dir, ['sync'])).exitCode).toBe(0)
    const write = await tokenFor(a, 'write')
    const read = await tokenFor(a, 'read')

    // CI: a fresh checkout whose ctxsync.yaml names no relay; --registry and CTXSYNC_TOKEN are all it has.
    const ci = await freshCheckout(a, 'ci')
    fs.writeFileSync(path.join(ci.dir, 'ctxsync.yaml'), fs.readFileSync(path.join(ci.dir, 'ctxsync.yaml'), 'utf8').replace(/discovery: registry\nregistry: .*\n/, 'discovery: none\nregistry: null\n'))
    expect(fs.existsSync(path.join(ci.dir, '.ctxsync'))).toBe(false)
    const pull = await ctx(ci.dir, ['sync', '--registry', relay.url, '--json'], { env: { CTXSYNC_TOKEN: write } })
    expect(pull.exitCode, pull.stderr).toBe(0)
    expect(JSON.parse(pull.stdout)).toMatchObject({ ok: true, filesChanged: [TODOS], pending: [], peers: [expect.objectContaining({ outcome: 'synced', access: 'write' })] })
    expect(readFile(ci)).toBe(fromA)
    const fromCi = await edit(ci, 'status: open\n  - id: t3', 'status: done\n  - id: t3')
    const push = await ctx(ci.dir, ['sync', '--registry', relay.url, '--json'], { env: { CTXSYNC_TOKEN: write } })
    expect(push.exitCode, push.stderr).toBe(0)
    expect(JSON.parse(push.stdout)).toMatchObject({ ok: true, pending: [] })
    expect((await ctx(a.dir, ['sync'])).exitCode).toBe(0)
    expect(readFile(a)).toBe(fromCi)

    // A read token: receives…
    const reader = await freshCheckout(a, 'reader')
    const got = await ctx(reader.dir, ['sync', '--json'], { env: { CTXSYNC_TOKEN: read } })
    expect(got.exitCode, got.stderr).toBe(0)
    expect(JSON.parse(got.stdout).peers).toEqual([expect.objectContaining({ outcome: 'synced', access: 'read' })])
    expect(readFile(reader)).toBe(fromCi)
    // …but what it changes is never sent: exit 5, it says so, the file stays pending.
    const attempt = await edit(reader, 'title: "Second task"', 'title: "Second task, read-only edit"')
    const denied = await ctx(reader.dir, ['sync'], { env: { CTXSYNC_TOKEN: read } })
    expect(denied.exitCode).toBe(5)
    expect(denied.stderr).toMatch(/read-only: local changes to 1 file\(s\) \(\.rhema\/todos\.yaml\) were not sent and stay pending/)
    expect(readFile(reader)).toBe(attempt)
    expect((await ctx(reader.dir, ['status', '--json'], { env: { CTXSYNC_TOKEN: read } })).stdout).toMatch(/"state": "pending"/)
    expect((await ctx(a.dir, ['sync', '--json'])).exitCode).toBe(0)
    expect(readFile(a)).toBe(fromCi)
  })
})
