/**
 * mergeseen.ts `checkoutMerging`: told at the merge driver's run whether git runs it for `checkout -m` /
 * `switch -m`. It rests on how git calls a driver: every other merging command merges into HEAD (ours is
 * HEAD's version), checkout -m from HEAD's version into another commit. Each command below runs a driver
 * script that notes HEAD's blob of the file, %O and %A at that moment; the rule is applied to what it saw.
 */
import fs from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'
import { execa } from 'execa'
import { afterAll, describe, expect, it } from 'vitest'
import { Repo } from '../../src/git/repo.js'
import { checkoutMerging } from '../../src/space/mergeseen.js'

const dirs: string[] = []
afterAll(async () => Promise.all(dirs.map((d) => fs.rm(d, { recursive: true, force: true }))))

const DRIVER = `#!/bin/sh
h=$(git rev-parse -q --verify "HEAD:$4" || echo none)
cp "$1" "$NOTES/$h.base.$$"; cp "$2" "$NOTES/$h.ours.$$"
git merge-file "$2" "$1" "$3"
exit 0
`

async function rig() {
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'ctxsync-mergecheckout-'))
  dirs.push(dir)
  const notes = path.join(dir, 'notes')
  await fs.mkdir(notes)
  const work = path.join(dir, 'w')
  const env = { NOTES: notes }
  const git = (...args: string[]) => execa('git', ['-c', 'user.name=t', '-c', 'user.email=t@example.invalid', ...args], { cwd: work, env })
  await execa('git', ['init', '-q', '-b', 'main', work])
  await fs.writeFile(path.join(dir, 'driver.sh'), DRIVER, { mode: 0o755 })
  await fs.writeFile(path.join(work, '.git', 'info', 'attributes'), 'f merge=t\n')
  await git('config', 'merge.t.driver', `${path.join(dir, 'driver.sh')} %O %A %B %P`)
  const file = path.join(work, 'f')
  const edit = async (from: string, to: string) => fs.writeFile(file, (await fs.readFile(file, 'utf8')).replace(from, to))
  await fs.writeFile(file, 'a\nb\nc\nd\ne\nf\ng\n')
  await git('add', 'f')
  await git('commit', '-qm', 'one')
  await git('branch', 'base')
  const repo = (await Repo.open(work))!
  /** What the driver saw since the last call, each run judged by the rule. */
  const judged = async (): Promise<boolean[]> => {
    const names = await fs.readdir(notes)
    const out: boolean[] = []
    for (const n of names.filter((x) => x.includes('.base.'))) {
      const [head, , pid] = n.split('.')
      const read = (k: string) => fs.readFile(path.join(notes, `${head}.${k}.${pid}`), 'utf8')
      const fake = { blobId: (t: string | Buffer) => repo.blobId(t), resolveMany: async (specs: readonly string[]) => new Map(specs.map((s) => [s, head === 'none' ? null : head!])) }
      out.push(await checkoutMerging(fake, 'f', await read('base'), await read('ours')))
    }
    await Promise.all(names.map((x) => fs.rm(path.join(notes, x))))
    return out
  }
  return { git, edit, judged }
}

describe('checkoutMerging: which git command runs the merge driver', () => {
  it('checkout -m and switch -m are told; merge, rebase, cherry-pick, stash pop and autostash are not', async () => {
    const { git, edit, judged } = await rig()
    await edit('a', 'A')
    await git('commit', '-qam', 'two')
    await edit('g', 'G')
    await git('checkout', '-q', '-m', 'base')
    expect(await judged()).toEqual([true])
    await git('switch', '-q', '-m', 'main')
    expect(await judged()).toEqual([true])
    await git('commit', '-qam', 'live')

    await git('switch', '-q', '-c', 'side', 'base')
    await edit('c', 'C')
    await git('commit', '-qam', 'side')
    await git('switch', '-q', 'main')
    await git('merge', '-q', '--no-edit', 'side')
    expect(await judged()).toEqual([false])

    await edit('d', 'D')
    await git('stash', '-q')
    await git('reset', '-q', '--hard', 'HEAD~1')
    await git('stash', 'pop', '-q')
    expect(await judged()).toEqual([false])
    await git('commit', '-qam', 'wip')

    await git('switch', '-q', '-c', 'r', 'base')
    await edit('e', 'E')
    await git('commit', '-qam', 'e')
    await edit('b', 'B')
    await git('rebase', '-q', '--autostash', 'main')
    expect(await judged()).toEqual([false, false])
    await git('commit', '-qam', 'B')

    await git('switch', '-q', '-c', 'cp', 'base')
    await edit('f\n', 'F\n')
    await git('commit', '-qam', 'F')
    await git('cherry-pick', 'r')
    expect(await judged()).toEqual([false])
  })
})
