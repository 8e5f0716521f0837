import fs from 'node:fs/promises'
import path from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { DEFAULT_INCLUDE, InvalidDocPathError, createMatcher, isScopeFile, isTrackedFile, listTracked, normalizeDocPath } from '../../src/fs/globs.js'
import { removeTmpDirs, tmpDir } from './helpers.js'

afterAll(removeTmpDirs)

const match = createMatcher(DEFAULT_INCLUDE)

async function layout(root: string, files: string[]): Promise<void> {
  for (const f of files) {
    await fs.mkdir(path.dirname(path.join(root, f)), { recursive: true })
    await fs.writeFile(path.join(root, f), 'a: 1\n')
  }
}

describe('tracked globs', () => {
  it('matches the Rhema layout and nothing else', () => {
    for (const p of ['.rhema/todos.yaml', 'sub/.rhema/knowledge.yml', '.rhema/deep/decisions.yaml', 'rhema.yaml', 'sub/scope.yml']) {
      expect(match(p), p).toBe(true)
    }
    for (const p of ['todos.yaml', 'sub/other.yaml', '.rhema/notes.md', '.rhema/todos.yaml.tmp', '.rhema/.todos.yaml.swp',
      '.git/.rhema/x.yaml', 'node_modules/pkg/.rhema/x.yaml', '.ctxsync/docs/rhema.yaml', 'a/node_modules/rhema.yaml']) {
      expect(match(p), p).toBe(false)
    }
    expect(isScopeFile('rhema.yaml')).toBe(true)
    expect(isScopeFile('sub/scope.yml')).toBe(true)
    expect(isScopeFile('.rhema/scope.yaml')).toBe(false)
    expect(createMatcher(DEFAULT_INCLUDE, ['**/archive/**'])('.rhema/archive/old.yaml')).toBe(false)
  })

  it('lists tracked files sorted, applying the scope-file rule and reporting symlinks', async () => {
    const root = await tmpDir()
    await layout(root, [
      '.rhema/todos.yaml', 'rhema.yaml', 'sub/.rhema/knowledge.yml', 'sub/rhema.yaml', 'sub/scope.yml',
      'lonely/scope.yaml', 'lonely/rhema.yml', 'docs/readme.yaml', '.git/.rhema/x.yaml', 'node_modules/m/.rhema/y.yaml',
      '.ctxsync/.rhema/z.yaml',
    ])
    await fs.symlink(path.join(root, '.rhema/todos.yaml'), path.join(root, '.rhema/linked.yaml'))
    await fs.symlink(path.join(root, 'sub'), path.join(root, 'linkdir'))
    await fs.symlink(path.join(root, 'sub/.rhema'), path.join(root, '.rhema/linkedsub'))
    const out = await listTracked(root, DEFAULT_INCLUDE)
    expect(out.files).toEqual(['.rhema/todos.yaml', 'rhema.yaml', 'sub/.rhema/knowledge.yml', 'sub/rhema.yaml', 'sub/scope.yml'])
    expect(out.symlinks).toEqual(['.rhema/linked.yaml'])
    // A linked directory is reported where tracked files could live under it; `linkdir` is not such a place.
    expect(out.linkedDirs).toEqual(['.rhema/linkedsub'])
  })

  it('stops at a nested repository, whether its .git is a directory or a file (submodule, worktree)', async () => {
    const root = await tmpDir()
    await layout(root, ['.rhema/todos.yaml', 'sub/.rhema/a.yaml', 'inner/.rhema/b.yaml', 'inner/deep/.rhema/c.yaml', 'mod/.rhema/d.yaml', 'mod/rhema.yaml'])
    await fs.mkdir(path.join(root, 'inner', '.git'))
    await fs.writeFile(path.join(root, 'mod', '.git'), 'gitdir: ../.git/modules/mod\n')
    await fs.symlink(path.join(root, 'inner/.rhema/b.yaml'), path.join(root, 'inner/.rhema/linked.yaml'))
    const l = await listTracked(root, DEFAULT_INCLUDE)
    expect(l.files).toEqual(['.rhema/todos.yaml', 'sub/.rhema/a.yaml'])
    expect(l.symlinks).toEqual([])
    for (const rel of ['inner/.rhema/b.yaml', 'inner/deep/.rhema/c.yaml', 'mod/.rhema/d.yaml', 'mod/rhema.yaml']) expect(await isTrackedFile(root, rel, match), rel).toBe(false)
    expect(await isTrackedFile(root, 'sub/.rhema/a.yaml', match)).toBe(true)
  })

  it('accepts canonical names and rejects everything else', () => {
    const root = '/repo'
    expect(normalizeDocPath(root, '.rhema/todos.yaml')).toBe('.rhema/todos.yaml')
    expect(normalizeDocPath(root, 'sub/.rhema/knowledge.yml')).toBe('sub/.rhema/knowledge.yml')
    expect(normalizeDocPath(root, 'rhema.yaml')).toBe('rhema.yaml')
    const bad: [string, RegExp][] = [
      ['../x', /escapes/], ['../.rhema/todos.yaml', /escapes/], ['.rhema/../../etc/x.yaml', /escapes/],
      ['/etc/passwd', /absolute/], ['C:/x/.rhema/a.yaml', /absolute/], ['a\\b', /backslash/],
      ['.rhema\\todos.yaml', /backslash/], ['.rhema/to\0dos.yaml', /NUL/], ['', /empty/],
      ['./.rhema/todos.yaml', /canonical/], ['.rhema//todos.yaml', /canonical/], ['.rhema/todos.yaml/', /canonical/],
      ['.rhema/to\ndos.yaml', /control/], ['todos.yaml', /globs/], ['.git/.rhema/x.yaml', /never tracks/],
      ['x'.repeat(5000), /too long/],
    ]
    for (const [p, re] of bad) {
      expect(() => normalizeDocPath(root, p), JSON.stringify(p)).toThrow(InvalidDocPathError)
      expect(() => normalizeDocPath(root, p), JSON.stringify(p)).toThrow(re)
    }
  })
})
