/**
 * What the daemon staged for a peer's new file is unstaged on its deletion only while the index holds just
 * that (gitstage.ts): a person's own `git add` since, or a commit of the file, is theirs.
 */
import fsp from 'node:fs/promises'
import path from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { Repo } from '../../src/git/repo.js'
import { DaemonStaged } from '../../src/space/gitstage.js'
import { git, makeRepo, removeTmpDirs } from '../e2e/helpers.js'

afterAll(removeTmpDirs)

const F = '.rhema/peer-new.yaml'

async function rig() {
  const dir = await makeRepo()
  const repo = (await Repo.open(dir))!
  await fsp.mkdir(path.join(dir, '.rhema'), { recursive: true })
  await fsp.writeFile(path.join(dir, F), 'patterns: []\n')
  const ours = new DaemonStaged(dir)
  expect(await ours.stage(repo, F)).toBe(true)
  const status = async () => (await git(dir, ['status', '--porcelain', '--', F])).trim()
  return { dir, repo, ours, status }
}

describe('DaemonStaged', () => {
  it('unstages what it staged once the file is gone', async () => {
    const { dir, repo, ours, status } = await rig()
    expect(await status()).toBe(`A  ${F}`)
    await fsp.rm(path.join(dir, F))
    expect(await ours.unstage(repo, F)).toBe(true)
    expect(await status()).toBe('')
  })

  it("leaves a person's own git add since, and a file committed since", async () => {
    const a = await rig()
    await fsp.writeFile(path.join(a.dir, F), 'patterns: [mine]\n')
    await git(a.dir, ['add', F])
    await fsp.rm(path.join(a.dir, F))
    expect(await a.ours.unstage(a.repo, F)).toBe(false)
    expect(await a.status()).toBe(`AD ${F}`)
    const b = await rig()
    await git(b.dir, ['commit', '-qm', 'patterns'])
    await fsp.rm(path.join(b.dir, F))
    expect(await b.ours.unstage(b.repo, F)).toBe(false)
    expect(await b.status()).toBe(`D ${F}`)
  })

  it('remembers what it staged across a daemon restart (the state file), and only that', async () => {
    const dir = await makeRepo()
    const repo = (await Repo.open(dir))!
    const file = path.join(dir, '.git', 'ctxsync-staged-test.json')
    await fsp.mkdir(path.join(dir, '.rhema'), { recursive: true })
    await fsp.writeFile(path.join(dir, F), 'patterns: []\n')
    expect(await new DaemonStaged(dir, file).stage(repo, F)).toBe(true)
    // A new daemon: the team's deletion comes after the restart.
    await fsp.rm(path.join(dir, F))
    const again = new DaemonStaged(dir, file)
    expect(await again.unstage(repo, F)).toBe(true)
    expect((await git(dir, ['status', '--porcelain', '--', F])).trim()).toBe('')
    // Nothing left to remember: the state file is gone; one that does not parse remembers nothing.
    await expect(fsp.stat(file)).rejects.toThrow()
    await fsp.writeFile(file, '{"cut sh')
    expect(await new DaemonStaged(dir, file).unstage(repo, F)).toBe(false)
  })

  it('never stages a file git already tracks', async () => {
    const { repo, ours } = await rig()
    expect(await ours.stage(repo, F)).toBe(false)
  })
})
