/**
 * mDNS discovery end to end: two `ctxsync watch` daemons with `discovery: mdns`, no peer URLs configured,
 * inside one private network namespace (`netns.ts`: multicast never leaves it), find each other, connect
 * and sync edits both ways; `ctxsync peers --json` lists what the daemon found. Also: bonjour-service
 * passes the discovery contract there. Skips, saying why, where no namespace can be made.
 *
 * Outside the namespace only `init` runs here (it never multicasts): a new space defaults to mdns.
 */
import fs from 'node:fs'
import path from 'node:path'
import { execa } from 'execa'
import { afterEach, describe, expect, it } from 'vitest'
import {
  CLI, clone, ctxJson, edit, expectOk, ctx, killAll, makeRepo, readFile, removeTmpDirs, repoRoot, setupSpace, SMALL_TODOS, TODOS,
  waitFileEquals, waitFor, waitLog,
} from './helpers.js'
import { Netns, netnsProblem } from './netns.js'

const problem = netnsProblem()
let ns: Netns | null = null

afterEach(async () => {
  await ns?.close()
  ns = null
  await killAll()
  await removeTmpDirs()
})

describe('e2e: init defaults to mDNS', () => {
  it('a new space finds peers by mDNS and listens on every interface; --discovery none keeps loopback', async () => {
    const origin = await makeRepo({ [TODOS]: SMALL_TODOS })
    const a = await clone(origin, 'a')
    await expectOk(ctx(a, ['init', '--name', 'ann']))
    expect(fs.readFileSync(path.join(a, 'ctxsync.yaml'), 'utf8')).toMatch(/^discovery: mdns$/m)
    expect(fs.readFileSync(path.join(a, '.ctxsync/local.yaml'), 'utf8')).toMatch(/^host: 0\.0\.0\.0$/m)
    const b = await clone(origin, 'b')
    await expectOk(ctx(b, ['init', '--name', 'bob', '--discovery', 'none']))
    expect(fs.readFileSync(path.join(b, 'ctxsync.yaml'), 'utf8')).toMatch(/^discovery: none$/m)
    expect(fs.readFileSync(path.join(b, '.ctxsync/local.yaml'), 'utf8')).toMatch(/^host: 127\.0\.0\.1$/m)
    // Without a daemon nothing looks for peers, and `peers` says so rather than multicasting itself.
    const p = await ctxJson(a, ['peers'])
    expect(p.mdns).toBeNull()
  })
})

describe.skipIf(problem !== null)(`e2e: mDNS in a private network namespace${problem ? ` (skipped: ${problem})` : ''}`, { timeout: 90_000 }, () => {
  it('two daemons find each other by mDNS, sync an edit both ways, and `peers --json` lists the found peer', async () => {
    const { peers } = await setupSpace(['ann', 'bob'], { files: { [TODOS]: SMALL_TODOS }, dials: () => [] })
    const [a, b] = peers as [typeof peers[0], typeof peers[0]]
    for (const p of peers) await expectOk(ctx(p.dir, ['init', '--discovery', 'mdns']))
    ns = await Netns.open()
    const da = await ns.watch(a)
    const db = await ns.watch(b)
    await waitLog(da, /connected to bob/, 30_000)
    await waitLog(db, /connected to ann/, 30_000)
    expect(da.log()).toMatch(/mdns: listening on 127\.0\.0\.1/)

    const onA = await edit(a, 'title: "First task"', 'title: "First task, found by mDNS"')
    await waitFileEquals(b, onA)
    const onB = await edit(b, 'title: "Third task"', 'title: "Third task, edited on bob"')
    await waitFileEquals(a, onB)
    expect(readFile(a)).toBe(readFile(b))

    const ids = await Promise.all(peers.map(async (p) => JSON.parse((await expectOk(ns!.ctx(p.dir, ['status', '--json']))).stdout).peer.id as string))
    const seen = JSON.parse((await expectOk(ns.ctx(b.dir, ['peers', '--json']))).stdout)
    expect(seen.mdns).toEqual([expect.objectContaining({ id: ids[0], url: `ws://127.0.0.1:${a.port}`, compatible: true, announced: true, connected: true })])
    expect(seen.known).toEqual([expect.objectContaining({ id: ids[0], name: 'ann', connected: true })])
    // Exactly one connection between them: no duplicate was dialled and dropped.
    expect(da.log().match(/connected to bob/g)).toHaveLength(1)
    expect(db.log().match(/connected to ann/g)).toHaveLength(1)
  })

  it('a copycat announcing the space hash and answering as a relay (a genuine `ctxsync serve`) is refused: nothing shown, nothing written', async () => {
    const { peers } = await setupSpace(['ann'], { files: { [TODOS]: SMALL_TODOS }, dials: () => [] })
    const [a] = peers as [typeof peers[0]]
    await expectOk(ctx(a.dir, ['init', '--discovery', 'mdns']))
    const spaceId = /^space: (\S+)$/m.exec(fs.readFileSync(path.join(a.dir, 'ctxsync.yaml'), 'utf8'))![1]!
    const before = readFile(a)
    ns = await Netns.open()
    const data = fs.mkdtempSync(path.join(path.dirname(a.dir), 'copycat-'))
    const port = a.port + 1
    const relay = ns.spawn(['node', CLI, 'serve', '--port', String(port), '--data', data], a.dir)
    await waitFor(() => relay.log().includes('relay listening'), 20_000, 'the copycat relay', relay.log)
    // What a LAN neighbour hears from ann's announcement, announced again with the relay's port.
    const script = `import { BonjourDiscovery } from ${JSON.stringify(path.join(repoRoot, 'dist/net/discovery/bonjour.js'))};
      import { spaceHash } from ${JSON.stringify(path.join(repoRoot, 'dist/net/discovery/DiscoveryInterface.js'))};
      import { PROTOCOL_VERSION } from ${JSON.stringify(path.join(repoRoot, 'dist/net/protocol.js'))};
      import { newPeerId } from ${JSON.stringify(path.join(repoRoot, 'dist/ids.js'))};
      await new BonjourDiscovery().start({ peerId: newPeerId(), spaceHash: spaceHash(${JSON.stringify(spaceId)}), proto: PROTOCOL_VERSION, port: ${port} });
      console.log('announcing'); setInterval(() => {}, 1e6)`
    const copycat = ns.spawn(['node', '--input-type=module', '-e', script], a.dir)
    await waitFor(() => copycat.log().includes('announcing'), 20_000, 'the copycat announcer', copycat.log)
    const da = await ns.watch(a)
    await waitLog(da, /answered as a relay, but it was dialled as a peer/, 30_000)
    expect(fs.readdirSync(data).filter((n) => n.startsWith('s-'))).toEqual([])
    expect(relay.log()).not.toMatch(/registered|admitted/)
    expect(readFile(a)).toBe(before)
    expect(da.log()).not.toMatch(/connected to relay/)
  })

  it('CTXSYNC_NO_MDNS keeps a daemon of an mdns space from multicasting (the test suite sets it everywhere else)', async () => {
    const { peers } = await setupSpace(['ann'], { files: { [TODOS]: SMALL_TODOS } })
    await expectOk(ctx(peers[0]!.dir, ['init', '--discovery', 'mdns']))
    ns = await Netns.open()
    const d = await ns.watch(peers[0]!, [], { CTXSYNC_NO_MDNS: '1' })
    expect(d.log()).toMatch(/mdns: off \(CTXSYNC_NO_MDNS is set\)/)
    const seen = JSON.parse((await expectOk(ns.ctx(peers[0]!.dir, ['peers', '--json']))).stdout)
    expect(seen.mdns).toBeNull()
  })

  it('bonjour-service passes the discovery contract inside the namespace', async () => {
    ns = await Netns.open()
    const [cmd, ...pre] = ns.enter
    const r = await execa(cmd!, [...pre, process.execPath, path.join(repoRoot, 'node_modules/vitest/vitest.mjs'), 'run', 'test/net/discovery.test.ts', '-t', 'bonjour'], {
      cwd: repoRoot, reject: false, env: { CTXSYNC_NETNS: '1', NO_COLOR: '1' }, timeout: 60_000,
    })
    expect(r.exitCode, `${r.stdout}\n${r.stderr}`).toBe(0)
    expect(String(r.stdout)).toMatch(/Tests\s+2 passed/)
  })
})
