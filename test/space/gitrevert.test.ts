/**
 * `git checkout -- FILE` / `git restore FILE` is the user's revert (README: a revert is an edit): the file
 * keeps git's version, whatever was saved since it last matched HEAD, and the peers get it. With many saves
 * since (more than the recent texts a model keeps), HEAD's text matched none of them and the revert was read
 * as a stale save: the newest edits stayed as "changes from peers" though they were this peer's own
 * (black-box tester, issue 15 item 2). The real git of the temp repository writes the file and the daemon's
 * own classification (gitintent.ts) names what ran.
 */
import { afterAll, expect, it } from 'vitest'
import { mulberry32 } from '../crdt/mutate.js'
import { classify, snapshot } from '../../src/space/gitintent.js'
import { idle, joinCode, Node, removeSpaceDirs, TODOS } from './harness.js'
import { exchange, git } from './joinRig.js'

afterAll(removeSpaceDirs)

const COMMITTED = `todos:
  - id: T-1
    title: One
    status: todo
  - id: T-2
    title: Two
    status: todo
  - id: T-3
    title: Three
    status: todo
`

/** One save: what it did (for the failure message) and the text it makes of the file's. */
interface Save { what: string; edit: (text: string) => string }
const setTitle = (id: string, title: string): Save => ({ what: `${id} title`, edit: (t) => t.replace(new RegExp(`(id: ${id}\\n    title: )[^\\n]*`), `$1${title}`) })
// An item appended: the revert is then the start of the file's last text (not to be held as a save cut short).
const append = (id: string): Save => ({ what: `+${id}`, edit: (t) => `${t}  - id: ${id}\n    title: added ${id}\n    status: todo\n` })
const drop = (id: string): Save => ({ what: `-${id}`, edit: (t) => t.replace(new RegExp(`  - id: ${id}\\n(    [^\\n]*\\n)*`), '') })

/** A and B live, the file committed on A; then A's saves (each reaching B), then `git <revert>` on A. */
async function revertAfter(saves: Save[], revert: string[]): Promise<{ a: Node; b: Node; reverted: string[] }> {
  const a = await Node.make({ name: 'a', files: { [TODOS]: COMMITTED } })
  git(a.root, ['add', '-A'])
  git(a.root, ['commit', '-qm', 'context'])
  const b = await Node.make({ name: 'b', join: await joinCode(a.root) })
  await a.start()
  await b.start()
  await exchange(a, b)
  let text = COMMITTED
  for (const save of saves) {
    text = save.edit(text)
    await a.edit(text)
    await idle(a.s)
    await exchange(a, b)
  }
  expect(await b.file()).toBe(text)
  // What the daemon's git watch does: pause, let git run, classify by the snapshots, reconcile.
  const repo = (await a.s.gitRepo())!
  const before = await snapshot(repo, (p) => p === TODOS)
  a.s.pauseForGit()
  git(a.root, revert)
  const after = await snapshot(repo, (p) => p === TODOS)
  const intent = await classify(repo, before, after, a.root, a.s.match)
  expect(intent.kind).toBe('revert')
  const r = await a.s.resumeAfterGit(after.head, intent)
  await idle(a.s)
  await exchange(a, b)
  return { a, b, reverted: r.reverted }
}

/** The tester's story: ten saves of T-3's title, then T-1's, then T-2's. */
const story = (n: number): Save[] => [...Array.from({ length: n }, (_, i) => setTitle('T-3', `Three e${i + 1}`)), setTitle('T-1', 'One changed'), setTitle('T-2', 'Two changed')]

for (const revert of [['checkout', '--', TODOS], ['restore', TODOS]]) {
  it(`git ${revert[0]} after 12 saves gives back HEAD's version, on both peers`, async () => {
    const { a, b, reverted } = await revertAfter(story(10), revert)
    expect(reverted).toEqual([TODOS])
    expect(await a.file()).toBe(COMMITTED)
    expect(await b.file()).toBe(COMMITTED)
    for (const n of [a, b]) await n.close()
  })
}

it('an item appended, then git checkout -- FILE: taken in at once as the revert, not held as a save cut short', async () => {
  const { a, b, reverted } = await revertAfter([append('T-4')], ['checkout', '--', TODOS])
  expect(reverted).toEqual([TODOS])
  expect(a.s.doc(TODOS)?.problem ?? null).toBe(null)
  expect(await a.file()).toBe(COMMITTED)
  expect(await b.file()).toBe(COMMITTED)
  for (const n of [a, b]) await n.close()
})

/**
 * The generator: runs of saves of one field (an agent or a person refining it), items appended or deleted,
 * in random lengths; then the revert. Before the fix seeds 2 and 3 (13 and 11 saves) kept the newest saves,
 * and seed 7 (one item appended) was held as a save cut short, not taken in as the revert.
 */
it('generated: runs of saves, then git checkout -- FILE, gives back HEAD on both peers', async () => {
  const failed: string[] = []
  for (const seed of [1, 2, 3, 4, 5, 6, 7, 8]) {
    const rng = mulberry32(seed)
    const saves: Save[] = []
    let added = 3
    const runs = 1 + Math.floor(rng() * 3)
    for (let r = 0; r < runs; r++) {
      const kind = rng()
      if (kind < 0.2) saves.push(append(`T-${++added}`))
      else if (kind < 0.3) saves.push(drop(`T-${1 + Math.floor(rng() * added)}`))
      else {
        const id = `T-${1 + Math.floor(rng() * 3)}`
        const len = 1 + Math.floor(rng() * 10)
        for (let i = 0; i < len; i++) saves.push(setTitle(id, `s${seed} r${r} e${i}`))
      }
    }
    const { a, b, reverted } = await revertAfter(saves, ['checkout', '--', TODOS])
    if (reverted[0] !== TODOS || (await a.file()) !== COMMITTED || (await b.file()) !== COMMITTED) failed.push(`seed ${seed}: ${saves.map((s) => s.what).join(', ')}`)
    for (const x of [a, b]) await x.close()
  }
  expect(failed).toEqual([])
})
