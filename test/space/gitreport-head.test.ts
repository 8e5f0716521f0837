/**
 * The git journal names a HEAD and an operation read together (CI, e2e log-rebase at 64d54c8): the report
 * paired the settled snapshot's HEAD with the operation named from HEAD's reflog read later, so a snapshot
 * that settled between git's writes of the files and its move of HEAD (a loaded machine, `git pull --rebase`)
 * journaled the commit from before the rebase beside the rebase's "(start): checkout". Forced here: the
 * snapshot is taken, then git moves HEAD, then the report is made.
 */
import fs from 'node:fs/promises'
import path from 'node:path'
import { afterAll, expect, it } from 'vitest'
import { GitWatch } from '../../src/space/gitwatch.js'
import { snapshot } from '../../src/space/gitintent.js'
import { readRecords } from '../../src/space/gitreport.js'
import type { GitReport } from '../../src/space/gitingest.js'
import { removeSpaceDirs, TODOS } from './harness.js'
import { gitAs, pushedWorld, removeGitWorlds } from './gitworld.js'

afterAll(async () => {
  await removeGitWorlds()
  await removeSpaceDirs()
})

it('a HEAD that moved after the snapshot settled: the journal names the commit the named operation moved to', async () => {
  const { node: a } = await pushedWorld('ann', 'mate')
  const repo = (await a.s.gitRepo())!
  const watcher = { pause() {}, async resume() {} }
  const w = (await GitWatch.attach(a.s, watcher as never, () => undefined, () => undefined))!
  try {
    const before = await snapshot(repo)
    const file = path.join(a.root, TODOS)
    await fs.writeFile(file, (await fs.readFile(file, 'utf8')).replace('title: first', 'title: first, on a branch'))
    gitAs(a.root, ['switch', '-q', '-c', 'other'], 'ann')
    gitAs(a.root, ['commit', '-qam', 'other'], 'ann')
    const now = await snapshot(repo)
    const settledAt = now.head
    // git moves HEAD again once the snapshot settled: the reflog's last entry is this command's.
    gitAs(a.root, ['checkout', '-q', 'main'], 'ann')
    const r: GitReport = { kept: [TODOS], ingested: [], edited: [], revived: [], reverted: [], deleted: [], tookIn: [] }
    await (w as unknown as { report: (...x: unknown[]) => Promise<void> }).report(repo, r, { kind: 'move', checkout: true }, before, now, false)
    const [rec] = await readRecords(a.s.paths.state)
    expect(rec?.op).toBe('git checkout: moving from other to main')
    const main = gitAs(a.root, ['rev-parse', 'main'], 'ann').trim()
    expect(rec?.head).toBe(main)
    expect(rec?.head).not.toBe(settledAt)
  } finally {
    w.close()
    await a.close()
  }
})
