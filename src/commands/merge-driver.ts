/**
 * `ctxsync merge-driver %O %A %B %P`: git's merge driver for context files (`merge=ctxsync` in
 * `.gitattributes`, `merge.ctxsync.driver` in the clone's config; `ctxsync hooks install` sets both up).
 *
 * Merges the three versions with the CRDT merge (`crdt/merge/merge3.ts`): what merges, merges; a value both
 * sides changed gets the deterministic winner, and the conflict is kept for `ctxsync resolve`. Writes the
 * result to %A and exits 0 — never conflict markers. Only when a version is not valid YAML does it fall
 * back to git's text merge (`git merge-file`), saying why, and exits with its status — and likewise when a
 * version is over the size limit, or the merge would take longer than its budget (`space/mergebudget.ts`).
 */
import fs from 'node:fs/promises'
import path from 'node:path'
import { findRoot, loadMergeDriver, spacePaths } from '../space/index.js'
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
  const [[base, ours, theirs], { jobName, keepMerge, maxFileBytes, runMergeBounded, MAX_BYTES_ENV }] = await Promise.all([Promise.all([o.base, o.ours, o.theirs].map(read)), loadMergeDriver()])
  const root = findRoot(path.dirname(abs(o.path))) ?? findRoot(o.cwd)
  const paths = root ? spacePaths(root) : null
  // The daemon's limit too: a file it would not sync is not merged as YAML either.
  if ([base, ours, theirs].some((b) => b.length > maxFileBytes())) return fallback(o, `a version is larger than ${maxFileBytes()} bytes (${MAX_BYTES_ENV} raises the limit)`)
  const texts = [base, ours, theirs].map(utf8)
  if (texts.some((t) => t === null)) return fallback(o, 'a version is not UTF-8 text')
  const [b, a, t] = texts as [string, string, string]
  // Bounded in time and memory (mergebudget.ts): past the budget, git's text merge.
  const r = await runMergeBounded({ base: b, ours: a, theirs: t, name: jobName(root, abs(o.path), o.path), root, git: { cwd: o.cwd, path: o.path, env: gitEnv() } })
  if (r.kind === 'fallback') return fallback(o, r.why)
  const name = jobName(root, abs(o.path), o.path)
  await fs.writeFile(abs(o.ours), r.text)
  // Kept for `ctxsync resolve` only in an initialised clone (it has a .ctxsync/ to keep them in), with the
  // conflicts of a merge this one builds on (an autostash applied over a pull's merge: `keepMerge`).
  if (paths) await keepMerge(paths, name, a, r.text, r.keep)
  // Outside a space nothing keeps the record: pointing to `resolve` there led nowhere (issue 17).
  // Both sides were the live context's already: it decided what they conflict on, and writes that back.
  if (r.conflicts && r.held) o.say(`ctxsync: ${o.path}: merged; ${r.conflicts} value(s) differ between two versions the live context already holds — its choices stand, nothing to resolve`)
  else if (r.conflicts && r.carried) o.say(`ctxsync: ${o.path}: merged the live context carried over by git checkout/switch -m; ${r.conflicts} value(s) changed on both sides — kept one; a checkout keeps no record to resolve`)
  else if (r.conflicts) {
    // Values the live context held in turn before the merge get no record (space/mergeseen.ts): only the
    // others are promised to `resolve --list`.
    const seen = Math.min(r.seen ?? 0, r.conflicts)
    const inTurn = `${seen} value(s) changed on both sides had each been held here in turn (one written after the other was seen)`
    if (seen === r.conflicts) o.say(`ctxsync: ${o.path}: merged; ${inTurn} — kept the merged one, nothing to resolve`)
    else o.say(`ctxsync: ${o.path}: merged; ${r.conflicts - seen} value(s) changed on both sides — kept one, ${paths ? 'see `ctxsync resolve --list`' : 'with no record to choose another (no ctxsync space here)'}${seen ? `; ${inTurn}: nothing to resolve for those` : ''}`)
  }
  return { code: 0, conflicts: r.conflicts, fallback: null }
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

/** git names the merged heads' commits in GITHEAD_<oid> while it merges: how the driver knows the sides. */
function gitEnv(): Record<string, string> {
  return Object.fromEntries(Object.entries(process.env).filter((e): e is [string, string] => e[0].startsWith('GITHEAD_') && e[1] !== undefined))
}

/** git's own text merge, conflict markers and all: the one case where ctxsync cannot do better. */
async function fallback(o: MergeDriverOptions, why: string): Promise<MergeDriverResult> {
  o.say(`ctxsync: ${o.path}: ${why}; falling back to git's text merge`)
  const { mergeFileInPlace } = await loadMergeDriver()
  const code = await mergeFileInPlace({ cwd: o.cwd, ours: o.ours, base: o.base, theirs: o.theirs })
  return { code: Math.min(code, 255), conflicts: 0, fallback: why }
}
