/**
 * A checkout older than the commit that added `ctxsync.yaml` (black-box tester finding 5): the context files
 * were committed before ctxsync was set up, and a new teammate clones (or checks out) such a commit and runs
 * `init`. Finding no `ctxsync.yaml`, init took the checkout for a repository without a space: it wrote a
 * default configuration (not the team's: other rules, discovery) and enrolled the checkout's files as the
 * space's first state — older texts as a second authorship of every value, so every value the live context
 * changed since was a conflict on every peer, and the old one won now and then.
 *
 * The repository knows better: a later commit (another branch, the remote's) holds the space's
 * `ctxsync.yaml`. Init writes that one, git-ignored locally (`.git/info/exclude`, never `.gitignore`, which
 * the old checkout may track), so that checking out or pulling the later commit replaces it without git
 * refusing over an untracked file; and the machine joins as from any checkout (join.ts).
 */
import fs from 'node:fs/promises'
import path from 'node:path'
import { parseDocument } from 'yaml'
import { CtxError } from '../errors.js'
import { Repo } from '../git/repo.js'
import { createMatcher } from '../fs/globs.js'
import { readTeamConfig } from './config.js'
import { CONFIG_FILE, spacePaths, STATE_DIR } from './paths.js'

export interface CommittedConfig {
  /** The newest committed text of the space's `ctxsync.yaml` at this root's path, in a later commit. */
  text: string
  commit: string
}

/** How many commits that touched `ctxsync.yaml` are looked at, newest first. */
const LOOK_BACK = 50

/**
 * The space's `ctxsync.yaml` as a commit that this checkout does not contain holds it, when HEAD has none
 * there (null otherwise, or without git). With `space`, only a configuration of that space. Commits HEAD
 * contains are not asked: there the file was removed since, a space given up on this line of history.
 */
export async function committedConfig(root: string, space: string | null): Promise<CommittedConfig | null> {
  const repo = await Repo.open(root)
  if (!repo) return null
  const rel = path.relative(repo.root, path.join(root, CONFIG_FILE)).split(path.sep).join('/')
  if ((await repo.resolveMany([`HEAD:${rel}`])).get(`HEAD:${rel}`)) return null
  const log = await repo.tryRaw(['log', '--all', '--not', 'HEAD', '--not', `--max-count=${LOOK_BACK}`, '--format=%H', '--', rel])
  const commits = (log ?? '').split('\n').map((l) => l.trim()).filter(Boolean)
  const specs = commits.map((c) => `${c}:${rel}`)
  const oids = await repo.resolveMany(specs)
  const blobs = await repo.readBlobs(specs.flatMap((s) => oids.get(s) ?? []))
  for (const [i, commit] of commits.entries()) {
    const oid = oids.get(specs[i]!)
    const text = oid ? blobs.get(oid) : undefined
    if (text === undefined) continue
    const id = spaceOf(text)
    if (id !== null && (space === null || id === space)) return { text, commit }
  }
  return null
}

/**
 * Outside any space (no ctxsync.yaml from `cwd` up to the repository's root), but a later commit has one
 * there: this checkout predates the space. `sync` and `watch` said "run `ctxsync init` first", and `init`
 * without a code then asked for one — say so at once, with both ways out. Null: no such commit.
 */
export async function olderCheckoutError(cwd: string, top: string | null): Promise<CtxError | null> {
  if (top === null) return null
  const repo = await Repo.open(top).catch(() => null)
  if (!repo) return null
  for (let dir = path.resolve(cwd); ; dir = path.dirname(dir)) {
    const found = await committedConfig(dir, null).catch(() => null)
    if (found) {
      const space = spaceOf(found.text)
      const refs = ((await repo.tryRaw(['for-each-ref', '--contains', found.commit, '--format=%(refname:short)', 'refs/heads', 'refs/remotes'])) ?? '').split('\n').map((l) => l.trim()).filter((l) => l && !l.endsWith('/HEAD'))
      const later = refs[0] ?? found.commit.slice(0, 7)
      const head = ((await repo.tryRaw(['rev-parse', '--short', 'HEAD'])) ?? '').trim()
      return new CtxError('not-initialized', `this checkout (${head || 'HEAD'}) is older than ctxsync.yaml: space ${space} was set up in a later commit (${found.commit.slice(0, 7)}, on ${later}). ` +
        `Join it from here with \`ctxsync init --join CODE\` (a member's \`ctxsync invite\` prints one), then sync; or check out a commit that has ctxsync.yaml (\`git checkout ${later.replace(/^origin\//, '')}\`)`)
    }
    if (dir === path.resolve(top) || path.dirname(dir) === dir) return null
  }
}

function spaceOf(text: string): string | null {
  try {
    const v = parseDocument(text, { uniqueKeys: false }).get('space')
    return typeof v === 'string' ? v : null
  } catch {
    return null
  }
}

/**
 * Ignores `ctxsync.yaml` and `.ctxsync/` in this clone only: git overwrites an ignored file at a checkout
 * (it refuses over an untracked one), and the later commit's file is the same text.
 *
 * So too the space's files that HEAD lacks and a later commit tracks (`laterFiles`): the join writes their
 * live text here, untracked, and plain `git checkout main` (or `switch`, or a pull) then refused — "untracked
 * working tree files would be overwritten by checkout: .rhema/patterns.yaml" (black-box tester, stop 30,
 * finding 10). Ignored, git writes the commit's version over it; that version is one the live context grew
 * from or new git content, and either way the daemon (or the next `sync`) writes the live context back.
 * Ignoring changes nothing for a file git tracks, so the lines may stay once HEAD has these files.
 */
export async function excludeLocally(root: string): Promise<boolean> {
  const repo = await Repo.open(root)
  if (!repo) return false
  const file = (await repo.tryRaw(['rev-parse', '--path-format=absolute', '--git-path', 'info/exclude']))?.trim()
  if (!file) return false
  const rel = path.relative(repo.root, root).split(path.sep).join('/')
  const at = (p: string) => `/${rel ? `${rel}/` : ''}${p}`
  const want = [at(CONFIG_FILE), `${at(STATE_DIR)}/`, ...(await laterFiles(repo, root)).map(at)]
  let text = ''
  try {
    text = await fs.readFile(file, 'utf8')
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e
  }
  const have = new Set(text.split(/\r?\n/).map((l) => l.trim()))
  const add = want.filter((w) => !have.has(w))
  if (add.length === 0) return false
  await fs.mkdir(path.dirname(file), { recursive: true })
  const sep = !text || text.endsWith('\n') ? '' : '\n'
  await fs.writeFile(file, `${text}${sep}# ctxsync: this checkout is older than ctxsync.yaml's commit\n${add.join('\n')}\n`)
  return true
}

/**
 * The space's tracked files (by its ctxsync.yaml's `track`, names relative to `root`) that commits HEAD does
 * not contain add, and HEAD lacks: what the live context may write into this older checkout, in git's way.
 */
async function laterFiles(repo: Repo, root: string): Promise<string[]> {
  const config = await readTeamConfig(spacePaths(root).config).catch(() => null)
  if (!config) return []
  const match = createMatcher(config.track)
  const prefix = path.relative(repo.root, root).split(path.sep).join('/')
  const under = (p: string) => (prefix ? (p.startsWith(`${prefix}/`) ? p.slice(prefix.length + 1) : null) : p)
  const added = await repo.tryRaw(['log', '--all', '--not', 'HEAD', '--not', '--diff-filter=A', '--no-renames', `--max-count=${LOOK_BACK * 4}`, '--name-only', '-z', '--format=', '--', prefix || '.'])
  const here = await repo.treeBlobs('HEAD', (p) => under(p) !== null)
  const names = new Set<string>()
  for (const p of (added ?? '').split('\0').map((l) => l.replace(/^\n+/, '')).filter(Boolean)) {
    const name = under(p)
    if (name !== null && name !== CONFIG_FILE && match(name) && !here.has(p)) names.add(name)
  }
  // As gitignore lines: a name's own wildcards and a trailing space match only themselves.
  return [...names].sort().map((n) => n.replace(/[\\*?[]/g, '\\$&').replace(/ $/, '\\ '))
}

/**
 * The tracked files of an older checkout that the space never had — deleted (or renamed) before the commit
 * that added its ctxsync.yaml — removed from disk where the checkout left them as committed. No peer has
 * them, so once joined they were "new to the space" and enrolled: a file the team deleted came back on
 * every peer. Changed by this clone, a file stays and is its edit (only what the clone changed counts).
 * Returns the names removed, relative to `root`.
 */
export async function dropBeforeSpace(root: string): Promise<string[]> {
  const config = await readTeamConfig(spacePaths(root).config).catch(() => null)
  const found = config ? await committedConfig(root, config.space) : null
  const repo = found ? await Repo.open(root) : null
  if (!config || !found || !repo) return []
  const match = createMatcher(config.track)
  const prefix = path.relative(repo.root, root).split(path.sep).join('/')
  const under = (p: string) => (prefix ? (p.startsWith(`${prefix}/`) ? p.slice(prefix.length + 1) : null) : p)
  const keep = (p: string) => {
    const rel = under(p)
    return rel !== null && match(rel)
  }
  const [here, there] = await Promise.all([repo.treeBlobs('HEAD', keep), repo.treeBlobs(found.commit, keep)])
  const out: string[] = []
  for (const [p, oid] of here) {
    if (there.has(p)) continue
    const file = path.join(repo.root, p)
    const bytes = await fs.readFile(file).catch(() => null)
    if (bytes === null || repo.blobId(bytes) !== oid) continue
    await fs.rm(file, { force: true })
    out.push(under(p)!)
  }
  return out.sort()
}

/**
 * The texts `name` may have had when the space was set up, for a checkout older than its ctxsync.yaml: the
 * file's version in the commit that added the space's ctxsync.yaml and in that commit's parents (the
 * founder's `init` enrolled the text it found, committed just before or with ctxsync.yaml). Empty in a
 * checkout that has ctxsync.yaml. `join.ts` moves the clone's changes onto the one the live context grew from.
 */
export async function spaceTexts(repo: Repo, root: string, name: string): Promise<string[]> {
  const rel = (p: string) => path.relative(repo.root, path.join(root, p)).split(path.sep).join('/')
  const cfg = rel(CONFIG_FILE)
  if ((await repo.resolveMany([`HEAD:${cfg}`])).get(`HEAD:${cfg}`)) return []
  const added = await repo.tryRaw(['log', '--all', '--not', 'HEAD', '--not', '--diff-filter=A', `--max-count=${LOOK_BACK}`, '--format=%H %P', '--', cfg])
  const commits = [...new Set((added ?? '').split('\n').flatMap((l) => l.trim().split(' ')).filter(Boolean))]
  const specs = commits.map((c) => `${c}:${rel(name)}`)
  const oids = await repo.resolveMany(specs)
  const blobs = await repo.readBlobs(specs.flatMap((s) => oids.get(s) ?? []))
  return [...new Set(specs.flatMap((s) => blobs.get(oids.get(s) ?? '') ?? []))]
}

/**
 * Is HEAD older than the space at `root` — no ctxsync.yaml there, and an ancestor of a commit that added
 * it? Then every version HEAD holds is an older rendering of what the space started from: a member that
 * checks such a commit out (`git checkout` back before ctxsync was set up) keeps the live context, as at
 * any known older commit. Taken in as new git content instead, its old texts rolled every peer back.
 */
export async function olderThanSpace(repo: Repo, root: string): Promise<boolean> {
  const cfg = path.relative(repo.root, path.join(root, CONFIG_FILE)).split(path.sep).join('/')
  if ((await repo.resolveMany([`HEAD:${cfg}`])).get(`HEAD:${cfg}`)) return false
  const added = await repo.tryRaw(['log', '--all', '--not', 'HEAD', '--not', '--diff-filter=A', `--max-count=${LOOK_BACK}`, '--format=%H', '--', cfg])
  for (const c of (added ?? '').split('\n').map((l) => l.trim()).filter(Boolean)) if (await repo.isAncestor('HEAD', c)) return true
  return false
}
