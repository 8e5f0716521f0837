/**
 * End-to-end rig for the relay: `ctxsync serve` as a child process on 127.0.0.1 with a temp --data dir,
 * spaces whose clones run in registry mode, and `ctxsync watch` daemons that talk to the relay only.
 * Processes started here are remembered so `killRelayProcs()` (afterEach) never leaves one running.
 */
import { execa, type ResultPromise } from 'execa'
import {
  clone, CLI, ctx, expectOk, freePort, git, lastLine, makeRepo, tmpDir, waitFor, type Daemon, type Peer,
} from './helpers.js'

const live = new Set<ResultPromise>()

function baseEnv(extra: Record<string, string | undefined> = {}): Record<string, string | undefined> {
  return { NO_COLOR: '1', CTXSYNC_SECRET: undefined, CTXSYNC_TOKEN: undefined, DEBUG: process.env.CTXSYNC_E2E_DEBUG, ...extra }
}

function track(proc: ResultPromise): { log: () => string; exited: () => boolean } {
  live.add(proc)
  void proc.finally(() => live.delete(proc)).catch(() => undefined)
  let err = ''
  let exited = false
  proc.stderr!.setEncoding('utf8')
  proc.stderr!.on('data', (c: string) => (err += c))
  proc.stdout!.resume()
  void proc.then(() => (exited = true), () => (exited = true))
  return { log: () => err, exited: () => exited }
}

export interface Relay {
  url: string
  http: string
  port: number
  data: string
  proc: ResultPromise
  log: () => string
}

/** Starts `ctxsync serve` and waits until it listens; same port and data dir when given (a restart); `args`: more flags. */
export async function startServe(o: { port?: number; data?: string; args?: string[]; env?: Record<string, string | undefined>; wrap?: string[] } = {}): Promise<Relay> {
  const port = o.port ?? (await freePort())
  const data = o.data ?? (await tmpDir('ctxsync-relay-'))
  // `wrap`: a command that execs the rest (unshare), so that the process is still the relay.
  const cmd = [...(o.wrap ?? []), 'node', CLI, 'serve', '--port', String(port), '--data', data, ...(o.args ?? [])]
  const proc = execa(cmd[0]!, cmd.slice(1), {
    reject: false, env: baseEnv(o.env), stdin: 'ignore', buffer: false, forceKillAfterDelay: 60_000,
  })
  const t = track(proc)
  const url = `ws://127.0.0.1:${port}`
  await waitFor(() => {
    if (t.exited()) throw new Error(`serve exited at start:\n${t.log()}`)
    return t.log().includes(`relay listening on ${url}`)
  }, 20_000, 'the relay to listen', t.log)
  return { url, http: `http://127.0.0.1:${port}`, port, data, proc, log: t.log }
}

/** Starts `ctxsync watch` in registry mode (from ctxsync.yaml, or `args` like `--registry URL`) and waits until it runs and is connected to the relay. */
export async function startRegistryWatch(peer: Peer, env: Record<string, string | undefined> = {}, args: string[] = []): Promise<Daemon> {
  const proc = execa('node', [CLI, 'watch', ...args], {
    cwd: peer.dir, reject: false, env: baseEnv(env), stdin: 'ignore', buffer: false, forceKillAfterDelay: 60_000,
  })
  const t = track(proc)
  await waitFor(() => {
    if (t.exited()) throw new Error(`watch in ${peer.name} exited at start:\n${t.log()}`)
    // Started (watcher ready, as the other e2e helpers wait for) and in session with the relay.
    return /syncing through the relay/.test(t.log()) && /connected to relay/.test(t.log())
  }, 20_000, `watch of ${peer.name} to start and reach the relay`, t.log)
  return { peer, proc, log: t.log }
}

/** afterEach: nothing outlives a test. */
export async function killRelayProcs(): Promise<void> {
  const procs = [...live]
  for (const p of procs) p.kill('SIGKILL')
  await Promise.all(procs.map((p) => p.catch(() => undefined)))
}

/**
 * n clones of one commit in one space, all in registry mode with `relayUrl`: the first `init`s the space
 * (`--discovery registry --registry URL`) and commits ctxsync.yaml; the others clone that and join with
 * its invite code. Returns the peers and the first clone (whose ctxsync.yaml is committed, for fresh
 * checkouts).
 */
export async function registrySpace(names: string[], relayUrl: string, files: Record<string, string>): Promise<{ peers: Peer[]; code: string }> {
  const origin = await makeRepo(files)
  const peers: Peer[] = names.map((name) => ({ name, dir: '', port: 0, url: '' }))
  peers[0]!.dir = await clone(origin, names[0]!)
  await expectOk(ctx(peers[0]!.dir, ['init', '--name', names[0]!, '--discovery', 'registry', '--registry', relayUrl]))
  await git(peers[0]!.dir, ['add', 'ctxsync.yaml', '.gitignore'])
  await git(peers[0]!.dir, ['commit', '-qm', 'ctxsync'])
  const code = lastLine((await expectOk(ctx(peers[0]!.dir, ['invite']))).stdout)
  await Promise.all(peers.slice(1).map(async (p) => {
    p.dir = await clone(peers[0]!.dir, p.name)
    await expectOk(ctx(p.dir, ['init', '--join', code, '--name', p.name]))
  }))
  return { peers, code }
}

/** A fresh checkout of the first peer's repository: ctxsync.yaml committed, no `.ctxsync/`, no secret. */
export async function freshCheckout(first: Peer, name: string): Promise<Peer> {
  return { name, dir: await clone(first.dir, name), port: 0, url: '' }
}
