/**
 * Git scenarios for the end-to-end tests: a bare remote, clones that push and fetch through it, and a
 * context file shaped like Rhema's todos (identity items, a status, flow tags, a block-scalar description,
 * a plain list of strings without identity — the kinds of content that merge differently).
 */
import fsp from 'node:fs/promises'
import path from 'node:path'
import { execa } from 'execa'
import * as Y from 'yjs'
import { FileDocStore } from '../../src/fs/sidecar.js'
import { asDocName } from '../../src/ids.js'
import { clone, ctx, expectOk, freePort, git, lastLine, startWatch, tmpDir, waitLog, writeText, TODOS, type Daemon, type Peer } from './helpers.js'
import { reusedWorld, type WorldMap } from './worlds.js'

export const CONTEXT_TODOS = `# Team todos
todos:
  - id: t1
    title: "Write the parser"
    status: open
    tags: [core, parser]
    description: |
      Parse the YAML losslessly.
      Keep comments where they were.
      Report errors with line and column.
    notes:
      - first note
      - second note
  - id: t2
    title: "Fix the renderer"
    status: open
    tags: [render]
  - id: t3
    title: "Ship it"
    status: open
`

/** A bare repository seeded with `files` (one commit on main). Returns its path. */
export async function bareRemote(files: Record<string, string>): Promise<string> {
  const dir = await tmpDir('ctxsync-git-')
  const bare = path.join(dir, 'remote.git')
  await git(dir, ['init', '-q', '--bare', bare])
  const seed = path.join(dir, 'seed')
  await git(dir, ['init', '-q', seed])
  for (const [rel, text] of Object.entries(files)) await writeText(path.join(seed, rel), text)
  await git(seed, ['add', '-A'])
  await git(seed, ['commit', '-qm', 'context files'])
  await git(seed, ['push', '-q', bare, 'HEAD:main'])
  await git(bare, ['symbolic-ref', 'HEAD', 'refs/heads/main'])
  return bare
}

/** Runs git with an identity in the clone's own config, as a person's clone would have (hooks see it too). */
export async function gitIn(dir: string, args: string[], o: { reject?: boolean; env?: Record<string, string> } = {}) {
  const r = await execa('git', args, { cwd: dir, reject: false, env: { NO_COLOR: '1', GIT_TERMINAL_PROMPT: '0', CTXSYNC_SECRET: undefined, ...o.env } as Record<string, string> })
  if (o.reject !== false && r.exitCode !== 0) throw new Error(`git ${args.join(' ')} in ${dir}: exit ${r.exitCode}\n${r.stdout}\n${r.stderr}`)
  return { exitCode: r.exitCode ?? -1, stdout: String(r.stdout), stderr: String(r.stderr) }
}

export async function cloneAs(remote: string, name: string): Promise<string> {
  const dir = await clone(remote, name)
  await git(dir, ['config', 'user.name', name])
  await git(dir, ['config', 'user.email', `${name}@example.invalid`])
  return dir
}

/**
 * The first clone creates the space and installs hooks, committing ctxsync.yaml and .gitignore (the merge
 * attributes are in each clone's .git/info/attributes); returns it with a join code for the others.
 */
export async function founder(remote: string, name: string, port: number): Promise<{ dir: string; code: string }> {
  const dir = await cloneAs(remote, name)
  await expectOk(ctx(dir, ['init', '--name', name, '--port', String(port), '--discovery', 'none', '--hooks']))
  await gitIn(dir, ['add', 'ctxsync.yaml', '.gitignore'])
  await gitIn(dir, ['commit', '-qm', 'ctxsync'])
  await gitIn(dir, ['push', '-q', 'origin', 'main'])
  const code = lastLine((await expectOk(ctx(dir, ['invite']))).stdout)
  return { dir, code }
}

export async function joiner(remote: string, name: string, code: string, port: number, o: { hooks?: boolean; peers?: string[] } = {}): Promise<string> {
  const dir = await cloneAs(remote, name)
  await expectOk(ctx(dir, ['init', '--join', code, '--name', name, '--port', String(port), ...(o.hooks === false ? [] : ['--hooks']), ...(o.peers ?? []).flatMap((p) => ['--peer', p])]))
  return dir
}

export async function read(dir: string, rel: string): Promise<string> {
  return fsp.readFile(path.join(dir, rel), 'utf8')
}

export async function replaceIn(dir: string, rel: string, from: string, to: string): Promise<void> {
  const t = await read(dir, rel)
  if (!t.includes(from)) throw new Error(`${rel} in ${dir} does not contain ${JSON.stringify(from)}`)
  await fsp.writeFile(path.join(dir, rel), t.replace(from, to))
}

export const hasMarkers = (t: string): boolean => /^(<{7}|={7}|>{7})( |$)/m.test(t)
/** Conflict hunks git left in a text. */
export const markerHunks = (t: string): number => t.split('\n').filter((l) => /^<{7}( |$)/.test(l)).length
/** How often a line (trimmed) occurs: a doubled item shows as 2. */
export const countLine = (t: string, line: string): number => t.split('\n').filter((l) => l.trim() === line).length

/** A bare remote holding CONTEXT_TODOS, its founder ann and bob who joined (and pulled): no daemon yet. */
export async function twoPeers(): Promise<{ remote: string; a: Peer; b: Peer; code: string }> {
  const peer = (p: Peer, m: WorldMap): Peer => ({ ...p, dir: m.path(p.dir), port: m.port(p.port), url: `ws://127.0.0.1:${m.port(p.port)}` })
  return reusedWorld('twoPeers', async () => {
    const value = await buildTwoPeers()
    return { value, roots: [value.remote, value.a.dir, value.b.dir].map((d) => path.dirname(d)), ports: [value.a.port, value.b.port] }
  }, (v, m) => ({ remote: m.path(v.remote), code: v.code, a: peer(v.a, m), b: peer(v.b, m) }))
}

async function buildTwoPeers(): Promise<{ remote: string; a: Peer; b: Peer; code: string }> {
  const remote = await bareRemote({ [TODOS]: CONTEXT_TODOS })
  const [pa, pb] = [await freePort(), await freePort()]
  const f = await founder(remote, 'ann', pa)
  const a: Peer = { name: 'ann', dir: f.dir, port: pa, url: `ws://127.0.0.1:${pa}` }
  const b: Peer = { name: 'bob', dir: await joiner(remote, 'bob', f.code, pb, { peers: [a.url] }), port: pb, url: `ws://127.0.0.1:${pb}` }
  await gitIn(b.dir, ['pull', '-q'])
  return { remote, a, b, code: f.code }
}

/**
 * A bare remote holding CONTEXT_TODOS, its founder ann (hooks installed, ctxsync.yaml pushed) and clones that
 * joined with `init --join --hooks` (not pulled): the start of the merge-driver and hooks stories, copied from
 * one built world per test file (`worlds.ts`).
 */
export async function gitTeam(joiners: string[] = []): Promise<{ remote: string; a: { dir: string; code: string }; joined: string[] }> {
  return reusedWorld(`gitTeam ${joiners.join(',')}`, async () => {
    const remote = await bareRemote({ [TODOS]: CONTEXT_TODOS })
    const ports = [await freePort()]
    const a = await founder(remote, 'ann', ports[0]!)
    const joined: string[] = []
    for (const name of joiners) {
      ports.push(await freePort())
      joined.push(await joiner(remote, name, a.code, ports.at(-1)!))
    }
    return { value: { remote, a, joined }, roots: [remote, a.dir, ...joined].map((d) => path.dirname(d)), ports }
  }, (v, m) => ({ remote: m.path(v.remote), a: { dir: m.path(v.a.dir), code: v.a.code }, joined: v.joined.map((d) => m.path(d)) }))
}

/** twoPeers, each with a daemon, connected. */
export async function twoLivePeers(): Promise<{ remote: string; a: Peer; b: Peer; da: Daemon; db: Daemon; code: string }> {
  const { remote, a, b, code } = await twoPeers()
  // Both start at once (bob redials until ann listens): setup is most of these tests' time.
  const [da, db] = await Promise.all([startWatch(a), startWatch(b)])
  await waitLog(db, /connected to ann/)
  return { remote, a, b, da, db, code }
}

/** The state vector of a peer's document, read from its sidecar (what operations it holds). */
export async function stateVector(dir: string, rel = TODOS): Promise<string> {
  const store = new FileDocStore({ dir: path.join(dir, '.ctxsync', 'docs') })
  try {
    const d = await store.load(asDocName(rel))
    return Buffer.from(Y.encodeStateVectorFromUpdate(Y.mergeUpdates(d!.updates))).toString('base64')
  } finally {
    await store.close()
  }
}
