/**
 * A daemon whose disk fails, through the built CLI: its sidecar store on a full file system, and its
 * tracked files on a read-only one; and a relay (`ctxsync serve`) whose --data fills up. The daemon runs in a private mount namespace (`unshare -m`) where
 * `.ctxsync/docs` is a tiny tmpfs, or `.rhema` a read-only bind mount; the test reaches into that namespace
 * through /proc/<pid>/root and nsenter (root ignores permission bits, so chmod would prove nothing). Where
 * mount namespaces cannot be made, the tests skip, saying so.
 *
 * Wanted each time: the daemon lives and answers `status` within 2 s, `status` says `failing` (never
 * `synced`) for what did not reach the disk, and it is all retried once the disk takes writes again.
 */
import { FileModel } from '../../src/crdt/model.js'
import fs from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'
import { execa } from 'execa'
import { afterAll, afterEach, describe, expect, it } from 'vitest'
import * as Y from 'yjs'
import { newPeerId, newSpaceId, type DocName, type PeerId, type SpaceId } from '../../src/ids.js'
import { syncOnce } from '../../src/net/sync-once.js'
import type { PeerInfo, SyncHost } from '../../src/net/SyncHost.js'
import {
  edit, explained, fileState, killAll, readFile, removeTmpDirs, setupSpace, SMALL_TODOS, startWatch, TODOS, waitFor, waitSame,
  type Peer,
} from './helpers.js'
import { killRelayProcs, startServe } from './relay-helpers.js'

afterEach(async () => {
  await killRelayProcs()
  await killAll()
})
afterAll(removeTmpDirs)

const files = { [TODOS]: SMALL_TODOS }

/**
 * One in-memory document, pushed and pulled with the real one-shot sync (what `ctxsync sync` runs). It is a
 * real model's document: a relay refuses updates outside the model's schema (crdt/guard.ts).
 */
class MemHost implements SyncHost {
  readonly self: PeerInfo = { id: newPeerId(), name: 'mem', kind: 'agent' }
  readonly model = new FileModel({ name: 'x.yaml', author: { id: 'p-mem', name: 'mem', kind: 'agent' } })
  readonly doc = this.model.doc
  constructor(readonly spaceId: SpaceId) {}
  docNames(): DocName[] { return this.doc.store.clients.size ? ['x.yaml' as DocName] : [] }
  stateVector(): Uint8Array { return Y.encodeStateVector(this.doc) }
  encodeDiff(_d: DocName, sv: Uint8Array): Uint8Array | null {
    const u = Y.encodeStateAsUpdate(this.doc, sv)
    return u.length <= 2 ? null : u
  }
  acceptDoc(name: string): name is DocName { return name === 'x.yaml' }
  async applyRemote(_d: DocName, u: Uint8Array): Promise<void> { this.model.applyRemote(u, 'remote') }
  onUpdate(_l: (doc: DocName, u: Uint8Array, origin: PeerId | null) => void): () => void { return () => {} }
}

async function canMount(): Promise<string | null> {
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'ctxsync-mnt-'))
  try {
    const r = await execa('unshare', ['-m', 'sh', '-c', `mount -t tmpfs -o size=64k tmpfs ${dir} && mount --bind ${dir} ${dir} && mount -o remount,ro,bind ${dir}`], { reject: false })
    return r.exitCode === 0 ? null : `cannot make a mount namespace here (${r.stderr.trim() || r.exitCode})`
  } finally {
    await fs.rm(dir, { recursive: true, force: true })
  }
}

/** `ctxsync status --json` answers within 2 s; the todos file's state. */
async function quickState(peer: Peer): Promise<{ state: string; error?: { message: string } }> {
  const t0 = Date.now()
  const s = await fileState(peer)
  expect(Date.now() - t0, `status of ${peer.name}`).toBeLessThan(2000)
  return s
}

/** Fills the file system holding `dir` (inside the daemon's namespace) until it is full. */
async function fill(dir: string): Promise<string> {
  const filler = path.join(dir, 'filler')
  const fh = await fs.open(filler, 'w')
  try {
    const chunk = Buffer.alloc(16 * 1024, 1)
    for (;;) await fh.write(chunk)
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'ENOSPC') throw e
  } finally {
    await fh.close()
  }
  return filler
}

describe('e2e: disk faults', { timeout: 120_000 }, () => {
  it('full disk under the sidecar store: daemon alive, status says failing, nothing acknowledged or written; all saved and synced once space is freed', async (t) => {
    const why = await canMount()
    if (why) return t.skip(why)
    const { peers } = await setupSpace(['a', 'b'], { files })
    const [a, b] = peers as [Peer, Peer]
    // The store's directory, moved onto a 512 KiB tmpfs inside a's own mount namespace.
    const script = 'set -e; S=$(mktemp -d); cp -a .ctxsync/docs/. "$S"/; mount -t tmpfs -o size=512k tmpfs .ctxsync/docs; cp -a "$S"/. .ctxsync/docs/; rm -rf "$S"; exec "$@"'
    const da = await startWatch(a, [], {}, ['unshare', '-m', 'sh', '-c', script, 'sh'])
    const db = await startWatch(b, [])
    await explained(waitSame([a, b]), peers, [da, db])
    const docs = path.join(`/proc/${da.proc.pid}/root`, a.dir, '.ctxsync', 'docs')
    const filler = await fill(docs)

    // Larger than a page: a small append may still fit in the log's last, partly used page.
    const pad = 'x'.repeat(12_000)
    await edit(b, 'title: "Second task"', `title: "Second task, sent to a full disk ${pad}"`)
    await waitFor(async () => (await quickState(a)).state === 'failing', 15_000, "a's status to say failing", da.log)
    expect((await quickState(a)).error?.message).toMatch(/sync state not saved: .*ENOSPC/)
    // Not durable on a: not written to a's file, not acknowledged to b.
    expect(readFile(a)).not.toContain('full disk')
    expect((await quickState(b)).state).toBe('pending')
    await edit(a, 'title: "First task"', `title: "First task, edited on a full disk ${pad}"`)
    await new Promise((r) => setTimeout(r, 300))
    expect((await quickState(a)).state).toBe('failing')
    expect(da.proc.exitCode).toBeNull()

    await fs.rm(filler)
    await explained(waitSame([a, b], TODOS, (x) => x.includes('sent to a full disk') && x.includes('edited on a full disk'), 60_000), peers, [da, db])
    await waitFor(async () => (await quickState(a)).state === 'synced' && (await quickState(b)).state === 'synced', 15_000, 'both to say synced')
    expect(da.log()).toMatch(/could not save sync state: .*ENOSPC/)
  })

  it('read-only tree: daemon alive, status says failing with the reason; the file is written once it is writable again', async (t) => {
    const why = await canMount()
    if (why) return t.skip(why)
    const { peers } = await setupSpace(['a', 'b'], { files })
    const [a, b] = peers as [Peer, Peer]
    const script = 'set -e; mount --bind .rhema .rhema; mount -o remount,ro,bind .rhema; exec "$@"'
    const da = await startWatch(a, [], {}, ['unshare', '-m', 'sh', '-c', script, 'sh'])
    const db = await startWatch(b, [])
    await explained(waitSame([a, b]), peers, [da, db])

    await edit(b, 'title: "Third task"', 'title: "Third task, sent to a read-only tree"')
    await waitFor(async () => (await quickState(a)).state === 'failing', 15_000, "a's status to say failing", da.log)
    expect((await quickState(a)).error?.message).toMatch(/file not read or written: .*EROFS/)
    expect(readFile(a)).not.toContain('read-only tree')
    expect(da.proc.exitCode).toBeNull()

    await execa('nsenter', ['-t', String(da.proc.pid), '-m', 'mount', '-o', 'remount,rw,bind', path.join(a.dir, '.rhema')])
    await explained(waitSame([a, b], TODOS, (x) => x.includes('read-only tree'), 40_000), peers, [da, db])
    await waitFor(async () => (await quickState(a)).state === 'synced', 15_000, 'a to say synced')
  })

  it('relay on a full disk: it lives, the space fails (1011, not acknowledged), /healthz says degraded and names it; all well once space is freed', async (t) => {
    const why = await canMount()
    if (why) return t.skip(why)
    const data = await fs.mkdtemp(path.join(os.tmpdir(), 'ctxsync-relay-full-'))
    const relay = await startServe({ data, wrap: ['unshare', '-m', 'sh', '-c', 'mount -t tmpfs -o size=1m tmpfs "$0" && exec "$@"', data] })
    const health = async () => (await fetch(`${relay.http}/healthz`)).json()
    const host = new MemHost(newSpaceId())
    const push = async () => (await syncOnce({ host, secret: 'relay-full-disk-secret-0123456789abcdefghijk', peers: [relay.url], relay: { url: relay.url }, timeoutMs: 5000 })).peers[0]!
    host.model.enroll('first: kept\n')
    expect((await push()).outcome).toBe('synced')
    const filler = await fill(path.join(`/proc/${relay.proc.pid}/root`, data))
    host.model.ingest(`first: kept\nbig: ${'z'.repeat(64 * 1024)}\n`)
    const refused = await push()
    expect(refused.outcome).not.toBe('synced')
    const h = await health()
    expect(h).toMatchObject({ status: 'degraded', failedSpaces: 1, failed: [expect.objectContaining({ space: host.spaceId, error: expect.stringMatching(/ENOSPC/) })] })
    expect(relay.proc.exitCode).toBeNull()
    await fs.rm(filler)
    expect((await push()).outcome).toBe('synced')
    expect((await health()).status).toBe('ok')
    // What the relay acknowledged is what it holds: a fresh peer gets both values.
    const fresh = new MemHost(host.spaceId)
    await syncOnce({ host: fresh, secret: 'relay-full-disk-secret-0123456789abcdefghijk', peers: [relay.url], relay: { url: relay.url }, timeoutMs: 5000 })
    expect(fresh.model.render().text).toBe(`first: kept\nbig: ${'z'.repeat(64 * 1024)}\n`)
  })
})
