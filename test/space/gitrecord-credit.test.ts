/**
 * A value or a deletion a commit brought, in a conflict record, is credited as blame credits it: to the
 * commit's writer (its git author, or its sync point's writer), never to the clone that pulled or checked it
 * out (black-box tester stop 31, finding 10: "(deleted) — ann" for dan's deletion taken in by ann's pull,
 * "Write docs (dan) — fay" for dan's value taken in by fay's checkout while blame said dan).
 */
import path from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { idle, joinCode, Node, pass, removeSpaceDirs, SEED, team, TODOS } from './harness.js'
import { init } from '../../src/commands/init.js'
import { mergeConflicts } from '../../src/space/mergestore.js'
import { spacePaths } from '../../src/space/paths.js'
import { cloneJoins, type CloneEdit } from './joinRig.js'
import { appeared } from '../../src/space/conflictlog.js'
import { gitAs, gitAsDaemon, mateCommits, pushedWorld, removeGitWorlds } from './gitworld.js'

afterAll(async () => {
  await removeSpaceDirs()
  await removeGitWorlds()
})

/** pat's live space and ann, a live peer holding the same; tina's plain clone. */
async function world(): Promise<{ pat: Node; ann: Node; tina: string }> {
  const { node: pat, mate: tina } = await pushedWorld('pat', 'tina')
  const ann = await Node.make({ name: 'ann', join: await joinCode(pat.root) })
  await ann.start()
  await pass(pat, ann)
  return { pat, ann, tina }
}

/** tina rewrites the file and pushes (a plain-git teammate). */
const tinaCommits = (tina: string, edit: (t: string) => string, who = 'tina') => mateCommits(tina, edit, who)

/** Each conflict's values as `value — writer`, and the daemon's line, on `n`. */
function records(n: Node): Array<{ display: string; values: string[]; line: string }> {
  return n.s.conflicts().map((c) => ({ display: c.display, values: c.values.map((v) => `${v.deleted ? '(deleted)' : v.raw} — ${v.author.name}`), line: appeared(c, n.id) }))
}

describe('credits in conflict records for what a commit brought', () => {
  // Taken in by a pull, or by a checkout of the fetched commit (the tester's fay: "Write docs (dan) — fay").
  it.each(['pull', 'checkout'])("tina's value, taken in by pat's %s, raced by ann's live edit: the record names tina, on both", async (how) => {
    const { pat, ann, tina } = await world()
    await tinaCommits(tina, (t) => t.replace('title: second', 'title: second by tina'))
    await ann.edit((await ann.file())!.replace('title: second', 'title: second by ann'))
    if (how === 'checkout') gitAs(pat.root, ['fetch', '-q', 'origin'], 'pat')
    await gitAsDaemon(pat, how === 'pull' ? ['pull', '-q', '--no-rebase', 'origin', 'main'] : ['checkout', '-q', 'origin/main'], 'pat')
    await pass(pat, ann)
    await pass(ann, pat)
    expect(await ann.file()).toBe(await pat.file())
    for (const n of [pat, ann]) {
      const r = records(n)
      expect(r.map((x) => [x.display, [...x.values].sort()]), JSON.stringify(r)).toEqual([['todos[id=t1].title', ['second by ann — ann', 'second by tina — tina']]])
      expect(r[0]!.line).not.toMatch(/\bpat\b/)
    }
    await ann.close()
    await pat.close()
  })

  it("tina's deletion, pulled by pat, raced by ann's edit of the item: '(deleted) — tina', on both", async () => {
    const { pat, ann, tina } = await world()
    await tinaCommits(tina, (t) => t.replace(/  - id: t1\n(    .*\n)*/, ''))
    await ann.edit((await ann.file())!.replace('title: second', 'title: second by ann'))
    await gitAsDaemon(pat, ['pull', '-q', '--no-rebase', 'origin', 'main'], 'pat')
    await pass(pat, ann)
    await pass(ann, pat)
    expect(await ann.file()).toBe(await pat.file())
    for (const n of [pat, ann]) {
      const r = records(n)
      expect(r.map((x) => [x.display, x.values]), JSON.stringify(r)).toEqual([['todos[id=t1]', ['(deleted) — tina', expect.stringMatching(/ — ann$/)]]])
      expect(r[0]!.line).not.toMatch(/\bpat\b/)
    }
    await ann.close()
    await pat.close()
  })

  // The tester's joiner: a clone of the commit before dan's deletion edits the todo, then joins. Its edit
  // revives the todo against the deletion pat's pull wrote: "(deleted) — pat" on every peer.
  it("dan's deletion, pulled by pat, and a joiner from an older commit that edited the todo: '(deleted) — dan'", async () => {
    const { node: pat, mate: dan, remote } = await pushedWorld('pat', 'dan')
    const ann = await Node.make({ name: 'ann', join: await joinCode(pat.root) })
    await ann.start()
    await pass(pat, ann)
    const base = gitAs(pat.root, ['rev-parse', 'HEAD'], 'pat').trim()
    await tinaCommits(dan, (t) => t.replace(/  - id: t1\n(    .*\n)*/, ''), 'dan')
    await gitAsDaemon(pat, ['pull', '-q', '--no-rebase', 'origin', 'main'], 'pat')
    await pass(pat, ann)
    const cdir = path.join(path.dirname(remote), 'cat')
    gitAs(path.dirname(remote), ['clone', '-q', remote, cdir], 'cat')
    gitAs(cdir, ['checkout', '-q', base], 'cat')
    await init({ cwd: cdir, name: 'cat', discovery: 'none', join: await joinCode(pat.root) })
    const cat = new Node(cdir)
    const edited = SEED.replace('title: second', 'title: second by cat')
    await cat.editOffline(edited)
    const failures: Array<{ kind: string; detail: string }> = []
    await cloneJoins(cat, pat, ann, { text: edited } as CloneEdit, SEED, true, () => 0.9, failures)
    await Promise.all([idle(pat.s), idle(ann.s), idle(cat.s)])
    for (const n of [pat, ann, cat]) {
      const r = [...records(n).map((x) => [x.display, x.values]), ...(await mergeConflicts(spacePaths(n.root), [])).map((x) => [x.display, x.values.map((v) => `${v.deleted ? '(deleted)' : v.raw} — ${v.author.name}`)])]
      expect(r, `${n.s.author.name}: ${JSON.stringify(r)}`).toEqual([['todos[id=t1]', ['(deleted) — dan', expect.stringMatching(/second by cat.* — cat$/)]]])
    }
    for (const n of [cat, ann, pat]) await n.close()
  })

  // The edit side of a delete record is the newest write the deletion had not seen: here pat's resolution,
  // which wrote ann's value anew. It named pat ('edited … — pat', the tester's "— ann" who never touched T-2).
  it("a resolution raced by a deletion: the item as edited is ann's, whose value pat kept", async () => {
    const [pat, ann, bob] = await team(['pat', 'ann', 'bob'])
    await ann.edit((await ann.file())!.replace('title: second', 'title: second by ann'))
    await bob.edit((await bob.file())!.replace('title: second', 'title: second by bob'))
    for (const [a, b] of [[ann, pat], [bob, pat], [ann, bob], [bob, ann]] as const) await pass(a, b)
    const race = pat.s.conflicts().find((c) => c.display === 'todos[id=t1].title')!
    await pat.s.resolve(race.id, race.values.findIndex((v) => v.author.name === 'ann') + 1)
    await idle(pat.s)
    await bob.edit((await bob.file())!.replace(/  - id: t1\n(    .*\n)*/, ''))
    for (const [a, b] of [[pat, ann], [pat, bob], [bob, pat], [bob, ann]] as const) await pass(a, b)
    for (const n of [pat, ann, bob]) {
      const r = records(n)
      expect(r.map((x) => [x.display, x.values]), `${n.s.author.name}: ${JSON.stringify(r)}`).toEqual([['todos[id=t1]', ['(deleted) — bob', expect.stringMatching(/second by ann.* — ann$/)]]])
    }
    for (const n of [bob, ann, pat]) await n.close()
  })
})
