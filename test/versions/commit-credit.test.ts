/**
 * A commit's history entry credits each field it changed to the field's writer, not the committer (black-box
 * tester stop 32, finding 9a: `d5d50dd ann "a commit live" ~ T-1.status todo→doing`, where bob had made the
 * change live and ann only committed the file). Two live members in process; ann commits with the sync point
 * her post-commit hook records.
 */
import { execFileSync } from 'node:child_process'
import fs from 'node:fs'
import path from 'node:path'
import { afterAll, expect, it } from 'vitest'
import { recordSyncPoint } from '../../src/space/syncpoint.js'
import { readTeamConfig } from '../../src/space/config.js'
import { spacePaths } from '../../src/space/paths.js'
import { historyOf } from '../../src/space/versions/query.js'
import { versionsDirOf } from '../../src/space/versions/index.js'
import { joinCode, Node, pass, removeSpaceDirs, SEED, TODOS } from '../space/harness.js'

afterAll(removeSpaceDirs)

async function commit(n: Node, msg: string, by: string, at: number): Promise<string> {
  const env = { ...process.env, GIT_AUTHOR_DATE: `@${at} +0000`, GIT_COMMITTER_DATE: `@${at} +0000` }
  const git = (args: string[]) => execFileSync('git', ['-c', 'core.hooksPath=/dev/null', '-c', `user.name=${by}`, '-c', `user.email=${by}@x`, ...args], { cwd: n.root, env, encoding: 'utf8' }).trim()
  git(['add', TODOS])
  git(['commit', '-q', '-m', msg])
  const hash = git(['rev-parse', 'HEAD'])
  const paths = spacePaths(n.root)
  await recordSyncPoint({ root: n.root, paths, track: (await readTeamConfig(paths.config))!.track, states: {}, via: 'commit', by, commit: hash })
  return hash
}

it("a commit of a teammate's live change credits the change to the teammate, the committer's own to the committer", async () => {
  const T0 = Math.floor(Date.now() / 1000)
  const ann = await Node.make({ name: 'ann', files: { [TODOS]: SEED } })
  await commit(ann, 'seed', 'ann', T0 - 100)
  await ann.start()
  const bob = await Node.make({ name: 'bob', join: await joinCode(ann.root) })
  await bob.start()
  await pass(ann, bob)
  const doing = SEED.replace('status: todo', 'status: doing')
  await bob.edit(doing)
  await pass(bob, ann)
  const both = doing.replace('title: second', 'title: second by ann')
  await ann.edit(both)
  await ann.s.versions!.flushed()
  expect(fs.readFileSync(path.join(ann.root, TODOS), 'utf8')).toBe(both)
  const c = await commit(ann, 'a commit live', 'ann', Math.ceil(Date.now() / 1000) + 1)
  const e = (await historyOf(versionsDirOf(ann.root), { doc: TODOS, root: ann.root })).find((x) => x.commit === c)!
  expect(e.fields.map((f) => [f.path, f.authors?.map((a) => a.name).join()])).toEqual([
    ['todos[id=t0].status', 'bob'],
    ['todos[id=t1].title', 'ann'],
  ])
  expect(e.authors.map((a) => a.name).sort()).toEqual(['ann', 'bob'])
  // --author finds the commit under the writer of a field it holds.
  expect((await historyOf(versionsDirOf(ann.root), { doc: TODOS, root: ann.root, author: 'bob' })).some((x) => x.commit === c)).toBe(true)
  await bob.close()
  await ann.close()
})
