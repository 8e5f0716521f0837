/**
 * Where context files are routed to the merge driver: `merge=ctxsync` lines in the clone's own
 * `.git/info/attributes`, never in the work tree.
 *
 * A `.gitattributes` written in every clone would be an untracked file there — and once one teammate
 * committed theirs, every other clone's `git pull` stops ("untracked working tree files would be
 * overwritten"). `info/attributes` is this clone's alone, outranks `.gitattributes`, and asks nothing of
 * teammates without ctxsync: their git merges the files as text, as it always did.
 *
 * Earlier versions wrote the block into the work tree's `.gitattributes`. Uninstalling takes it out of there
 * only when this clone added it (HEAD's version lacks it); a block the team committed is theirs and stays.
 */
import fs from 'node:fs/promises'
import path from 'node:path'
import type { Repo } from './repo.js'

export const ATTR_BEGIN = '# >>> ctxsync: context files merge with `ctxsync merge-driver` (`ctxsync hooks install`)'
export const ATTR_END = '# <<< ctxsync'
export const DRIVER = 'ctxsync'

/** A text file, or null when it does not exist (shared with hooks.ts). */
export async function readMaybe(p: string): Promise<string | null> {
  try {
    return await fs.readFile(p, 'utf8')
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return null
    throw e
  }
}

/** gitattributes patterns have no braces: `*.{yaml,yml}` becomes two patterns. */
export function expandBraces(glob: string): string[] {
  const m = /\{([^{}]*)\}/.exec(glob)
  if (!m) return [glob]
  const out: string[] = []
  for (const alt of m[1]!.split(',')) out.push(...expandBraces(glob.slice(0, m.index) + alt + glob.slice(m.index + m[0].length)))
  return out
}

/**
 * A track glob as a pattern of `info/attributes`, which git reads relative to the repository's top: a
 * space in a subdirectory (`prefix`) gets its globs anchored there. A glob without a slash matches at any
 * depth, in gitattributes as in the track globs, so under a prefix it becomes `prefix/**∕glob`.
 */
function anchored(glob: string, prefix: string): string {
  if (prefix === '') return glob
  const g = glob.replace(/^\//, '')
  return glob.includes('/') ? `${prefix}/${g}` : `${prefix}/**/${g}`
}

export function attributeBlock(globs: readonly string[], prefix = ''): string {
  const pats = [...new Set(globs.flatMap(expandBraces).map((g) => anchored(g, prefix)))]
  return [ATTR_BEGIN, ...pats.map((p) => `${p.replace(/ /g, '[ ]')} merge=${DRIVER}`), ATTR_END, ''].join('\n')
}

/** The clone's own attributes file (`$GIT_COMMON_DIR/info/attributes`, resolved by git). */
export async function infoAttributesFile(repo: Repo): Promise<string> {
  return path.resolve(repo.root, (await repo.raw(['rev-parse', '--git-path', 'info/attributes'])).trim())
}

/** Adds (or refreshes) our block in `file`; returns true when the file changed. */
export async function addBlock(file: string, block: string): Promise<boolean> {
  const cur = (await readMaybe(file)) ?? ''
  const without = stripBlock(cur)
  const next = without === null ? appendBlock(cur, block) : appendBlock(without.text, block, without.at)
  if (next === cur) return false
  await fs.mkdir(path.dirname(file), { recursive: true })
  await fs.writeFile(file, next)
  return true
}

/** Removes our block from `file`; deletes the file when nothing else was in it. Returns true when it changed. */
export async function removeBlock(file: string, o: { deleteEmpty: boolean } = { deleteEmpty: true }): Promise<boolean> {
  const cur = await readMaybe(file)
  if (cur === null) return false
  const s = stripBlock(cur)
  if (s === null) return false
  if (s.text === '' && o.deleteEmpty) await fs.rm(file)
  else await fs.writeFile(file, s.text)
  return true
}

export type WorktreeAttributes =
  /** No block there. */
  | 'none'
  /** Added by an earlier install in this clone, never committed: removed. */
  | 'removed'
  /** The team committed it: left as it is (the caller says what to commit, if they want it gone). */
  | 'committed'

export interface WorktreeBlockReport {
  state: WorktreeAttributes
  /** Repository path of the space's `.gitattributes`. */
  file: string
  /** Committed: the work tree's block, changed by an earlier install here, was put back as HEAD has it. */
  restored: boolean
  /**
   * The index holds a block HEAD does not (someone ran `git add` after an earlier install): the next commit
   * would give it to the team. 'new': the file is not in HEAD (`git rm --cached`); 'changed': it is
   * (`git restore --staged`). Left to the user: the index is theirs.
   */
  staged: 'new' | 'changed' | null
}

/**
 * The block an earlier version of `hooks install` wrote into the work tree's `.gitattributes` (at the space's
 * root): removed when this clone added it, kept when HEAD's version of the file holds it — as HEAD has it.
 */
export async function removeWorktreeBlock(repo: Repo, spaceRoot: string): Promise<WorktreeBlockReport> {
  const file = path.join(spaceRoot, '.gitattributes')
  const rel = path.relative(repo.root, file).split(path.sep).join('/')
  const [cur, committed, index] = await Promise.all([readMaybe(file), repo.tryRaw(['show', `HEAD:${rel}`]), repo.tryRaw(['show', `:${rel}`])])
  const headBlock = committed === null ? null : blockOf(committed)
  const indexBlock = index === null ? null : blockOf(index)
  const staged = indexBlock !== null && indexBlock !== headBlock ? (committed === null ? 'new' : 'changed') : null
  const report = (state: WorktreeAttributes, restored = false): WorktreeBlockReport => ({ state, file: rel, restored, staged })
  const curBlock = cur === null ? null : blockOf(cur)
  if (cur === null || curBlock === null) return report('none')
  if (headBlock !== null) {
    if (curBlock === headBlock) return report('committed')
    await fs.writeFile(file, cur.replace(curBlock, headBlock))
    return report('committed', true)
  }
  // A tracked file that only gained our block keeps existing even if the block was all it held now.
  await removeBlock(file, { deleteEmpty: committed === null })
  return report('removed')
}

/** Our block as it stands in `text` (from its first line to its last), or null. */
function blockOf(text: string): string | null {
  const start = text.indexOf(ATTR_BEGIN)
  const end = start < 0 ? -1 : text.indexOf(ATTR_END, start)
  return end < 0 ? null : text.slice(start, end + ATTR_END.length)
}

function appendBlock(text: string, block: string, at = text.length): string {
  const before = text.slice(0, at)
  const sep = before === '' || before.endsWith('\n') ? '' : '\n'
  return before + sep + block + text.slice(at)
}

/** The text without our block (and where it was), or null when there is none. */
function stripBlock(text: string): { text: string; at: number } | null {
  const start = text.indexOf(ATTR_BEGIN)
  if (start < 0) return null
  const endMark = text.indexOf(ATTR_END, start)
  if (endMark < 0) return null
  let end = endMark + ATTR_END.length
  if (text[end] === '\n') end++
  return { text: text.slice(0, start) + text.slice(end), at: start }
}

/** Whether `.gitattributes` (the space's, the repository's top) or `info/attributes` routes anything to our driver. */
export async function attributesNameDriver(repo: Repo, spaceRoot = repo.root): Promise<boolean> {
  const re = new RegExp(`(^|\\s)merge=${DRIVER}(\\s|$)`, 'm')
  const files = new Set([path.join(spaceRoot, '.gitattributes'), path.join(repo.root, '.gitattributes'), await infoAttributesFile(repo).catch(() => path.join(repo.gitDir, 'info', 'attributes'))])
  for (const f of files) {
    const t = await readMaybe(f).catch(() => null)
    if (t && re.test(t)) return true
  }
  return false
}
