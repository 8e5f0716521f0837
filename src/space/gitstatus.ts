/**
 * The `git` part of `ctxsync status`: whether the working context files are what HEAD's sync point
 * recorded, which hooks are installed, and whether git would actually call the merge driver that
 * `.gitattributes` names (a clone without `merge.ctxsync.driver` silently falls back to a text merge).
 */
import fs from 'node:fs/promises'
import path from 'node:path'
import { attributesNameDriver, DRIVER, hooksInstalled } from '../git/hooks.js'
import { NOTES_REF, parseNote } from '../git/notes.js'
import { Repo } from '../git/repo.js'
import type { BranchMode } from './config.js'

export interface GitStatus {
  head: string | null
  branch: string | null
  branches: BranchMode
  /** HEAD's latest sync point, if it has one. */
  syncPoint: { at: string; by: string; via: string } | null
  /** The working context files are exactly what that sync point recorded (null: no sync point). */
  matches: boolean | null
  /** Files that differ from it (changed, added or removed since). */
  differs: string[]
  hooks: string[]
  driver: 'configured' | 'missing' | 'unused'
  warnings: string[]
}

/** `files`: the tracked files (space-relative) as `status` lists them. Null outside a repository. */
export async function gitStatus(root: string, files: readonly string[], branches: BranchMode = 'shared'): Promise<GitStatus | null> {
  const repo = await Repo.open(root)
  if (!repo) return null
  const prefix = path.relative(repo.root, root).split(path.sep).join('/')
  const gitPath = (n: string) => (prefix === '' ? n : `${prefix}/${n}`)
  const [head, branch, note, driverCmd, named, hooks] = await Promise.all([
    repo.head(),
    repo.branch(),
    repo.tryRaw(['notes', `--ref=${NOTES_REF}`, 'show', 'HEAD']),
    repo.config(`merge.${DRIVER}.driver`),
    attributesNameDriver(repo),
    repo.hooksDir().then(hooksInstalled, () => []),
  ])
  const point = parseNote(note ?? '').at(-1) ?? null
  const differs: string[] = []
  if (point) {
    const recorded = new Map(Object.entries(point.files).map(([p, f]) => [p, f.b]))
    for (const f of files) {
      const p = gitPath(f)
      const text = await fs.readFile(path.join(root, f)).catch(() => null)
      if (text === null ? recorded.has(p) : repo.blobId(text) !== recorded.get(p)) differs.push(p)
      recorded.delete(p)
    }
    for (const p of recorded.keys()) {
      if ((await fs.access(path.join(repo.root, p)).then(() => true, () => false)) === false) differs.push(p)
    }
  }
  const driver = named ? (driverCmd ? 'configured' : 'missing') : 'unused'
  const warnings: string[] = []
  if (driver === 'missing') {
    warnings.push(`.gitattributes sends context files to the ${DRIVER} merge driver, but this clone's git config does not define it: git would silently merge them as text (with conflict markers). Run \`ctxsync hooks install\`.`)
  }
  return {
    head, branch, branches,
    syncPoint: point ? { at: point.at, by: point.by, via: point.via } : null,
    matches: point ? differs.length === 0 : null,
    differs: differs.sort(),
    hooks, driver, warnings,
  }
}
