/**
 * A space on disk, in process: a temp directory with `git init`, made a member by the real `init` command
 * function, then opened as a `Space` over a `MemoryDocStore` that outlives it. That is what lets the core be
 * tested without spawning daemons:
 *
 *  - `Node.kill()` drops the open Space without `close()`, as kill -9 would: its store handle dies (every
 *    later call hangs, so nothing it had not yet handed to the store lands), and its lock is marked as a dead
 *    process's, so the next `open()` takes it over. The memory store and the files on disk survive.
 *  - `killAt` stops the store at one chosen call (the crash instant): `KillableStore` runs the predicate
 *    before each write and dies instead of performing the one it matches, and everything after it.
 *  - `idle()` wraps the Space's "wait until nothing is pending" (settle today, idle() after issue 14's
 *    rewrite), so that rename changes one line here.
 *
 * Only the public API of `Space` is used (`onLocalFile`, `applyRemote`, `scan`, `docs`, `doc`, …) plus
 * `SpaceHost` for what the network sees (state vectors, diffs).
 */
import { execFileSync, spawnSync } from 'node:child_process'
import fs from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'
import { init } from '../../src/commands/init.js'
import { mergeDriver } from '../../src/commands/merge-driver.js'
import { invite } from '../../src/commands/invite.js'
import { MemoryDocStore } from '../../src/fs/memoryStore.js'
import type { DocMeta, DocStore, LoadedDoc } from '../../src/fs/StorageAdapterInterface.js'
import { asDocName, sha256hex, type DocName, type PeerId } from '../../src/ids.js'
import { DEFAULT_INCLUDE } from '../../src/fs/globs.js'
import { readTeamConfig, renderTeamConfig, writeConfigFile } from '../../src/space/config.js'
import { createIdentity, decodeJoinCode } from '../../src/space/secrets.js'
import { SpaceHost } from '../../src/space/host.js'
import { spacePaths } from '../../src/space/paths.js'
import { Space } from '../../src/space/space.js'

/** Waits until the space has nothing pending (file writes, sidecar appends). CORE renames settle → idle. */
export const idle = async (s: Space): Promise<void> => void (await s.idle())

export const TODOS = asDocName('.rhema/todos.yaml')

/** Two todos: the file both peers start from in the kill-point and held-file tests. */
export const SEED = `todos:
  - id: t0
    title: first
    status: todo
  - id: t1
    title: second
    status: todo
`

const dirs: string[] = []
/** Removes every directory made here (call from afterAll). */
export async function removeSpaceDirs(): Promise<void> {
  await Promise.all(dirs.splice(0).map((d) => fs.rm(d, { recursive: true, force: true })))
}

export interface SpaceDirOptions {
  /** A join code (`invite`) of an existing space: this directory joins it instead of making a new one. */
  join?: string
  name?: string
  /** Track globs to write into ctxsync.yaml (default: init's). */
  track?: string[]
  /** Files written before init (so init does not enroll them: it runs before they exist in the store). */
  files?: Record<string, string>
  /** Make the directory a git work tree (default true); without one no git logic applies (`gitingest.ts`). */
  git?: boolean
}

/** Initialised directories by options, copied for each new one: `init` runs once per kind of member. */
const templates = new Map<string, Promise<string>>()

async function tempDir(): Promise<string> {
  const root = await fs.realpath(await fs.mkdtemp(path.join(os.tmpdir(), 'ctxsync-space-')))
  dirs.push(root)
  return root
}

/**
 * A temp git work tree made a ctxsync member by the real `init`; returns its root. Members made with the
 * same options are copies of one initialised directory (same space and secret, a new peer identity each),
 * which spares an `init` per member.
 */
export async function spaceDir(o: SpaceDirOptions = {}): Promise<string> {
  const key = JSON.stringify({ join: o.join, name: o.name, track: o.track, git: o.git ?? true })
  let template = templates.get(key)
  if (!template) {
    template = initDir(o)
    templates.set(key, template)
  }
  const root = await tempDir()
  await fs.cp(await template, root, { recursive: true })
  // Each member is its own machine: a peer id of its own (init makes it; copies would share the template's).
  await fs.rm(spacePaths(root).identity, { force: true })
  await createIdentity(spacePaths(root).identity)
  for (const [name, text] of Object.entries(o.files ?? {})) await writeFile(root, name, text)
  return root
}

async function initDir(o: SpaceDirOptions): Promise<string> {
  const root = await tempDir()
  if (o.git ?? true) execFileSync('git', ['init', '-q'], { cwd: root, stdio: 'ignore' })
  if (o.join) {
    // A clone of the team's repository carries ctxsync.yaml; init --join then makes this machine a member.
    const space = decodeJoinCode(o.join).space
    await fs.writeFile(path.join(root, 'ctxsync.yaml'), renderTeamConfig({
      version: 1, space, track: o.track ?? [...DEFAULT_INCLUDE], discovery: 'none', registry: null, rules: [],
    }))
  }
  await init({ cwd: root, name: o.name ?? 'tester', discovery: 'none', ...(o.join ? { join: o.join } : {}), ...(o.git === false ? { noGit: true } : {}) })
  if (o.track && !o.join) {
    const file = spacePaths(root).config
    const config = (await readTeamConfig(file))!
    await writeConfigFile(file, renderTeamConfig({ ...config, track: o.track }))
  }
  return root
}

/** A (the space's creator, holding SEED) and B (joined), started, B given A's state: both hold SEED. */
export async function seededPair(): Promise<{ a: Node; b: Node }> {
  const a = await Node.make({ name: 'a', files: { [TODOS]: SEED } })
  const b = await Node.make({ name: 'b', join: await joinCode(a.root) })
  await a.start()
  await b.start()
  await b.s.applyRemote(TODOS, a.host().encodeDiff(TODOS, b.host().stateVector(TODOS))!, a.id)
  await idle(b.s)
  return { a, b }
}

/** ann, live on SEED, after saving each text of `live` in turn (a history for the merge rules to read). */
export async function annAfter(live: string[]): Promise<Node> {
  const a = await Node.make({ name: 'ann', files: { [TODOS]: SEED } })
  await a.start()
  for (const t of live) {
    await a.edit(t)
    await idle(a.s)
  }
  return a
}

/**
 * The merge driver run on `TODOS` in `a`'s space as git runs it (three temp files, after `a`'s history: ms
 * times); returns its result, what it said, and the merged text it left in `ours` (what git writes).
 */
export async function driverMerge(a: Node, base: string, ours: string, theirs: string): Promise<{ conflicts: number; said: string[]; merged: string }> {
  await new Promise((r) => setTimeout(r, 20)) // the merge comes after the history (ms times)
  const dir = await fs.mkdtemp(path.join(a.root, '.merge-'))
  const files = ['base', 'ours', 'theirs'].map((n) => path.join(dir, n)) as [string, string, string]
  await Promise.all(files.map((f, i) => fs.writeFile(f, [base, ours, theirs][i]!)))
  const said: string[] = []
  const r = await mergeDriver({ cwd: a.root, base: files[0], ours: files[1], theirs: files[2], path: TODOS, say: (l) => said.push(l) })
  return { conflicts: r.conflicts, said, merged: await fs.readFile(files[1], 'utf8') }
}

export async function joinCode(root: string): Promise<string> {
  return (await invite({ cwd: root })).code
}

/** What `to` lacks of `from`'s document, sent as a peer session would, then `to` idle. */
export async function pass(from: Node, to: Node, doc: DocName = TODOS): Promise<void> {
  const u = from.host().encodeDiff(doc, to.host().stateVector(doc))
  if (u) await to.s.applyRemote(doc, u, from.id)
  await idle(to.s)
}

/** A space made by the first name (holding SEED), the others joined, all started and holding SEED. */
export async function team(names: string[]): Promise<Node[]> {
  const first = await Node.make({ name: names[0], files: { [TODOS]: SEED } })
  const code = await joinCode(first.root)
  const rest = await Promise.all(names.slice(1).map((name) => Node.make({ name, join: code })))
  const all = [first, ...rest]
  for (const n of all) await n.start()
  for (const n of rest) await pass(first, n)
  return all
}

export async function writeFile(root: string, name: string, text: string): Promise<void> {
  const abs = path.join(root, name)
  await fs.mkdir(path.dirname(abs), { recursive: true })
  await fs.writeFile(abs, text)
}

export async function readFile(root: string, name: string): Promise<string | null> {
  return fs.readFile(path.join(root, name), 'utf8').catch((e: NodeJS.ErrnoException) => (e.code === 'ENOENT' ? null : Promise.reject(e)))
}

export type StoreOp =
  | { op: 'append'; doc: DocName; update: Uint8Array }
  | { op: 'writeMeta'; doc: DocName; meta: DocMeta }
  | { op: 'compact'; doc: DocName; meta: DocMeta }
  | { op: 'remove'; doc: DocName }

const never = <T>(): Promise<T> => new Promise<T>(() => {})

/**
 * A handle on a shared store that can die: once dead (by `kill()`, or when `killAt` matches a write, which
 * then never happens) every call hangs, as calls into a killed process's store would never return. Closing
 * it closes only this handle, never the store below (which the next life reopens).
 */
export class KillableStore implements DocStore {
  dead = false
  readonly ops: StoreOp[] = []
  #killAt: ((op: StoreOp) => boolean) | undefined

  constructor(private readonly inner: DocStore, killAt?: (op: StoreOp) => boolean) {
    this.#killAt = killAt
  }

  /** Arms (or re-arms) the crash instant: the first write `f` matches never lands, nor anything after it. */
  killAt(f: ((op: StoreOp) => boolean) | undefined): void {
    this.#killAt = f
  }

  kill(): void {
    this.dead = true
  }

  #write<T>(op: StoreOp, f: () => Promise<T>): Promise<T> {
    if (!this.dead && this.#killAt?.(op)) this.dead = true
    if (this.dead) return never()
    this.ops.push(op)
    return f()
  }

  list(): Promise<DocName[]> {
    return this.dead ? never() : this.inner.list()
  }
  load(doc: DocName): Promise<LoadedDoc | null> {
    return this.dead ? never() : this.inner.load(doc)
  }
  append(doc: DocName, update: Uint8Array): Promise<void> {
    return this.#write({ op: 'append', doc, update }, () => this.inner.append(doc, update))
  }
  writeMeta(doc: DocName, meta: DocMeta, opts?: { durable?: boolean }): Promise<void> {
    return this.#write({ op: 'writeMeta', doc, meta: structuredClone(meta) }, () => this.inner.writeMeta(doc, meta, opts))
  }
  compact(doc: DocName, snapshot: Uint8Array, meta: DocMeta): Promise<void> {
    return this.#write({ op: 'compact', doc, meta: structuredClone(meta) }, () => this.inner.compact(doc, snapshot, meta))
  }
  shouldCompact(doc: DocName): boolean {
    return !this.dead && this.inner.shouldCompact(doc)
  }
  remove(doc: DocName): Promise<void> {
    return this.#write({ op: 'remove', doc }, () => this.inner.remove(doc))
  }
  size(doc: DocName): Promise<number> {
    return this.dead ? never() : this.inner.size(doc)
  }
  async close(): Promise<void> {
    this.dead = true
  }
}

/** A pid no process has now: one that already exited (looked up once per test file). */
let gone: number | undefined
function deadPid(): number {
  gone ??= spawnSync('true').pid ?? 999_999
  return gone
}

/**
 * One machine's member of a space: its directory, a memory store that survives its Spaces, and the Space
 * open now (if any). `open`/`close`/`kill` are its lives.
 */
export class Node {
  readonly mem = new MemoryDocStore()
  space: Space | null = null
  store: KillableStore | null = null
  readonly warnings: string[] = []

  constructor(readonly root: string) {}

  static async make(o: SpaceDirOptions = {}): Promise<Node> {
    return new Node(await spaceDir(o))
  }

  get s(): Space {
    if (!this.space) throw new Error(`no Space open in ${this.root}`)
    return this.space
  }

  get id(): PeerId {
    return this.s.identity.id
  }

  async open(killAt?: (op: StoreOp) => boolean): Promise<Space> {
    if (this.space) throw new Error('already open')
    const store = new KillableStore(this.mem.reopen(), killAt)
    this.store = store
    this.space = await Space.open({
      cwd: this.root, command: 'test', lock: { wait: 0 }, warn: (m) => this.warnings.push(m), parts: { store: () => store },
    })
    return this.space
  }

  /** Opens and brings files and models in step, as a daemon's start does. */
  async start(killAt?: (op: StoreOp) => boolean): Promise<Space> {
    const s = await this.open(killAt)
    await s.scan()
    await idle(s)
    return s
  }

  async close(): Promise<void> {
    const s = this.space
    this.space = null
    this.store = null
    await s?.close()
  }

  /**
   * Drops the Space as kill -9 would: its store dies, it is never closed, and its lock is left to a
   * process that no longer exists (the next `open` takes it over as it would after a real crash).
   */
  async kill(): Promise<void> {
    this.store?.kill()
    this.space = null
    this.store = null
    const owner = path.join(spacePaths(this.root).state, 'lock.owner.json')
    const o = JSON.parse(await fs.readFile(owner, 'utf8')) as Record<string, unknown>
    delete o.procStart
    o.pid = deadPid()
    await fs.writeFile(owner, JSON.stringify(o) + '\n')
  }

  /**
   * Waits until the store has taken no write for `ms` (meta is written with a 100 ms debounce, which
   * `idle()` does not wait for): what a process that ran a while longer would have stored.
   */
  async quiet(ms = 150): Promise<void> {
    const store = this.store
    if (!store) return
    let n = -1
    while (n !== store.ops.length) {
      n = store.ops.length
      await new Promise((r) => setTimeout(r, ms))
    }
  }

  file(name: string = TODOS): Promise<string | null> {
    return readFile(this.root, name)
  }

  /** A save by the user or an agent: the file changes, and the watcher would report it. */
  async edit(text: string, name: DocName = TODOS): Promise<void> {
    await writeFile(this.root, name, text)
    await this.s.onLocalFile(name, text, sha256hex(text))
  }

  /** Changes the file while no Space runs (an offline edit). */
  async editOffline(text: string, name: string = TODOS): Promise<void> {
    await writeFile(this.root, name, text)
  }

  host(): SpaceHost {
    return new SpaceHost(this.s)
  }
}
