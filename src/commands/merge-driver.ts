/**
 * `ctxsync merge-driver %O %A %B %P`: git's merge driver for context files (`merge=ctxsync` in
 * `.gitattributes`, `merge.ctxsync.driver` in the clone's config; `ctxsync hooks install` sets both up).
 *
 * Merges the three versions with the CRDT merge (`space/merge3.ts`): what merges, merges; a value both
 * sides changed gets the deterministic winner, and the conflict is kept for `ctxsync resolve`. Writes the
 * result to %A and exits 0 — never conflict markers. Only when a version is not valid YAML does it fall
 * back to git's text merge (`git merge-file`), saying why, and exits with its status.
 */
import { spawn } from 'node:child_process'
import fs from 'node:fs/promises'
import path from 'node:path'
import type { Author, Conflict } from '../crdt/model.js'
import type { Merge3Options } from '../space/merge3.js'
import type { MergePart } from '../space/mergestore.js'
import { dropMerge } from '../space/mergefile.js'
import { findRoot, spacePaths } from '../space/paths.js'
import { mergeByRegions } from '../space/regionmerge.js'
import { CtxError, ExitCode } from '../errors.js'

export interface MergeDriverOptions {
  cwd: string
  base: string
  ours: string
  theirs: string
  /** The path the result is stored at (%P), relative to the repository. */
  path: string
  say: (line: string) => void
}

export interface MergeDriverResult {
  /** The exit status for git: 0 merged; merge-file's status after a fallback. */
  code: number
  conflicts: number
  fallback: string | null
}

export async function mergeDriver(o: MergeDriverOptions): Promise<MergeDriverResult> {
  const abs = (p: string) => path.resolve(o.cwd, p)
  const read = (p: string) => fs.readFile(abs(p)).catch((e: NodeJS.ErrnoException) => {
    throw new CtxError('merge-input', `merge-driver: cannot read ${p}: ${e.code ?? e.message} (git passes %O %A %B %P: see \`ctxsync hooks install\`)`, ExitCode.Usage)
  })
  const [base, ours, theirs] = await Promise.all([o.base, o.ours, o.theirs].map(read))
  const root = findRoot(path.dirname(abs(o.path))) ?? findRoot(o.cwd)
  const name = root ? path.relative(root, abs(o.path)).split(path.sep).join('/') : o.path
  const paths = root ? spacePaths(root) : null
  const texts = [base, ours, theirs].map(utf8)
  if (texts.some((t) => t === null)) return fallback(o, 'a version is not UTF-8 text')
  const [b, a, t] = texts as [string, string, string]
  // Loaded only when something has to go through the CRDT (see regionmerge.ts): most merges never do.
  let opts: Promise<Merge3Options & { me: Author | null }> | null = null
  const options = () => (opts ??= mergeOptions(paths, name))
  const crdt = () => import('../crdt/model.js')
  let r: { text: string | null; conflicts: Conflict[]; parts: MergePart[] }
  try {
    // Items one side changed merge line for line; the CRDT merges only what both changed (fast on big
    // files). A shape the region merge does not follow: the whole file through the CRDT.
    const byRegion = await mergeByRegions(b, a, t, options)
    if (byRegion) r = { ...byRegion, parts: byRegion.regions.map((x) => ({ ...x, whole: false })) }
    else {
      const { merge3 } = await import('../space/merge3.js')
      const m = merge3(b, a, t, await options())
      r = { text: m.text, conflicts: m.conflicts, parts: [{ whole: true, wrapper: null, text: m.text ?? '', model: m.model }] }
    }
  } catch (e) {
    const { YamlSyntaxError, RefusedFileError } = await crdt()
    if (e instanceof YamlSyntaxError) return fallback(o, `${await which(b, a, t)} is not valid YAML (line ${e.line}, column ${e.col}: ${e.reason})`)
    if (e instanceof RefusedFileError) return fallback(o, `${await which(b, a, t)} cannot be merged as YAML: ${e.reason}`)
    throw e
  }
  try {
    await fs.writeFile(abs(o.ours), r.text ?? '')
    // Kept for `ctxsync resolve` only in an initialised clone (it has a .ctxsync/ to keep them in).
    if (paths && r.conflicts.length && (await options()).me) await (await import('../space/mergestore.js')).saveMerge(paths, name, r.parts)
    else if (paths) await dropMerge(paths, name)
  } finally {
    for (const p of r.parts) p.model.destroy()
  }
  if (r.conflicts.length) o.say(`ctxsync: ${o.path}: merged; ${r.conflicts.length} value(s) changed on both sides — kept one, see \`ctxsync resolve --list\``)
  return { code: 0, conflicts: r.conflicts.length, fallback: null }
}

/** The space's rules and this peer as the author of our side (null outside an initialised clone). */
async function mergeOptions(paths: ReturnType<typeof spacePaths> | null, name: string): Promise<Merge3Options & { me: Author | null }> {
  const { compileRules } = await import('../crdt/rules.js')
  let rules: Parameters<typeof compileRules>[1] = []
  let me: Author | null = null
  if (paths) {
    const [{ readLocalSettings, readTeamConfig, DEFAULT_HOST, DEFAULT_PORT }, { readIdentity }] = await Promise.all([
      import('../space/config.js'), import('../space/secrets.js'),
    ])
    rules = (await readTeamConfig(paths.config).catch(() => null))?.rules ?? []
    const identity = await readIdentity(paths.identity).catch(() => null)
    const local = await readLocalSettings(paths.local, { name: 'ours', agent: false, host: DEFAULT_HOST, port: DEFAULT_PORT, peers: [] }).catch(() => null)
    if (identity && local) me = { id: identity.id, name: local.name, kind: local.agent ? 'agent' : 'human' }
  }
  return {
    name, rules: compileRules(name, rules), me,
    ours: me ?? { id: 'merge:ours', name: 'ours', kind: 'human' },
    theirs: { id: 'merge:theirs', name: theirsLabel(), kind: 'human' },
  }
}

/** One validating pass (a BOM is kept: the result must hold the bytes as they were). */
const strictUtf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true })

function utf8(b: Buffer): string | null {
  try {
    return strictUtf8.decode(b)
  } catch {
    return null
  }
}

/** Which version failed to parse, for the message (the first one the model could not take in). */
async function which(base: string, ours: string, theirs: string): Promise<string> {
  const { parseYaml } = await import('../crdt/parse.js')
  const bad = (t: string) => {
    try {
      parseYaml(t)
      return false
    } catch {
      return true
    }
  }
  return bad(ours) ? 'our version' : bad(theirs) ? 'their version' : bad(base) ? 'the common ancestor' : 'a version'
}

/** git names the merged branch in GITHEAD_<oid> while it merges. */
function theirsLabel(): string {
  const labels = Object.entries(process.env).filter(([k, v]) => k.startsWith('GITHEAD_') && v && v !== 'HEAD').map(([, v]) => v!)
  return labels.length ? labels[labels.length - 1]! : 'theirs'
}

/** git's own text merge, conflict markers and all: the one case where ctxsync cannot do better. */
async function fallback(o: MergeDriverOptions, why: string): Promise<MergeDriverResult> {
  o.say(`ctxsync: ${o.path}: ${why}; falling back to git's text merge`)
  const code = await new Promise<number>((resolve) => {
    const c = spawn('git', ['merge-file', '-L', 'ours', '-L', 'base', '-L', 'theirs', o.ours, o.base, o.theirs], { cwd: o.cwd, stdio: ['ignore', 'ignore', 'inherit'] })
    c.on('error', () => resolve(255))
    c.on('close', (n) => resolve(n ?? 255))
  })
  return { code: Math.min(code, 255), conflicts: 0, fallback: why }
}
