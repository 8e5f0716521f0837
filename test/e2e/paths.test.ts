/**
 * Paths from the wire and symbolic links on disk, against a running `ctxsync watch`.
 *
 * An authenticated hostile peer (it holds the secret: the real handshake from dist/net) names documents
 * outside the tracked globs — escaping (`../../.bashrc`), absolute, with backslashes or NUL, inside `.git`,
 * `.ctxsync` or `node_modules` — in Update, SyncStep2 and Manifest messages: each frame is refused with 1002
 * ("refused document name"), and no file appears anywhere, inside the repository or outside it. Plain names
 * this clone does not track (another peer's globs may) are skipped with a warning, and nothing is written. Symbolic links inside the tracked globs (a file link and a directory link, both pointing
 * outside the repository) are never enrolled and never written through when a peer sends that path; the
 * daemon warns.
 */
import fs from 'node:fs'
import path from 'node:path'
import { afterAll, afterEach, describe, expect, it } from 'vitest'
// @ts-expect-error: a plain .mjs module shared with the benchmark (no types)
import * as wire from '../../bench/hostile-wire.mjs'
import {
  ctx, edit, killAll, readFile, removeTmpDirs, setupSpace, SMALL_TODOS, startWatch, TODOS, tmpDir, waitFileEquals, waitFor,
  waitLog, writeFile, type Peer,
} from './helpers.js'
import { escapeTargets, relayTree, secretOf, spaceIdOf, spaceState, tree } from './hostile-helpers.js'
import { killRelayProcs, registrySpace, startServe } from './relay-helpers.js'

afterEach(async () => {
  await killRelayProcs()
  await killAll()
})
afterAll(removeTmpDirs)

const names: string[] = [...wire.HOSTILE_NAMES, ...wire.UNTRACKED_NAMES]

describe('e2e: paths and symbolic links', { timeout: 120_000 }, () => {
  it('an authenticated peer naming documents outside the repository is refused (1002), untracked ones are skipped; nothing is written', async () => {
    const { peers } = await setupSpace(['a'], { files: { [TODOS]: SMALL_TODOS } })
    const [a] = peers as [Peer]
    const da = await startWatch(a)
    const spaceId = spaceIdOf(a)
    const secret = secretOf(a)
    const outside = path.dirname(a.dir)
    const targets = escapeTargets(a, names).filter((t) => !fs.existsSync(t))
    const before = spaceState(a)
    const beforeOutside = tree(outside, (rel) => rel.startsWith('a/'))
    const { good, sv } = wire.updates()
    const kinds = [
      (name: string) => ({ type: 'Update', doc: { name }, update: good }),
      (name: string) => ({ type: 'SyncStep2', doc: { name }, update: good }),
      (name: string) => ({ type: 'Manifest', entries: [{ doc: { name }, stateVector: sv }] }),
    ]
    for (const name of names) {
      for (const kind of kinds) {
        const conn = await wire.openRaw(a.url)
        const s = await wire.authenticate(conn, { spaceId, secret })
        conn.send(s.seal(wire.encodeMessage(kind(name))))
        // A plain name this clone does not track is skipped (a peer's globs may differ); the session goes on,
        // so the hostile name sent next is the one refused: frames are handled in order.
        const untracked = wire.UNTRACKED_NAMES.includes(name)
        if (untracked) conn.send(s.seal(wire.encodeMessage(kind('../after-untracked.yaml'))))
        const closed = await conn.whenClosed
        const m = kind(name)
        expect({ name, type: m.type, code: closed.code }).toEqual({ name, type: m.type, code: 1002 })
        expect(closed.reason).toMatch(untracked ? /document name "\.\.\/after-untracked\.yaml"/ : /document name/)
      }
    }
    // Skipped names are said once each in the daemon's log.
    expect(da.log()).toMatch(/a peer shares notes\.txt, which this clone does not track: skipped/)
    expect(da.proc.exitCode).toBeNull()
    expect(spaceState(a)).toEqual(before)
    expect(tree(outside, (rel) => rel.startsWith('a/'))).toEqual(beforeOutside)
    for (const t of targets) expect(fs.existsSync(t), t).toBe(false)
  })

  it('a peer that tracks more files (its ctxsync.yaml edited, not yet shared): the rest syncs both ways, the session stays up', async () => {
    const { peers } = await setupSpace(['a', 'b'], { files: { [TODOS]: SMALL_TODOS } })
    const [a, b] = peers as [Peer, Peer]
    const config = path.join(a.dir, 'ctxsync.yaml')
    fs.writeFileSync(config, fs.readFileSync(config, 'utf8').replace(/track:\n/, 'track:\n  - "notes/*.yaml"\n'))
    for (const p of [a, b]) await writeFile(p, 'notes/n.yaml', `by: ${p.name}\n`)
    const da = await startWatch(a)
    const db = await startWatch(b)
    await waitLog(db, /a peer shares notes\/n\.yaml, which this clone does not track: skipped/)
    const fromA = await edit(a, 'title: "First task"', 'title: "First task, from A"')
    await waitFileEquals(b, fromA)
    const both = await edit(b, 'title: "Third task"', 'title: "Third task, from B"')
    await waitFileEquals(a, both)
    expect(db.log() + da.log()).not.toMatch(/disconnected from/)
    expect(fs.readFileSync(path.join(b.dir, 'notes/n.yaml'), 'utf8')).toBe('by: b\n')
  })

  it('symbolic links inside the tracked globs are never enrolled nor written through; the daemon warns', async () => {
    const away = await tmpDir('ctxsync-away-')
    fs.writeFileSync(path.join(away, 'secret.yaml'), 'password: hunter2\n')
    fs.mkdirSync(path.join(away, 'dir'))
    fs.writeFileSync(path.join(away, 'dir', 'notes.yaml'), 'private: true\n')
    const awayBefore = tree(away)
    const { peers } = await setupSpace(['a', 'b'], { files: { [TODOS]: SMALL_TODOS } })
    const [a, b] = peers as [Peer, Peer]
    // On a: a link to a file and a link to a directory, both pointing outside the repository.
    fs.symlinkSync(path.join(away, 'secret.yaml'), path.join(a.dir, '.rhema', 'linked.yaml'))
    fs.symlinkSync(path.join(away, 'dir'), path.join(a.dir, '.rhema', 'sub'))
    const da = await startWatch(a)
    await waitLog(da, /\.rhema\/linked\.yaml: is a symbolic link/)
    await waitLog(da, /\.rhema\/sub\/: is a symbolic link/)
    const db = await startWatch(b)
    await waitLog(db, /connected to a/)
    // b holds regular files under the same names and changes them: a must not write through its links.
    await writeFile(b, '.rhema/linked.yaml', 'from_b: 1\n')
    await writeFile(b, '.rhema/sub/notes.yaml', 'from_b: 2\n')
    const todo = await edit(b, 'title: "Second task"', 'title: "Second task, still syncing"')
    await waitFileEquals(a, todo)
    await waitFor(() => /linked\.yaml/.test(da.log()) && /sub\/notes\.yaml/.test(da.log()) || JSON.stringify(tree(away)) !== JSON.stringify(awayBefore),
      10_000, 'a to report both linked paths', () => `${da.log()}\n--- b:\n${db.log()}\nb sub: ${readFile(b, '.rhema/sub/notes.yaml')}\naway: ${JSON.stringify(tree(away))}`)

    expect(tree(away), da.log()).toEqual(awayBefore)
    expect(fs.lstatSync(path.join(a.dir, '.rhema', 'linked.yaml')).isSymbolicLink()).toBe(true)
    expect(fs.lstatSync(path.join(a.dir, '.rhema', 'sub')).isSymbolicLink()).toBe(true)
    // Nothing behind a's links reached b.
    expect(readFile(b, '.rhema/linked.yaml')).toBe('from_b: 1\n')
    expect(readFile(b, '.rhema/sub/notes.yaml')).toBe('from_b: 2\n')
    expect(JSON.stringify(fs.readdirSync(path.join(b.dir, '.rhema'), { recursive: true }))).not.toMatch(/secret/)
    const status = await ctx(a.dir, ['status', '--json'])
    const linked = JSON.parse(status.stdout).files.filter((f: { path: string }) => /linked|sub\//.test(f.path))
    expect(linked).toEqual([
      expect.objectContaining({ path: '.rhema/linked.yaml', state: 'refused', error: expect.objectContaining({ message: expect.stringMatching(/symbolic link/) }) }),
      expect.objectContaining({ path: '.rhema/sub/notes.yaml', state: 'refused', error: expect.objectContaining({ message: expect.stringMatching(/symbolic link/) }) }),
    ])
  })

  it('a relay refuses names no peer tracks; names outside one peer\'s globs are skipped by it, not fatal', async () => {
    const relay = await startServe()
    const { peers } = await registrySpace(['a', 'b'], relay.url, { [TODOS]: SMALL_TODOS })
    const [a, b] = peers as [Peer, Peer]
    expect((await ctx(a.dir, ['sync'])).exitCode).toBe(0)
    const spaceId = spaceIdOf(a)
    const secret = secretOf(a)
    const { good } = wire.updates()
    const before = relayTree(relay.data)
    for (const name of wire.HOSTILE_NAMES) {
      const conn = await wire.openRaw(relay.url)
      const s = await wire.authenticate(conn, { spaceId, secret })
      conn.send(s.seal(wire.encodeMessage({ type: 'Update', doc: { name }, update: good })))
      expect({ name, code: (await conn.whenClosed).code }).toEqual({ name, code: 1002 })
      expect(s.relay).toBe(true)
    }
    expect(relayTree(relay.data)).toEqual(before)
    // A plain relative name is something some team's globs could track: the relay keeps it…
    const conn = await wire.openRaw(relay.url)
    const sealed = await wire.authenticate(conn, { spaceId, secret })
    conn.send(sealed.seal(wire.encodeMessage({ type: 'Update', doc: { name: 'notes.txt' }, update: good })))
    await waitFor(() => Object.keys(relayTree(relay.data)).length > Object.keys(before).length, 10_000, 'the relay to store notes.txt')
    conn.close()
    // …and peers whose globs do not track it skip it, and go on syncing everything else.
    const fromA = await edit(a, 'title: "First task"', 'title: "First task, past the junk"')
    const pushed = await ctx(a.dir, ['sync'])
    expect(pushed.exitCode, pushed.stderr).toBe(0)
    const pulled = await ctx(b.dir, ['sync'])
    expect(pulled.exitCode, pulled.stderr).toBe(0)
    expect(readFile(b)).toBe(fromA)
    expect(fs.existsSync(path.join(b.dir, 'notes.txt'))).toBe(false)
  })
})
