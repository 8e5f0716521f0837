/**
 * One-shot `ctxsync sync`: its exit codes (0 synced, 3 no peer reachable with the change kept pending,
 * 5 access refused), its `--json` summary, working through a running daemon in the same repository (also
 * with a relay: `--registry` beside a LAN daemon, and beside a registry-mode one), and a stranger with the
 * wrong secret getting nothing and giving nothing.
 */
import fs from 'node:fs'
import path from 'node:path'
import { afterAll, afterEach, describe, expect, it } from 'vitest'
import {
  ctx, edit, fileState, freePort, killAll, readFile, removeTmpDirs, setupSpace, SMALL_TODOS, startWatch, stopWatch,
  TODOS, waitFileEquals, waitFor, waitLog, waitSame, type Peer,
} from './helpers.js'
import { killRelayProcs, registrySpace, startRegistryWatch, startServe } from './relay-helpers.js'

afterEach(async () => {
  await killRelayProcs()
  await killAll()
})
afterAll(removeTmpDirs)

/** A valid secret that is not the space's. */
const OTHER_SECRET = 'x'.repeat(43)

describe('e2e: sync', { timeout: 90_000 }, () => {
  it('exits 0 with a reachable peer (JSON summary), 3 when none is reachable (the change stays pending)', async () => {
    const { peers } = await setupSpace(['a', 'b'], { files: { [TODOS]: SMALL_TODOS } })
    const [a, b] = peers as [Peer, Peer]
    const da = await startWatch(a)

    const t1 = await edit(b, 'title: "First task"', 'title: "First task, synced once"')
    const r = await ctx(b.dir, ['sync', '--peer', a.url, '--json'])
    expect(r.exitCode, r.stderr).toBe(0)
    const sum = JSON.parse(r.stdout)
    expect(sum).toMatchObject({ ok: true, filesChanged: [], pending: [] })
    expect(sum.peers).toEqual([expect.objectContaining({ url: a.url, outcome: 'synced', name: 'a', kind: 'human' })])
    expect(sum.bytesSent).toBeGreaterThan(0)
    expect(sum.bytesReceived).toBeGreaterThan(0)
    await waitFileEquals(a, t1)
    expect((await fileState(b)).state).toBe('synced')

    // A changes something; B's next sync brings it in and reports the file it changed.
    const t2 = await edit(a, 'status: open\n  - id: t2', 'status: done\n  - id: t2')
    await waitFor(async () => {
      const s = await ctx(b.dir, ['sync', '--peer', a.url, '--json'])
      return s.exitCode === 0 && readFile(b) === t2
    }, 15_000, 'b to receive a\'s change', () => readFile(b)!)

    // The peer is gone (its port closed): exit 3, the message says the change is kept, status says pending.
    expect(await stopWatch(da)).toBe(0)
    const t3 = await edit(b, 'title: "Third task"', 'title: "Third task, offline"')
    const closed = await ctx(b.dir, ['sync', '--peer', a.url, '--timeout', '5'])
    expect(closed.exitCode).toBe(3)
    expect(closed.stderr).toMatch(/no peer reachable/)
    expect(closed.stderr).toMatch(/1 file\(s\) not yet exchanged with any peer are kept here/)
    const js = await ctx(b.dir, ['sync', '--peer', `ws://127.0.0.1:${await freePort()}`, '--timeout', '5', '--json'])
    expect(js.exitCode).toBe(3)
    expect(JSON.parse(js.stdout)).toMatchObject({ ok: false, pending: [TODOS], peers: [expect.objectContaining({ outcome: 'unreachable' })] })
    expect((await fileState(b)).state).toBe('pending')
    expect(readFile(b)).toBe(t3)
    // No peer configured or given at all: also 3.
    const none = await ctx(a.dir, ['sync'])
    expect(none.exitCode).toBe(3)
    expect(none.stderr).toMatch(/--peer/)

    // Once A is back, the pending change goes out.
    const da2 = await startWatch(a)
    const back = await ctx(b.dir, ['sync', '--peer', a.url])
    expect(back.exitCode, back.stderr).toBe(0)
    await waitFileEquals(a, t3)
    expect((await fileState(b)).state).toBe('synced')
    await stopWatch(da2)
  })

  it('works while watch runs in the same repository (through the daemon)', async () => {
    const { peers } = await setupSpace(['a', 'b'], { files: { [TODOS]: SMALL_TODOS } })
    const [a, b] = peers as [Peer, Peer]
    const da = await startWatch(a)
    const db = await startWatch(b)
    await waitLog(db, /connected to a/)
    const t1 = await edit(b, 'title: "Second task"', 'title: "Second task, via the daemon"')
    // The daemon's log shows the person's own edits too (issue 17).
    await waitLog(db, /\.rhema\/todos\.yaml: your edit taken in/)
    // A settings change under the running daemon gets the hint to restart it (it was silently ignored).
    fs.appendFileSync(path.join(b.dir, '.ctxsync', 'local.yaml'), '# a comment\n')
    await waitLog(db, /local\.yaml changed: it applies from the next start of the daemon/)
    // Both the configured peers (none given) and an explicit --peer go through B's daemon.
    for (const args of [['sync', '--json'], ['sync', '--peer', a.url, '--json']]) {
      const r = await ctx(b.dir, args)
      expect(r.exitCode, r.stderr).toBe(0)
      const sum = JSON.parse(r.stdout)
      expect(sum).toMatchObject({ ok: true, via: 'daemon', pending: [] })
      expect(sum.peers).toEqual([expect.objectContaining({ url: a.url, outcome: 'synced' })])
    }
    expect(await waitSame([a, b])).toBe(t1)
    // `sync` in A's repository, whose daemon has no configured peers but a live connection to B.
    const ra = await ctx(a.dir, ['sync', '--peer', b.url])
    expect(ra.exitCode, ra.stderr).toBe(0)
    expect(readFile(a)).toBe(t1)
    // And with no peer named: A's daemon only accepts connections, B's session is the sync (it said "no
    // peers to sync with", exit 3, while B was connected: issue 17).
    const alone = await ctx(a.dir, ['sync', '--json'])
    expect(alone.exitCode, alone.stderr).toBe(0)
    expect(JSON.parse(alone.stdout).peers).toEqual([expect.objectContaining({ name: 'b', outcome: 'synced' })])
    // B's change came in before this sync, through the live session: not this sync's doing.
    expect(JSON.parse(alone.stdout).filesChanged).toEqual([])
    expect(db.log()).not.toMatch(/warning|locked/)
    // A stops first: its own stop is not blamed on B (it said "disconnected from b (peer shutting down)").
    expect(await stopWatch(da)).toBe(0)
    expect(da.log()).toMatch(/disconnected from b.*\(this daemon is stopping\)/)
    await waitLog(db, /disconnected from a.*\(peer shutting down\)/)
    await stopWatch(db)
  })

  it('beside a listen-only daemon: sync reports the files that sync changed, and the peers connected to it', async () => {
    // a only accepts connections (no peers of its own); b dials a; c is reached only by a's sync (once
    // joined: a member that never exchanged keeps its files waiting).
    const { peers } = await setupSpace(['a', 'c', 'b'], { files: { [TODOS]: SMALL_TODOS }, dials: (i) => (i === 2 ? [0] : []) })
    const [a, c, b] = peers as [Peer, Peer, Peer]
    const da = await startWatch(a)
    expect((await ctx(c.dir, ['sync', '--peer', a.url])).exitCode).toBe(0)
    const db = await startWatch(b)
    const dc = await startWatch(c)
    await waitLog(da, /connected to b/)
    const want = await edit(c, 'title: "Second task"', 'title: "Second task, from c"')
    await waitLog(dc, /\.rhema\/todos\.yaml: your edit taken in/)
    const r = await ctx(a.dir, ['sync', '--peer', c.url, '--json'])
    expect(r.exitCode, r.stderr).toBe(0)
    const sum = JSON.parse(r.stdout)
    expect(readFile(a)).toBe(want)
    expect(sum).toMatchObject({ ok: true, via: 'daemon', filesChanged: [TODOS], pending: [] })
    expect(sum.peers).toEqual([
      expect.objectContaining({ url: c.url, outcome: 'synced', name: 'c' }),
      expect.objectContaining({ name: 'b', outcome: 'synced' }),
    ])
    // b has it through its live session with a; a sync after that changes nothing.
    expect(await waitSame([a, b])).toBe(want)
    const again = await ctx(a.dir, ['sync', '--json'])
    expect(again.exitCode, again.stderr).toBe(0)
    expect(JSON.parse(again.stdout)).toMatchObject({ ok: true, via: 'daemon', filesChanged: [], peers: [expect.objectContaining({ name: 'b', outcome: 'synced' })] })
    for (const d of [dc, db, da]) expect(await stopWatch(d)).toBe(0)
  })

  it('sync --registry beside a daemon reports the files the daemon changed in that sync, every time', async () => {
    const relay = await startServe()
    const { peers } = await setupSpace(['a', 'b'], { files: { [TODOS]: SMALL_TODOS } })
    const [a, b] = peers as [Peer, Peer]
    const da = await startWatch(a)
    const viaRelay = async (from: string, to: string) => {
      const want = await edit(b, from, to)
      const push = await ctx(b.dir, ['sync', '--registry', relay.url])
      expect(push.exitCode, push.stderr).toBe(0)
      expect(push.stdout).not.toMatch(/joining/)
      return want
    }
    // b, just joined, syncs first: the relay has nothing of the space, so b's files wait, unsent. It said
    // "synced, no files changed" as if done (issue 17).
    const early = await ctx(b.dir, ['sync', '--registry', relay.url])
    expect(early.exitCode, early.stderr).toBe(0)
    expect(early.stdout).toMatch(/joining: no peer had this space's state yet, so this machine's files wait and nothing of them was sent/)
    // A's daemon puts the space's state on the relay (b, just joined, takes it from there).
    const first = await ctx(a.dir, ['sync', '--registry', relay.url, '--json'])
    expect(first.exitCode, first.stderr).toBe(0)
    expect(JSON.parse(first.stdout)).toMatchObject({ ok: true, via: 'daemon', filesChanged: [] })
    // Twice: the second sync reported `filesChanged: []` though the daemon rewrote the file, because the
    // file had already been written once in the daemon's life (issue 17).
    for (const [from, to] of [['title: "First task"', 'title: "First task, via the relay"'], ['status: open\n  - id: t2', 'status: done\n  - id: t2']] as const) {
      const want = await viaRelay(from, to)
      const r = await ctx(a.dir, ['sync', '--registry', relay.url, '--json'])
      expect(r.exitCode, r.stderr).toBe(0)
      const sum = JSON.parse(r.stdout)
      expect(readFile(a), to).toBe(want)
      expect(sum.filesChanged, to).toEqual([TODOS])
      expect(sum).toMatchObject({ ok: true, via: 'daemon', peers: [expect.objectContaining({ url: relay.url, outcome: 'synced', kind: 'relay' })] })
    }
    // Nothing new: nothing changed.
    const idle = await ctx(a.dir, ['sync', '--registry', relay.url, '--json'])
    expect(idle.exitCode, idle.stderr).toBe(0)
    expect(JSON.parse(idle.stdout)).toMatchObject({ ok: true, filesChanged: [] })
    await stopWatch(da)
  })

  it('sync beside a registry-mode daemon goes through its relay session and names the relay', async () => {
    const relay = await startServe()
    const { peers } = await registrySpace(['a', 'b'], relay.url, { [TODOS]: SMALL_TODOS })
    const [a, b] = peers as [Peer, Peer]
    const da = await startRegistryWatch(a)
    const want = await edit(b, 'title: "First task"', 'title: "First task, by b"')
    const push = await ctx(b.dir, ['sync', '--json'])
    expect(push.exitCode, push.stderr).toBe(0)
    // The relay passed b's change on to a's session at once: a's daemon wrote it before a's sync began,
    // so that sync changed nothing (the daemon's log says who changed what, when).
    await waitLog(da, /updated \.rhema\/todos\.yaml \(by b\)/)
    for (const args of [['sync', '--json'], ['sync', '--registry', relay.url, '--json']]) {
      const r = await ctx(a.dir, args)
      expect(r.exitCode, r.stderr).toBe(0)
      expect(JSON.parse(r.stdout)).toMatchObject({
        ok: true, via: 'daemon', filesChanged: [], pending: [], peers: [expect.objectContaining({ url: relay.url, outcome: 'synced', kind: 'relay' })],
      })
    }
    expect(readFile(a)).toBe(want)
    // The live session did the work: no second connection to the relay was opened.
    expect(da.log()).not.toMatch(/syncing with/)
    await stopWatch(da)
  })

  it('a peer with the wrong secret is refused (exit 5): its files stay as they are, the other side gets nothing', async () => {
    const { peers } = await setupSpace(['a', 'b'], { files: { [TODOS]: SMALL_TODOS } })
    const [a, b] = peers as [Peer, Peer]
    const da = await startWatch(a)
    const ta = await edit(a, 'title: "First task"', 'title: "First task, A only"')
    await waitFor(async () => (await fileState(a)).state === 'pending', 5000, 'a: its edit taken in')
    const tb = await edit(b, 'title: "Third task"', 'title: "Third task, B only"')

    // Said from b's side, the one holding the wrong secret (it read the listener's "the other peer does not
    // know this space's secret"), with the fix for where b's secret came from: here CTXSYNC_SECRET.
    const fromEnv = "this machine's secret (from CTXSYNC_SECRET) is not the one the peer uses for this space: unset CTXSYNC_SECRET to use .ctxsync/secret, or set it to the space's secret"
    const r = await ctx(b.dir, ['sync', '--peer', a.url, '--timeout', '10'], { env: { CTXSYNC_SECRET: OTHER_SECRET } })
    expect(r.exitCode).toBe(5)
    expect(r.stdout.split('\n')[0]).toBe(`refused     ${a.url}  ${fromEnv}`)
    expect(r.stderr).toContain(`ctxsync: refused by ${a.url}: ${fromEnv}.`)
    const js = await ctx(b.dir, ['sync', '--peer', a.url, '--timeout', '10', '--json'], { env: { CTXSYNC_SECRET: OTHER_SECRET } })
    expect(js.exitCode).toBe(5)
    expect(JSON.parse(js.stdout).peers).toEqual([expect.objectContaining({ url: a.url, outcome: 'refused', error: fromEnv })])
    // The secret in .ctxsync/secret: the fix is a new join code.
    const secretFile = path.join(b.dir, '.ctxsync', 'secret')
    const good = fs.readFileSync(secretFile, 'utf8')
    fs.writeFileSync(secretFile, OTHER_SECRET + '\n')
    const rf = await ctx(b.dir, ['sync', '--peer', a.url, '--timeout', '10'])
    fs.writeFileSync(secretFile, good)
    expect(rf.exitCode).toBe(5)
    expect(rf.stdout.split('\n')[0]).toBe(
      `refused     ${a.url}  this machine's secret for this space is not the one the peer uses: ask a member who syncs with it for a new join code (\`ctxsync invite\` there) and run \`ctxsync init --join CODE\` here`,
    )
    // The listener names the stranger by its address; the name it gave is only its claim.
    await waitLog(da, /refused a connection from/)
    expect(da.log()).toContain(
      "refused a connection from an unknown peer at 127.0.0.1 (it says it is b; not proven): it does not know this space's secret, so nothing was exchanged. " +
      'If b belongs in this space, give them a new join code (`ctxsync invite`, shared privately)',
    )
    // Give a hostile delivery time to land, then check that nothing moved either way.
    await new Promise((res) => setTimeout(res, 300))
    expect(readFile(b)).toBe(tb)
    expect(readFile(a)).toBe(ta)
    expect((await fileState(b)).state).toBe('pending')
    expect((await fileState(a)).state).toBe('pending')
    expect(da.log()).not.toMatch(/connected to b/)

    // The same peer with the right secret syncs: the refusal was about the secret, not the peer.
    const ok = await ctx(b.dir, ['sync', '--peer', a.url])
    expect(ok.exitCode, ok.stderr).toBe(0)
    const merged = await waitSame([a, b])
    expect(merged).toBe(SMALL_TODOS.replace('title: "First task"', 'title: "First task, A only"').replace('title: "Third task"', 'title: "Third task, B only"'))
    await stopWatch(da)
  })

  it('a peer of another space is refused (exit 5), said as another space on both sides', async () => {
    const { peers } = await setupSpace(['a', 'b'], { files: { [TODOS]: SMALL_TODOS } })
    const a = peers[0]!
    const { peers: others } = await setupSpace(['e'], { files: { [TODOS]: SMALL_TODOS } })
    const e = others[0]!
    const theirs = /^space: (\S+)$/m.exec(fs.readFileSync(path.join(e.dir, 'ctxsync.yaml'), 'utf8'))![1]!
    const da = await startWatch(a)
    const r = await ctx(e.dir, ['sync', '--peer', a.url, '--timeout', '10'])
    expect(r.exitCode).toBe(5)
    // It said "this machine's secret does not match theirs", as for a wrong secret.
    const why = 'the peer syncs another space, not this one (nothing was exchanged): check the address (--peer, or `peers:` in .ctxsync/local.yaml) and use a peer of this space'
    expect(r.stdout.split('\n')[0]).toBe(`refused     ${a.url}  ${why}`)
    expect(r.stderr).toContain(`ctxsync: refused by ${a.url}: ${why}.`)
    // The listener said "refused a connection from ?".
    await waitLog(da, /refused a connection from/)
    expect(da.log()).toContain(
      `refused a connection from an unknown peer at 127.0.0.1: it asked for another space (${theirs}), and was shown nothing of this one. Nothing to do here: its own side reports the refusal`,
    )
    await stopWatch(da)
  })
})
