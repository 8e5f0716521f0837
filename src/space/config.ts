/**
 * The two configuration files: `ctxsync.yaml` (committed, the same for the whole team) and
 * `.ctxsync/local.yaml` (this machine's settings). Both are plain YAML that people edit; reading checks
 * every field and reports problems as `file:line:col: what to do`.
 */
import { constants as fsc } from 'node:fs'
import fs from 'node:fs/promises'
import type { Document } from 'yaml'
import path from 'node:path'
import { CtxError } from '../errors.js'
import { isWsUrl } from './flags.js'

export { isWsUrl }
import { DEFAULT_INCLUDE } from '../fs/globs.js'
import { writeFileAtomic } from '../fs/atomic.js'
import { isSpaceId, type SpaceId } from '../ids.js'
import { positionOf } from '../crdt/position.js'
import { ruleProblem, type RuleSpec } from '../crdt/rules.js'
import { parseKey } from '../net/relay-auth.js'

export type Discovery = 'none' | 'mdns' | 'registry'
export const DISCOVERY_MODES: readonly Discovery[] = ['none', 'mdns', 'registry']
export const DEFAULT_PORT = 7420
export const DEFAULT_HOST = '127.0.0.1'

export interface TeamConfig {
  version: 1
  space: SpaceId
  track: string[]
  discovery: Discovery
  registry: string | null
  /** The relay key pinned for `registry` (base64url), written at the first contact with the relay. */
  registryKey?: string | null
  /** Merge rules added to the built-in ones (see src/crdt/rules.ts). */
  rules: RuleSpec[]
  /** One space for every git branch (`shared`, the default) or one per branch (`separate`). */
  branches?: BranchMode
  /**
   * Whose saves that re-serialise a whole file (a YAML library's dump) are taken in as their data changes,
   * keeping the file's comments and formatting (see src/crdt/keepformat.ts). Absent: `agents`.
   */
  keepFormat?: KeepFormatMode
}

export type KeepFormatMode = 'agents' | 'everyone' | 'off'
export const KEEP_FORMAT_MODES: readonly KeepFormatMode[] = ['agents', 'everyone', 'off']

/** Whether this peer's saves get `keep-format` (agents' saves by default). */
export function keepsFormat(mode: KeepFormatMode | undefined, author: { kind: 'human' | 'agent' }): boolean {
  return mode === 'everyone' || ((mode ?? 'agents') === 'agents' && author.kind === 'agent')
}

export type BranchMode = 'shared' | 'separate'
export const BRANCH_MODES: readonly BranchMode[] = ['shared', 'separate']

export interface LocalSettings {
  name: string
  agent: boolean
  host: string
  port: number
  peers: string[]
}

export class ConfigError extends CtxError {
  constructor(file: string, text: string, offset: number | null, message: string) {
    const at = offset === null ? '' : `:${positionOf(text, offset).line}:${positionOf(text, offset).col}`
    super('config', `${file}${at}: ${message}`)
  }
}

/** The yaml package, loaded when a settings file has to be parsed (not when its parse is cached). */
let YAML: typeof import('yaml') | null = null

/** yaml is CommonJS: bundled (scripts/bundle.mjs), a dynamic import of it has only `default`. */
async function loadYaml(): Promise<typeof import('yaml')> {
  const m = await import('yaml')
  return m.default ?? m
}

/** `own`: a file of this machine's state, never read through a link (its target could be any file). */
async function readDoc(file: string, own = false): Promise<{ text: string; doc: Document } | null> {
  let text: string
  try {
    text = await fs.readFile(file, { encoding: 'utf8', flag: own ? fsc.O_RDONLY | fsc.O_NOFOLLOW : 'r' })
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code
    if (code === 'ENOENT') return null
    if (own && code === 'ELOOP') throw new CtxError('state-link', `${file} is a symbolic link: ctxsync does not follow links in its state directory; remove it and run \`ctxsync init\``)
    throw e
  }
  YAML ??= await loadYaml()
  const { isMap, parseDocument } = YAML
  // Our own linear duplicate-key check: the yaml package's is quadratic in a mapping's keys, and
  // ctxsync.yaml comes from the repository.
  const doc = parseDocument(text, { uniqueKeys: false })
  const err = doc.errors[0]
  if (err) throw new ConfigError(file, text, err.pos[0], err.message.split('\n')[0]!)
  // Loaded here, like yaml itself: a cached parse needs neither.
  const { DUPLICATE_KEY, badAliasReason, firstBadAlias, firstDuplicateKey } = await import('../crdt/parse.js')
  const dup = firstDuplicateKey(doc.contents)
  if (dup !== null) throw new ConfigError(file, text, dup, DUPLICATE_KEY)
  // An alias with no anchor before it threw toJS's ReferenceError too, and was called an alias bomb.
  const bad = firstBadAlias(doc.contents)
  if (bad) throw new ConfigError(file, text, bad.offset, badAliasReason(bad))
  if (doc.contents !== null && !isMap(doc.contents)) throw new ConfigError(file, text, 0, 'expected a mapping of settings')
  return { text, doc }
}

function field(file: string, text: string, doc: Document, key: string): { value: unknown; offset: number | null } {
  const node = doc.get(key, true) as { range?: [number, number, number] } | undefined
  const offset = node?.range?.[0] ?? null
  let js: Record<string, unknown> | null
  try {
    js = doc.toJS({ maxAliasCount: 100 })
  } catch (e) {
    // The yaml package stops alias expansion past the count (a "billion laughs" file): a config problem.
    if (e instanceof ReferenceError) throw new ConfigError(file, text, firstAlias(doc), 'aliases expand too far (a resource exhaustion attack?): write the values out')
    throw e
  }
  return { value: js?.[key], offset }
}

function firstAlias(doc: Document): number | null {
  let at: number | null = null
  const { visit } = YAML!
  visit(doc, {
    Alias(_key, node) {
      at = node.range?.[0] ?? null
      return visit.BREAK
    },
  })
  return at
}


/** A ws:// URL whose traffic never leaves this machine (localhost, 127.0.0.0/8, ::1). */
export function isLoopbackUrl(u: string): boolean {
  let host: string
  try {
    host = new URL(u).hostname
  } catch {
    return false
  }
  return host === 'localhost' || host === '[::1]' || host === '::1' || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(host)
}

/**
 * Settings files are parsed once per content: the checked result is kept beside the state, under the file's
 * size, time and inode, so `status` (and every hook) answers without loading the YAML parser.
 */
async function cached<T>(file: string, cacheDir: string, parse: () => Promise<T>): Promise<T> {
  const st = await fs.stat(file).catch(() => null)
  if (!st) return parse()
  const key = `${st.size}:${st.mtimeMs}:${st.ino}`
  const cacheFile = path.join(cacheDir, `${path.basename(file)}.parsed.json`)
  const hit = await fs.readFile(cacheFile, 'utf8').then(readCache<T>, () => null)
  if (hit?.key === key) return hit.value
  const value = await parse()
  // Not when the file changed while it was read: the key would describe other content.
  const again = await fs.stat(file).catch(() => null)
  // Never through a link: neither a linked state directory nor a linked cache file (a repository could
  // commit either, pointing anywhere this user may write).
  if (again && `${again.size}:${again.mtimeMs}:${again.ino}` === key && (await fs.lstat(cacheDir).then((d) => d.isDirectory(), () => false))) {
    await writeCache(cacheFile, JSON.stringify({ key, value }))
  }
  return value
}

/** A cache file that does not parse (cut short, or edited by hand) is a miss, never an error. */
function readCache<T>(text: string): { key: string; value: T } | null {
  try {
    const got = JSON.parse(text) as unknown
    return got !== null && typeof got === 'object' && typeof (got as { key?: unknown }).key === 'string' && 'value' in got ? (got as { key: string; value: T }) : null
  } catch {
    return null
  }
}

/**
 * Through a temp file and a rename: every `status`, hook and daemon start reads this file, often at the
 * same moment another writes it; written in place, a reader could see it half written (CI saw a daemon
 * fail to start on exactly that). No fsync: a cache lost in a crash is parsed again.
 */
async function writeCache(cacheFile: string, text: string): Promise<void> {
  const tmp = `${cacheFile}.${process.pid.toString(16)}${Math.random().toString(16).slice(2, 10)}`
  try {
    await fs.writeFile(tmp, text, { flag: fsc.O_WRONLY | fsc.O_CREAT | fsc.O_EXCL | fsc.O_NOFOLLOW, mode: 0o600 })
    await fs.rename(tmp, cacheFile)
  } catch {
    await fs.unlink(tmp).catch(() => undefined)
  }
}

export async function readTeamConfig(file: string): Promise<TeamConfig | null> {
  return cached(file, path.join(path.dirname(file), '.ctxsync'), () => parseTeamConfig(file))
}

async function parseTeamConfig(file: string): Promise<TeamConfig | null> {
  const got = await readDoc(file)
  if (!got) return null
  const { text, doc } = got
  const f = (k: string) => field(file, text, doc, k)
  const space = f('space')
  if (!isSpaceId(space.value)) {
    throw new ConfigError(file, text, space.offset, '`space` must be a space id like s-abcd… (run `ctxsync init` to create one)')
  }
  const track = f('track')
  const tracked = track.value ?? [...DEFAULT_INCLUDE]
  if (!Array.isArray(tracked) || tracked.length === 0 || !tracked.every((g) => typeof g === 'string' && g.trim() !== '')) {
    throw new ConfigError(file, text, track.offset, '`track` must be a list of glob patterns, e.g. "**/.rhema/**/*.yaml"')
  }
  const disc = f('discovery')
  const discovery = (disc.value ?? 'none') as Discovery
  if (!DISCOVERY_MODES.includes(discovery)) {
    throw new ConfigError(file, text, disc.offset, `\`discovery\` must be one of ${DISCOVERY_MODES.join(', ')}`)
  }
  const reg = f('registry')
  const registry = reg.value ?? null
  if (registry !== null && (typeof registry !== 'string' || !isWsUrl(registry))) {
    throw new ConfigError(file, text, reg.offset, '`registry` must be a ws:// or wss:// URL')
  }
  const rk = f('registry-key')
  const registryKey = rk.value ?? null
  if (registryKey !== null && (typeof registryKey !== 'string' || !parseKey(registryKey))) {
    throw new ConfigError(file, text, rk.offset, '`registry-key` must be the relay key `ctxsync serve` prints (43 characters of base64url); remove the line to pin the relay anew on the next contact')
  }
  const rl = f('rules')
  const rules = rl.value ?? []
  if (!Array.isArray(rules)) throw new ConfigError(file, text, rl.offset, '`rules` must be a list of rules (see README: Merge rules)')
  const items = (doc.get('rules', true) as { items?: Array<{ range?: [number, number, number] }> } | undefined)?.items ?? []
  rules.forEach((r, i) => {
    const problem = ruleProblem(r)
    if (problem) throw new ConfigError(file, text, items[i]?.range?.[0] ?? rl.offset, problem)
  })
  const br = f('branches')
  const branches = (br.value ?? 'shared') as BranchMode
  if (!BRANCH_MODES.includes(branches)) throw new ConfigError(file, text, br.offset, `\`branches\` must be one of ${BRANCH_MODES.join(', ')}`)
  const kf = f('keep-format')
  const keepFormat = (kf.value ?? 'agents') as KeepFormatMode
  if (!KEEP_FORMAT_MODES.includes(keepFormat)) {
    throw new ConfigError(file, text, kf.offset, `\`keep-format\` must be one of ${KEEP_FORMAT_MODES.join(', ')} (whose whole-file rewrites by a YAML library keep the file's comments and formatting)`)
  }
  return {
    version: 1, space: space.value, track: tracked as string[], discovery, registry: registry as string | null,
    registryKey: registryKey as string | null, rules: rules as RuleSpec[], branches,
    ...(kf.value !== undefined ? { keepFormat } : {}),
  }
}

export function renderTeamConfig(c: TeamConfig): string {
  return [
    '# ctxsync keeps the context files below in sync, live, between machines and AI agents.',
    '# Committed: the same for the whole team. Machine settings live in .ctxsync/ (not committed).',
    'version: 1',
    `space: ${c.space}`,
    '# Files to sync (globs, relative to this file).',
    'track:',
    ...c.track.map((g) => `  - ${JSON.stringify(g)}`),
    '# How peers find each other: none (static peers in .ctxsync/local.yaml), mdns (LAN), registry (relay URL).',
    `discovery: ${c.discovery}`,
    `registry: ${c.registry === null ? 'null' : JSON.stringify(c.registry)}`,
    ...(c.registryKey ? [REGISTRY_KEY_COMMENT, `registry-key: ${c.registryKey}`] : []),
    '# Merge rules beyond the built-in Rhema ones, e.g.:',
    '#   - path: "todos.*.tags"      # * = any key or list item, ** = any depth',
    '#     merge: set                # set | sequence | text | counter | register',
    '#   - files: "**/patterns.yaml"',
    '#     path: patterns',
    '#     identity: name            # the key that identifies list items (default: id)',
    ...(c.rules.length ? ['rules:', ...c.rules.map((r) => `  - ${JSON.stringify(r)}`)] : ['rules: []']),
    '# Git branches: shared (one live context for every branch) or separate (one per branch, merged when',
    '# the branches merge).',
    `branches: ${c.branches ?? 'shared'}`,
    ...(c.keepFormat && c.keepFormat !== 'agents' ? [KEEP_FORMAT_COMMENT, `keep-format: ${c.keepFormat}`] : []),
    '',
  ].join('\n')
}

const KEEP_FORMAT_COMMENT = "# Whose whole-file rewrites by a YAML library keep the file's comments and formatting: agents | everyone | off."
const REGISTRY_KEY_COMMENT = "# The registry relay's key, pinned at first contact: peers refuse a relay that cannot prove it."

/**
 * Pins the registry relay's key in ctxsync.yaml, after the `registry:` line, leaving the rest of the text as
 * the team wrote it. Never replaces a key already there: a different key is the relay's problem to explain.
 */
export async function pinRegistryKey(file: string, key: string): Promise<'pinned' | 'kept'> {
  const text = await fs.readFile(file, 'utf8')
  if (/^registry-key:/m.test(text)) return 'kept'
  const line = `${REGISTRY_KEY_COMMENT}\nregistry-key: ${key}\n`
  const at = /^registry:.*(\r?\n|$)/m.exec(text)
  const next = at
    ? text.slice(0, at.index + at[0].length) + (at[1] ? '' : '\n') + line + text.slice(at.index + at[0].length)
    : text + (text.endsWith('\n') || text === '' ? '' : '\n') + line
  await writeFileAtomic(file, next)
  return 'pinned'
}

export async function readLocalSettings(file: string, defaults: LocalSettings): Promise<LocalSettings> {
  const set = await cached(file, path.dirname(file), () => parseLocalSettings(file))
  return { ...defaults, peers: [...defaults.peers], ...set }
}

/** The settings the file sets (the caller fills in the rest). */
async function parseLocalSettings(file: string): Promise<Partial<LocalSettings>> {
  const got = await readDoc(file, true)
  if (!got) return {}
  const { text, doc } = got
  const f = (k: string) => field(file, text, doc, k)
  const out: Partial<LocalSettings> = {}
  const name = f('name')
  if (name.value !== undefined) {
    if (typeof name.value !== 'string' || name.value.trim() === '') throw new ConfigError(file, text, name.offset, '`name` must be a non-empty string')
    out.name = name.value
  }
  const agent = f('agent')
  if (agent.value !== undefined) {
    if (typeof agent.value !== 'boolean') throw new ConfigError(file, text, agent.offset, '`agent` must be true or false')
    out.agent = agent.value
  }
  const host = f('host')
  if (host.value !== undefined) {
    if (typeof host.value !== 'string' || host.value === '') throw new ConfigError(file, text, host.offset, '`host` must be an address to listen on, e.g. 127.0.0.1 or 0.0.0.0')
    out.host = host.value
  }
  const port = f('port')
  if (port.value !== undefined) {
    if (!Number.isInteger(port.value) || (port.value as number) < 0 || (port.value as number) > 65535) {
      throw new ConfigError(file, text, port.offset, '`port` must be a TCP port number (0–65535; 0 picks a free one)')
    }
    out.port = port.value as number
  }
  const peers = f('peers')
  if (peers.value !== undefined && peers.value !== null) {
    if (!Array.isArray(peers.value) || !peers.value.every((p) => typeof p === 'string' && isWsUrl(p))) {
      throw new ConfigError(file, text, peers.offset, '`peers` must be a list of ws:// URLs, e.g. ws://192.168.1.20:7420')
    }
    out.peers = peers.value as string[]
  }
  return out
}

export function renderLocalSettings(s: LocalSettings): string {
  return [
    '# This machine\'s ctxsync settings (not committed).',
    `name: ${JSON.stringify(s.name)}`,
    `# true when this peer is an AI agent rather than a person`,
    `agent: ${s.agent}`,
    '# Where `ctxsync watch` listens (use 0.0.0.0 to accept peers from other machines).',
    `host: ${s.host}`,
    `port: ${s.port}`,
    '# Peers to keep connected to.',
    s.peers.length ? 'peers:' : 'peers: []',
    ...s.peers.map((p) => `  - ${p}`),
    '',
  ].join('\n')
}

export async function writeConfigFile(file: string, text: string): Promise<void> {
  await writeFileAtomic(file, text)
}
