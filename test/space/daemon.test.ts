/**
 * Two daemons in this process (issue 14 item 5): real temp directories, WebSocket on 127.0.0.1 (port 0),
 * their parts given to `Daemon.start` (the watcher and the listener wrapped to prove they are the ones
 * used). An edit on one is seen written on the other (waiting on the space's `file-written` event, no
 * sleeps), then each is asked for its status through the SpaceClient (`connect`), as `ctxsync status` does;
 * one is stopped through it, and the same interface then answers from the space opened in this process.
 */
import fs from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { init } from '../../src/commands/init.js'
import { invite } from '../../src/commands/invite.js'
import { Watcher, type FileWatcher, type WatcherConfig } from '../../src/fs/watcher.js'
import { listen, type ListenOptions } from '../../src/net/ws.js'
import type { Listener } from '../../src/net/TransportInterface.js'
import { connect, daemonClient } from '../../src/space/client.js'
import { Daemon, staleSaveNotice, undidNotice, type DaemonParts } from '../../src/space/daemon.js'
import type { StaleSave } from '../../src/crdt/stalesave.js'

const TODOS = 'todos:\n  - id: "t-1"\n    title: "Parse the file"\n    status: todo\n'

const dirs: string[] = []
const daemons: Daemon[] = []
afterAll(async () => {
  for (const d of daemons) await d.stop().catch(() => undefined)
  await Promise.all(dirs.map((d) => fs.rm(d, { recursive: true, force: true })))
})

async function clone(parent: string, name: string): Promise<string> {
  const dir = path.join(parent, name)
  await fs.mkdir(path.join(dir, '.rhema'), { recursive: true })
  await fs.writeFile(path.join(dir, '.rhema', 'todos.yaml'), TODOS)
  return dir
}

/** Production parts, wrapped so that the test sees they were used. */
function countingParts(used: { watchers: number; listeners: number }): DaemonParts {
  return {
    watcher: (c: WatcherConfig): FileWatcher => {
      used.watchers++
      return new Watcher(c)
    },
    listenerFactory: async (o: ListenOptions): Promise<Listener> => {
      used.listeners++
      return listen(o)
    },
  }
}

describe('daemon in process', () => {
  it('two daemons over ws on 127.0.0.1: an edit on one is written on the other; each answers status through the SpaceClient', async () => {
    const parent = await fs.mkdtemp(path.join(os.tmpdir(), 'ctxsync-daemon-'))
    dirs.push(parent)
    const alice = await clone(parent, 'alice')
    const bob = await clone(parent, 'bob')
    await init({ cwd: alice, name: 'alice', port: 0, discovery: 'none', noGit: true })
    const { code } = await invite({ cwd: alice })
    await init({ cwd: bob, name: 'bob', port: 0, join: code, discovery: 'none', noGit: true })

    const used = { watchers: 0, listeners: 0 }
    const lines: string[] = []
    const say = (l: string) => lines.push(l)
    const a = await Daemon.start({ cwd: alice, host: '127.0.0.1', port: 0, say, parts: countingParts(used) })
    daemons.push(a)
    expect(a.info.url).toMatch(/^ws:\/\/127\.0\.0\.1:\d+$/)
    const b = await Daemon.start({ cwd: bob, host: '127.0.0.1', port: 0, peers: [a.info.url], say, parts: countingParts(used) })
    daemons.push(b)
    expect(used).toEqual({ watchers: 2, listeners: 2 })

    // The edit is saved on alice's side; bob's daemon writes it to bob's file (each write bob makes is
    // looked at: the first may still be the two enrollments meeting).
    const bobFile = path.join(bob, '.rhema', 'todos.yaml')
    const written = new Promise<string>((resolve) => {
      b.space.on('file-written', (name) => {
        if (name !== '.rhema/todos.yaml') return
        void fs.readFile(bobFile, 'utf8').then((t) => t.includes('status: done') && resolve(t))
      })
    })
    await fs.writeFile(path.join(alice, '.rhema', 'todos.yaml'), TODOS.replace('status: todo', 'status: done'))
    expect(await written).toBe(TODOS.replace('status: todo', 'status: done'))

    for (const [dir, d, name] of [[alice, a, 'alice'], [bob, b, 'bob']] as const) {
      const client = await connect(dir, { command: 'test', lock: 'read' })
      try {
        const s = await client.status()
        expect(client.via).toBe('daemon')
        expect(s.daemon).toEqual({ running: true, pid: process.pid, url: d.info.url })
        expect(s.peer.name).toBe(name)
        expect(s.files.map((f) => f.path)).toEqual(['.rhema/todos.yaml'])
        expect((await client.conflicts()).conflicts).toEqual([])
      } finally {
        await client.close()
      }
      // The daemon's file names its socket: the same api, reached without `connect`.
      const direct = await daemonClient(d.space.paths)
      expect((await direct!.ping()).pid).toBe(process.pid)
    }
    const peersOfBob = await (await daemonClient(b.space.paths))!.peers()
    expect(peersOfBob.book.map((p) => p.name)).toContain('alice')

    // `ctxsync stop` through the api; then the same client interface opens the space in this process.
    const stopping = await connect(bob, { command: 'test', lock: 'read' })
    expect(await stopping.stop()).toEqual({ stopping: true })
    await stopping.close()
    await b.done
    const local = await connect(bob, { command: 'test', lock: 'read' })
    try {
      expect(local.via).toBe('direct')
      expect((await local.conflicts()).conflicts).toEqual([])
      expect((await local.status()).daemon).toEqual({ running: false })
      expect(local.via).toBe('direct')
    } finally {
      await local.close()
    }
  }, 60_000)
})

// Two editors appending at one place (crdt/recentown.ts takesBackOwn; test/crdt/own-editors.test.ts): log and status say it.
it("a take-in that replaced one's own previous save's lines names them and the undo", () => {
  expect(undidNotice('todos.yaml', { writes: 0, values: [], count: 0, ownBack: ['- id: T-4', 'title: From editor 2'] })).toBe(
    'todos.yaml: your edit taken in, in place of what your own previous save added there: - id: T-4 | title: From editor 2. If another editor or an agent saved that, `ctxsync undo --file todos.yaml` brings it back',
  )
})

// Two editors of one file (tester stop 31 finding 5, 5bd0137): editor 1's older buffer saved after editor 2's save.
it("a save older than one's own later save says so, and what it kept", () => {
  const s = { overwritten: 0, kept: 1, beforeOwn: true, values: [{ path: 'todos[T-2].title', kept: 'Write docs (editor 2)', saved: 'Write docs', own: true }] } as unknown as StaleSave
  expect(staleSaveNotice('todos.yaml', s)).toBe(
    "todos.yaml: your save was made from an older version; older than your own later save (another editor or an agent?): that save's changes are kept where this one did not touch them; kept 1 change from peers and this machine's own later saves; todos[T-2].title stays Write docs (editor 2) (your own later save's), your save had Write docs: set it again if you meant it",
  )
})

// An exact older text taken in as an undo (black-box tester stop 32: "as it was 1 peers' write ago", and "more than
// 9" for a copy 8 writes old): plain words, and a count that is true.
it('an undo notice says how many of the peers\' writes the save went back before, truly', () => {
  const one = { path: 'todos[T-1].title', was: '"bob"', now: '"Task 1"' }
  expect(undidNotice('t.yaml', { writes: 1, values: [one], count: 1 })).toBe(
    't.yaml: your save is exactly the file as it was before the peers\' last write, taken in as an undo of 1 value the peers changed since: todos[T-1].title back to "Task 1" from "bob". If it was an old copy written back, `ctxsync undo --file t.yaml` brings them back',
  )
  expect(undidNotice('t.yaml', { writes: 9, older: true, values: [one], count: 8 })).toMatch(/as it was before at least the peers' last 8 writes, taken in as an undo of 8 values the peers changed since: .*, and 7 more\./)
})
