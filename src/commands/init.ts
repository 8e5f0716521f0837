/**
 * `ctxsync init`: make this clone a member of a space. Creates (or joins) the space named in the committed
 * `ctxsync.yaml`, sets up this machine's `.ctxsync/` (identity, settings, secret; git-ignored) and enrolls the
 * tracked files. Idempotent: running it again with the same flags changes nothing.
 *
 * `.ctxsync/` is never taken from the repository (see space/statedir.ts): links there are refused, and a
 * committed identity, local.yaml or secret is ignored and replaced.
 *
 * A new space finds its peers by mDNS unless told otherwise (`--discovery none|registry`), and then this
 * machine's daemon listens on every interface (`host: 0.0.0.0`): a LAN peer that finds it must be able to
 * connect, and the handshake admits only peers that prove the space secret.
 */
import fs from 'node:fs/promises'
import path from 'node:path'
import { parseDocument } from 'yaml'
import { CtxError, UsageError } from '../errors.js'
import { newSpaceId } from '../ids.js'
import {
  checkPeerUrls, checkRegistryUrl, findRoot, gitRoot, initRoot, loadGitUser, loadSetup, loadStateDir, openSpace, runningDaemon, spacePaths, STATE_DIR,
  type Discovery, type LocalSettings, type TeamConfig,
} from '../space/index.js'
import { hooksInstall, type HooksInstallResult } from './hooks.js'

export interface InitOptions {
  cwd: string
  name?: string
  agent?: boolean
  port?: number
  peers?: string[]
  discovery?: string
  registry?: string
  join?: string
  /** Also install the git hooks and the merge driver (`ctxsync hooks install`). */
  hooks?: boolean
  /** Go on outside a git repository (without it, init refuses there and says what git would give). */
  noGit?: boolean
  warn?: (msg: string) => void
}

export interface InitResult {
  root: string
  space: string
  peer: { id: string; name: string; kind: 'human' | 'agent' }
  created: string[]
  changed: string[]
  joined: boolean
  secret: 'created' | 'joined' | 'env' | 'kept' | 'missing'
  enrolled: string[]
  held: Array<{ path: string; line: number; col: number; message: string }>
  next: string[]
  hooks?: HooksInstallResult
  /** Files of `.ctxsync/` the repository carries, which init did not read and replaced with its own. */
  ignored: string[]
}

/** Where the daemon listens by default when peers find it on the LAN. */
const LAN_HOST = '0.0.0.0'

export async function init(o: InitOptions): Promise<InitResult> {
  const {
    createIdentity, decodeJoinCode, readIdentity, readLocalSettings, readTeamConfig, renderLocalSettings, renderTeamConfig, writeConfigFile,
    DEFAULT_HOST, DEFAULT_INCLUDE, DEFAULT_PORT, DISCOVERY_MODES, SECRET_ENV, SummaryWriter, startJoining, committedConfig, excludeLocally,
  } = await loadSetup()
  if (o.discovery !== undefined && !DISCOVERY_MODES.includes(o.discovery as Discovery)) {
    throw new UsageError(`--discovery must be one of ${DISCOVERY_MODES.join(', ')}`)
  }
  checkRegistryUrl(o.registry)
  checkPeerUrls(o.peers)
  const join = o.join ? decodeJoinCode(o.join) : null
  const root = findRoot(o.cwd) ?? initRoot(o.cwd)
  if (!o.noGit && gitRoot(root) === null) throw noGitError(root)
  const paths = spacePaths(root)
  const created: string[] = []
  const changed: string[] = []
  // Before anything reads or writes there (reading ctxsync.yaml caches its parse in .ctxsync/).
  const { checkStateDir, claimStateDir, committedState } = await loadStateDir()
  await checkStateDir(paths)

  let config = await readTeamConfig(paths.config)
  // A checkout older than the space's ctxsync.yaml (tester finding 5): the team's, from a later commit.
  const found = config ? null : await committedConfig(root, join?.space ?? null)
  if (found) {
    await writeConfigFile(paths.config, found.text)
    config = await readTeamConfig(paths.config)
    created.push('ctxsync.yaml')
  }
  if (config && join && join.space !== config.space) {
    throw new CtxError('wrong-space', `that join code is for space ${join.space}, but ${path.relative(o.cwd, paths.config) || 'ctxsync.yaml'} names ${config.space}: ask for a code from this repository's space`)
  }
  const spaceExisted = config !== null
  if (!config) {
    config = {
      version: 1, space: join?.space ?? newSpaceId(), track: [...DEFAULT_INCLUDE],
      discovery: (o.discovery as Discovery) ?? (o.registry ? 'registry' : 'mdns'), registry: o.registry ?? null, rules: [],
    }
    await writeConfigFile(paths.config, renderTeamConfig(config))
    created.push('ctxsync.yaml')
  } else if ((await updateTeamConfig(paths.config, config, o)) && !found) changed.push('ctxsync.yaml')

  await claimStateDir(paths)
  // In an older checkout, .gitignore (tracked there or at the later commit) is left alone: a change to it
  // would stop the checkout of the later commit; ctxsync.yaml and .ctxsync/ are ignored in this clone only.
  if (found) await excludeLocally(root)
  const ignored0 = found ? null : await ignoreStateDir(root)
  if (ignored0) (ignored0 === 'created' ? created : changed).push('.gitignore')
  // Files of .ctxsync/ that came with the repository are someone else's: not read, replaced by our own.
  const committed = await committedState(paths)
  const ignored = [paths.identity, paths.local, paths.secret].filter((f) => committed.has(f)).map((f) => path.relative(root, f).split(path.sep).join('/'))
  for (const f of ignored) o.warn?.(`${f} is committed in this repository: ignored (it belongs to one machine); ctxsync writes its own`)
  const mine = (f: string) => !committed.has(f)

  let identity = mine(paths.identity) ? await readIdentity(paths.identity) : null
  // Joined: this run made the machine a member of a space that existed (not a re-run in a member's clone).
  const newMember = !identity && spaceExisted
  // A machine new to an existing space joins from its checkout: the committed files are older renderings
  // of the live context, taken in once the live state arrives (space/join.ts), never enrolled as edits.
  // CTXSYNC_JOIN_WAIT=0 enrolls the checkout's files at once instead (the behaviour before issue 13).
  // A join code names a space that exists, whether or not this checkout has its ctxsync.yaml (finding 5).
  if (!identity && (spaceExisted || join) && process.env.CTXSYNC_JOIN_WAIT !== '0') {
    for (const f of await startJoining(root)) o.warn?.(`${f}: removed, as the space never had it (deleted before ctxsync.yaml's commit; a file you changed stays)`)
  }
  if (!identity) {
    identity = await createIdentity(paths.identity)
    created.push(`${STATE_DIR}/identity.json`)
  }

  const defaults: LocalSettings = {
    name: o.name ?? (await (await loadGitUser()).gitUserName(root)) ?? process.env.USER ?? 'someone',
    agent: o.agent ?? false, host: config.discovery === 'mdns' ? LAN_HOST : DEFAULT_HOST, port: o.port ?? DEFAULT_PORT, peers: [...(o.peers ?? [])],
  }
  const localExists = mine(paths.local) && (await exists(paths.local))
  const current = localExists ? await readLocalSettings(paths.local, defaults) : defaults
  const wanted: LocalSettings = {
    ...current,
    ...(o.name !== undefined ? { name: o.name } : {}),
    ...(o.agent !== undefined ? { agent: o.agent } : {}),
    ...(o.port !== undefined ? { port: o.port } : {}),
    peers: [...new Set([...current.peers, ...(o.peers ?? []), ...(join?.peers ?? [])])],
  }
  if (!localExists || JSON.stringify(wanted) !== JSON.stringify(current)) {
    await writeConfigFile(paths.local, renderLocalSettings(wanted))
    ;(localExists ? changed : created).push(`${STATE_DIR}/local.yaml`)
  }

  const secret = await setUpSecret(paths.secret, join?.secret ?? null, spaceExisted, created, changed, mine(paths.secret))

  const enrolled: string[] = []
  const held: InitResult['held'] = []
  if (!(await runningDaemon(paths))) {
    const space = await openSpace({ cwd: root, command: 'ctxsync init', lock: { wait: 5000 }, warn: o.warn })
    try {
      space.on('held', (name: string, p: { line: number; col: number; message: string }) => held.push({ path: name, ...p }))
      const report = await space.scan()
      enrolled.push(...report.enrolled)
      await space.idle()
      await new SummaryWriter(space).flush()
    } finally {
      await space.close()
    }
  }

  const next: string[] = []
  if (secret === 'missing') {
    next.push(`this space already exists: ask a teammate to run \`ctxsync invite\`, then \`ctxsync init --join CODE\` (or set ${SECRET_ENV})`)
  } else {
    // What to commit and how, and a one-shot sync that works as typed (a configured peer, or the relay,
    // needs no --peer); a member of a `discovery: none` space with no peer would wait for nobody.
    const toCommit = ['ctxsync.yaml', ...(created.includes('.gitignore') || changed.includes('.gitignore') ? ['.gitignore'] : [])]
    if (found) next.push(`this checkout is older than the space's ctxsync.yaml (commit ${found.commit.slice(0, 7)}): it is written as committed there and ignored in this clone only (.git/info/exclude), so checking out or pulling that commit replaces it`)
    if (!spaceExisted) next.push(`commit ${toCommit.join(' and ')} so teammates join the same space: \`git add ${toCommit.join(' ')} && git commit -m ctxsync\``)
    const reaches = wanted.peers.length > 0 || config.discovery === 'registry'
    if (config.discovery === 'none' && !reaches && (join !== null || newMember)) next.push('this space finds no peers by itself (discovery: none) and this machine names none: add one with `ctxsync init --peer ws://HOST:PORT`')
    next.push(`run \`ctxsync watch\` to sync live, or ${reaches ? '`ctxsync sync`' : '`ctxsync sync --peer ws://HOST:PORT`'} once`)
    if (!join) next.push('give teammates a join code: `ctxsync invite`')
  }
  if (committed.size > 0) next.push(`${STATE_DIR}/ is committed in this repository (${committed.size} file(s)): it is one machine's private state; run \`git rm -r --cached ${STATE_DIR}\` and commit`)
  const hooks = o.hooks ? await hooksInstall({ cwd: root }) : undefined
  if (hooks) next.push(...hooks.next)
  return {
    ...(hooks ? { hooks } : {}),
    root, space: config.space, peer: { id: identity.id, name: wanted.name, kind: wanted.agent ? 'agent' : 'human' },
    // Without the secret this machine is no member yet, whatever init wrote: not "joined" (issue 17).
    created, changed, joined: (join !== null || newMember) && secret !== 'missing', secret, enrolled: enrolled.sort(), held, next, ignored,
  }
}

/** Said before anything is written: a space outside git is rarely what was meant (a wrong directory). */
function noGitError(root: string): CtxError {
  return new CtxError('no-git', [
    `${root} is not in a git repository.`,
    'Without git, ctxsync still syncs the files live, but records no sync points (no `ctxsync log`, no telling',
    "git's content from edits, commits pulled elsewhere are not recognised) and installs no hooks or merge driver.",
    'Run `git init` (or init inside your clone), or `ctxsync init --no-git` to go on without git.',
  ].join('\n'))
}

async function updateTeamConfig(file: string, config: TeamConfig, o: InitOptions): Promise<boolean> {
  const { writeConfigFile } = await loadSetup()
  const set: Array<[string, unknown]> = []
  if (o.discovery !== undefined && o.discovery !== config.discovery) set.push(['discovery', o.discovery])
  if (o.registry !== undefined && o.registry !== config.registry) set.push(['registry', o.registry])
  if (set.length === 0) return false
  // Edit in place so that the team's comments and layout stay.
  const doc = parseDocument(await fs.readFile(file, 'utf8'), { uniqueKeys: false })
  for (const [k, v] of set) doc.set(k, v)
  await writeConfigFile(file, doc.toString())
  return true
}

async function setUpSecret(
  file: string, joined: string | null, spaceExisted: boolean, created: string[], changed: string[], trusted: boolean,
): Promise<InitResult['secret']> {
  const { newSecret, readSecretFile, writeSecretFile, SECRET_ENV } = await loadSetup()
  // A committed secret is known to every reader of the repository: never the space's. Removed, so that no
  // later command reads it either (git shows the removal, which is the fix for the repository too).
  if (!trusted) await fs.rm(file, { force: true })
  const have = trusted ? await readSecretFile(file) : null
  if (joined) {
    if (have === joined) return 'kept'
    await writeSecretFile(file, joined)
    ;(have ? changed : created).push(`${STATE_DIR}/secret`)
    return 'joined'
  }
  if (have) return 'kept'
  if (process.env[SECRET_ENV]?.trim()) return 'env'
  if (spaceExisted) return 'missing'
  await writeSecretFile(file, newSecret())
  created.push(`${STATE_DIR}/secret`)
  return 'created'
}

/** Adds `.ctxsync/` to the repository's .gitignore unless it is already ignored there; says whether it created the file ("updated" a file just created misled: issue 17). */
async function ignoreStateDir(root: string): Promise<'created' | 'updated' | null> {
  const file = path.join(root, '.gitignore')
  let text: string | null = null
  try {
    text = await fs.readFile(file, 'utf8')
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e
  }
  const lines = (text ?? '').split(/\r?\n/).map((l) => l.trim())
  if (lines.some((l) => l === '.ctxsync' || l === '.ctxsync/' || l === '/.ctxsync' || l === '/.ctxsync/')) return null
  const sep = !text || text.endsWith('\n') ? '' : '\n'
  await fs.writeFile(file, `${text ?? ''}${sep}# ctxsync: this machine's sync state\n.ctxsync/\n`)
  return text === null ? 'created' : 'updated'
}

async function exists(p: string): Promise<boolean> {
  try {
    await fs.access(p)
    return true
  } catch {
    return false
  }
}
