/**
 * End-to-end rig: the built CLI (`bin/ctxsync`, which loads `dist/`) run through execa against real temp git
 * repositories, real files and real WebSocket peers. Every address is 127.0.0.1; ports are picked by binding
 * port 0 first. Daemons started here are remembered so `killAll()` (afterEach) never leaves one running.
 *
 * Waiting is always polling with a deadline (the file system and the network are asynchronous), never a
 * fixed sleep; a timeout says what it was waiting for and what it saw last.
 */
import fs from 'node:fs'
import fsp from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { createTwoFilesPatch } from 'diff'
import { execa, type ResultPromise } from 'execa'

export const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..')
export const CLI = path.join(repoRoot, 'bin', 'ctxsync')
export const FIXTURES = path.join(repoRoot, 'fixtures', 'rhema')
/** 10 KB of real Rhema todos. */
export const HISTORY_TODOS = fs.readFileSync(path.join(FIXTURES, '_history/2074bd7/.rhema/todos.yaml'), 'utf8')
export const TODOS = '.rhema/todos.yaml'

/** A small handmade todos file with comments in several places. */
export const SMALL_TODOS = `# Team todos — comments must survive sync
todos:
  # the first one
  - id: t1
    title: "First task"   # inline comment
    status: open
  - id: t2
    title: "Second task"
    status: open
  - id: t3
    title: "Third task"
    status: open
`

if (!fs.existsSync(path.join(repoRoot, 'dist', 'cli.js'))) {
  throw new Error('dist/cli.js is missing: run `npx tsc -p .` (or `npm test`, which builds first)')
}

/**
 * The environment every CLI run gets: no colours, no inherited secret, no debug noise unless asked — and no
 * mDNS even if a space says `discovery: mdns` (multicast only inside a private namespace: `netns.ts`).
 */
function baseEnv(extra: Record<string, string | undefined> = {}): Record<string, string | undefined> {
  return { NO_COLOR: '1', CTXSYNC_SECRET: undefined, DEBUG: process.env.CTXSYNC_E2E_DEBUG, GIT_TERMINAL_PROMPT: '0', CTXSYNC_NO_MDNS: '1', ...extra }
}

export interface RunResult {
  exitCode: number
  stdout: string
  stderr: string
}

/** Runs the CLI to completion; never throws on a non-zero exit (tests assert the code). */
export async function ctx(cwd: string, args: string[], o: { env?: Record<string, string | undefined>; timeout?: number } = {}): Promise<RunResult> {
  const r = await execa('node', [CLI, ...args], { cwd, reject: false, env: baseEnv(o.env), timeout: o.timeout ?? 60_000, stdin: 'ignore' })
  return { exitCode: r.exitCode ?? -1, stdout: String(r.stdout), stderr: String(r.stderr) }
}

/** Like `ctx` but parses stdout as JSON and insists on the exit code. */
export async function ctxJson<T = any>(cwd: string, args: string[], code = 0, o: { env?: Record<string, string | undefined> } = {}): Promise<T> {
  const r = await ctx(cwd, [...args, '--json'], o)
  if (r.exitCode !== code) throw new Error(`ctxsync ${args.join(' ')} --json: exit ${r.exitCode}, wanted ${code}\n${r.stdout}\n${r.stderr}`)
  return JSON.parse(r.stdout) as T
}

export async function git(cwd: string, args: string[]): Promise<string> {
  const r = await execa('git', ['-c', 'user.name=e2e', '-c', 'user.email=e2e@example.invalid', '-c', 'init.defaultBranch=main', ...args], { cwd, env: baseEnv() })
  return String(r.stdout)
}

export { freePort, removeTmpDirs, tmpDir, waitRecorders } from './tmp.js'
import { reusedWorld } from './worlds.js'
import { freePort, tmpDir } from './tmp.js'

/** A committed git repository holding the given files (default: the Rhema fixture with the 10 KB todos). */
export async function makeRepo(files?: Record<string, string>): Promise<string> {
  const dir = path.join(await tmpDir(), 'origin')
  await fsp.mkdir(dir)
  if (files) {
    for (const [rel, text] of Object.entries(files)) await writeText(path.join(dir, rel), text)
  } else {
    await fsp.cp(path.join(FIXTURES, '.rhema'), path.join(dir, '.rhema'), { recursive: true })
    await fsp.writeFile(path.join(dir, TODOS), HISTORY_TODOS)
  }
  await git(dir, ['init', '-q'])
  await git(dir, ['add', '-A'])
  await git(dir, ['commit', '-qm', 'context files'])
  return dir
}

export async function clone(origin: string, name: string): Promise<string> {
  const dir = path.join(await tmpDir(), name)
  await git(os.tmpdir(), ['clone', '-q', origin, dir])
  return dir
}

export interface Peer {
  name: string
  dir: string
  port: number
  url: string
}

export interface SpaceOptions {
  files?: Record<string, string>
  /** Which peers each peer dials (by index); default: a line, peer i dials peer i-1. */
  dials?: (i: number) => number[]
}

/**
 * n clones of one commit, one space: the first `init`s (creating the space) and commits ctxsync.yaml, the
 * others are cloned from it and `init --join CODE`. Each enrolls its (identical) files on its own.
 */
export async function setupSpace(names: string[], o: SpaceOptions = {}): Promise<{ peers: Peer[]; code: string; origin: string }> {
  const dials = o.dials ?? ((i: number) => (i === 0 ? [] : [i - 1]))
  const kind = `setupSpace ${JSON.stringify([names, o.files ?? null, names.map((_, i) => dials(i))])}`
  return reusedWorld(kind, async () => {
    const value = await buildSpace(names, o)
    return { value, roots: [path.dirname(value.origin), ...value.peers.map((p) => path.dirname(p.dir))], ports: value.peers.map((p) => p.port) }
  }, (v, m) => ({
    origin: m.path(v.origin),
    code: v.code,
    peers: v.peers.map((p) => ({ ...p, dir: m.path(p.dir), port: m.port(p.port), url: `ws://127.0.0.1:${m.port(p.port)}` })),
  }))
}

async function buildSpace(names: string[], o: SpaceOptions): Promise<{ peers: Peer[]; code: string; origin: string }> {
  const origin = await makeRepo(o.files)
  const ports = await Promise.all(names.map(() => freePort()))
  const peers: Peer[] = names.map((name, i) => ({ name, dir: '', port: ports[i]!, url: `ws://127.0.0.1:${ports[i]}` }))
  const dials = o.dials ?? ((i: number) => (i === 0 ? [] : [i - 1]))
  const peerFlags = (i: number) => dials(i).flatMap((j) => ['--peer', peers[j]!.url])
  peers[0]!.dir = await clone(origin, names[0]!)
  await expectOk(ctx(peers[0]!.dir, ['init', '--name', names[0]!, '--port', String(ports[0]), '--discovery', 'none', ...peerFlags(0)]))
  await git(peers[0]!.dir, ['add', 'ctxsync.yaml', '.gitignore'])
  await git(peers[0]!.dir, ['commit', '-qm', 'ctxsync'])
  const code = lastLine((await expectOk(ctx(peers[0]!.dir, ['invite']))).stdout)
  await Promise.all(peers.slice(1).map(async (p, k) => {
    const i = k + 1
    p.dir = await clone(peers[0]!.dir, p.name)
    await expectOk(ctx(p.dir, ['init', '--join', code, '--name', p.name, '--port', String(p.port), ...peerFlags(i)]))
  }))
  return { peers, code, origin }
}

/** Two peers of one space (`setupSpace`), each with its daemon running, connected to each other. */
export async function connectedPair(files: Record<string, string>): Promise<{ a: Peer; b: Peer; da: Daemon; db: Daemon }> {
  const { peers } = await setupSpace(['a', 'b'], { files })
  const [a, b] = peers as [Peer, Peer]
  const da = await startWatch(a)
  const db = await startWatch(b)
  await waitLog(da, /connected to b/)
  await waitLog(db, /connected to a/)
  return { a, b, da, db }
}

export async function expectOk(p: Promise<RunResult>): Promise<RunResult> {
  const r = await p
  if (r.exitCode !== 0) throw new Error(`exit ${r.exitCode}\nstdout: ${r.stdout}\nstderr: ${r.stderr}`)
  return r
}

export const lastLine = (s: string): string => s.trim().split('\n').at(-1)!.trim()

// ---- daemons ----------------------------------------------------------------------------------------

export interface Daemon {
  peer: Peer
  proc: ResultPromise
  /** Everything the daemon printed to stderr so far. */
  log: () => string
}

const live = new Set<ResultPromise>()

/** Starts `ctxsync watch` in the foreground and waits until it listens. */
export async function startWatch(peer: Peer, extra: string[] = [], env: Record<string, string | undefined> = {}, wrap: string[] = []): Promise<Daemon> {
  // A clean stop may take seconds on a loaded machine: never let execa turn SIGTERM into SIGKILL (its default
  // after 5 s), which would read as a daemon that cannot stop. `wrap`: a command that execs the rest
  // (prlimit, unshare), so that the process is still the daemon.
  const cmd = [...wrap, 'node', CLI, 'watch', '--port', String(peer.port), ...extra]
  const proc = execa(cmd[0]!, cmd.slice(1), {
    cwd: peer.dir, reject: false, env: baseEnv(env), stdin: 'ignore', buffer: false, forceKillAfterDelay: 60_000,
  })
  live.add(proc)
  void proc.finally(() => live.delete(proc)).catch(() => undefined)
  let err = ''
  proc.stderr!.setEncoding('utf8')
  proc.stderr!.on('data', (c: string) => (err += c))
  proc.stdout!.resume()
  const d: Daemon = { peer, proc, log: () => err }
  let exited = false
  void proc.then(() => (exited = true), () => (exited = true))
  await waitFor(() => {
    if (exited) throw new Error(`watch in ${peer.name} exited at start:\n${err}`)
    return err.includes(`listening on ${peer.url}`)
  }, 20_000, `watch of ${peer.name} to listen`, () => err)
  return d
}

/** Waits until the daemon's log matches (e.g. `connected to B`). */
export function waitLog(d: Daemon, re: RegExp, timeout = 15_000): Promise<void> {
  return waitFor(() => re.test(d.log()), timeout, `${d.peer.name}'s log to match ${re}`, d.log)
}

/** SIGTERM and wait for the exit code. */
export async function stopWatch(d: Daemon): Promise<number> {
  const t0 = Date.now()
  d.proc.kill('SIGTERM')
  const r = await d.proc
  if (r.exitCode === undefined) {
    throw new Error(`watch of ${d.peer.name} did not exit by itself (${r.signal ?? 'no signal'} after ${Date.now() - t0} ms); its log:\n${d.log()}`)
  }
  return r.exitCode
}

/** kill -9: no chance to flush anything. */
export async function kill9(d: Daemon): Promise<void> {
  d.proc.kill('SIGKILL')
  await d.proc.catch(() => undefined)
}

/** afterEach: nothing outlives a test. */
export async function killAll(): Promise<void> {
  const procs = [...live]
  for (const p of procs) p.kill('SIGKILL')
  await Promise.all(procs.map((p) => p.catch(() => undefined)))
}

// ---- files and waiting ------------------------------------------------------------------------------

export async function writeText(file: string, text: string): Promise<void> {
  await fsp.mkdir(path.dirname(file), { recursive: true })
  await fsp.writeFile(file, text)
}

export function readFile(peer: Peer, rel = TODOS): string | null {
  try {
    return fs.readFileSync(path.join(peer.dir, rel), 'utf8')
  } catch {
    return null
  }
}

export function writeFile(peer: Peer, rel: string, text: string): Promise<void> {
  return writeText(path.join(peer.dir, rel), text)
}

/** Applies a string replacement to a peer's file, insisting that it matched. Returns the new text. */
export async function edit(peer: Peer, from: string, to: string, rel = TODOS): Promise<string> {
  const before = readFile(peer, rel)
  if (before === null || !before.includes(from)) throw new Error(`${peer.name}:${rel} does not contain ${JSON.stringify(from)}`)
  const after = before.replace(from, to)
  await writeFile(peer, rel, after)
  return after
}

export async function waitFor(
  cond: () => boolean | Promise<boolean>, timeout: number, what: string, seen?: () => string,
): Promise<void> {
  const deadline = Date.now() + timeout
  for (;;) {
    if (await cond()) return
    if (Date.now() > deadline) throw new Error(`timed out after ${timeout} ms waiting for ${what}${seen ? `\nlast seen:\n${seen()}` : ''}`)
    await new Promise((r) => setTimeout(r, 25))
  }
}

/** Waits until the peer's file holds exactly `expected` (null: until it is absent). */
export function waitFileEquals(peer: Peer, expected: string | null, rel = TODOS, timeout = 15_000): Promise<void> {
  return waitFor(() => readFile(peer, rel) === expected, timeout, `${peer.name}:${rel} to equal the expected text`, () => textDiff(expected, readFile(peer, rel)))
}

/** Waits until every peer holds the same bytes for the file (and the predicate holds); returns them. */
export async function waitSame(peers: Peer[], rel = TODOS, ok: (text: string) => boolean = () => true, timeout = 15_000): Promise<string> {
  let text: string | null = null
  await waitFor(() => {
    const all = peers.map((p) => readFile(p, rel))
    text = all[0]!
    return text !== null && all.every((t) => t === text) && ok(text)
  }, timeout, `${peers.map((p) => p.name).join(', ')} to hold the same ${rel}`, () =>
    `--- ${peers[0]!.name}:\n${readFile(peers[0]!, rel)}\n` + peers.slice(1).map((p) => textDiff(readFile(peers[0]!, rel), readFile(p, rel), peers[0]!.name, p.name)).join('\n'))
  return text!
}

/** A unified diff for failure messages (whole texts of 10 KB are unreadable in a test report). */
export function textDiff(want: string | null, got: string | null, a = 'expected', b = 'actual'): string {
  if (want === null || got === null) return `${a}: ${want === null ? '(absent)' : want}\n${b}: ${got === null ? '(absent)' : got}`
  return createTwoFilesPatch(a, b, want, got, '', '', { context: 2 })
}

/** How often a todo id occurs as a list item (a doubled item shows as 2). */
export function countId(text: string, id: string): number {
  return text.split('\n').filter((l) => new RegExp(`^\\s*-\\s+id:\\s*"?${id}"?\\s*$`).test(l)).length
}

export async function statusJson(peer: Peer): Promise<any> {
  return ctxJson(peer.dir, ['status'])
}

export async function fileState(peer: Peer, rel = TODOS): Promise<any> {
  return ((await statusJson(peer)).files as Array<{ path: string }>).find((f) => f.path === rel)
}

/** On failure, adds each peer's conflicts, status and daemon log to the error: convergence bugs need them. */
export async function explained<T>(p: Promise<T>, peers: Peer[], daemons: Daemon[] = []): Promise<T> {
  try {
    return await p
  } catch (e) {
    const parts: string[] = []
    for (const peer of peers) {
      const [c, s] = await Promise.all([ctx(peer.dir, ['resolve', '--list']), ctx(peer.dir, ['status'])])
      parts.push(`=== ${peer.name}: resolve --list\n${c.stdout}${c.stderr}\n=== ${peer.name}: status\n${s.stdout}${s.stderr}`)
    }
    for (const d of daemons) parts.push(`=== ${d.peer.name}: daemon log\n${d.log()}`)
    ;(e as Error).message += `\n${parts.join('\n')}`
    throw e
  }
}

/** Waits until `peer`'s history holds a change matching `pred` (versions are written just after a turn); returns it. */
export async function waitChange(peer: Peer, pred: (c: any) => boolean, what: string): Promise<any> {
  let found: any = null
  await waitFor(async () => {
    found = (await ctxJson(peer.dir, ['history', '--json'])).changes.find(pred) ?? null
    return found !== null
  }, 15_000, `${peer.name}: ${what}`)
  return found
}
