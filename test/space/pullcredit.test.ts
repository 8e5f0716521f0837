/**
 * Values a `git pull` brings are credited to the teammate whose commit wrote them (issue 16 / 15, black-box
 * tester), whatever git did around them: a fast-forward over an uncommitted edit (autostash: git puts the
 * edit aside, moves, and merges it back, so the file is neither the commit's nor the edit's), and a merge
 * (each value to the commit that last changed it; the merge's author only for what the merge itself made).
 */
import { execFileSync } from 'node:child_process'
import fs from 'node:fs/promises'
import path from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { historyOf, versionsDirOf, blameOf } from '../../src/space/versions/index.js'
import { mulberry32 } from '../helpers/random.js'
import { LOAD } from '../../src/crdt/modeltypes.js'
import * as Y from 'yjs'
import { FileDocStore } from '../../src/fs/sidecar.js'
import { spacePaths } from '../../src/space/paths.js'
import { noteAutostash } from '../../src/space/mergestash.js'
import { idle, joinCode, Node, pass, removeSpaceDirs, SEED, TODOS } from './harness.js'
import { gitAs, gitAsDaemon as asDaemon, pushedWorld, removeGitWorlds } from './gitworld.js'

afterAll(async () => {
  await removeSpaceDirs()
  await removeGitWorlds()
})

const git = (cwd: string, args: string[], who = 'pat'): string => gitAs(cwd, args, who)

/** pat's live space, its commit pushed to a bare remote; tina's plain clone of it. */
async function world(seed = SEED): Promise<{ pat: Node; tina: string }> {
  const { node, mate } = await pushedWorld('pat', 'tina', seed)
  return { pat: node, tina: mate }
}

/** tina changes the file and pushes (a plain-git teammate). */
async function tinaCommits(tina: string, from: string, to: string, msg: string): Promise<void> {
  const f = path.join(tina, TODOS)
  const t = await fs.readFile(f, 'utf8')
  if (!t.includes(from)) throw new Error(`tina's file lacks ${from}`)
  await fs.writeFile(f, t.replace(from, to))
  git(tina, ['commit', '-qam', msg], 'tina')
}

/** A git command run as the daemon sees one (gitworld.ts), as pat. */
async function gitAsDaemon(n: Node, args: string[]): Promise<void> {
  await asDaemon(n, args, 'pat')
}

/**
 * History and blame as `ctxsync` shows them. `sidecar`: the CRDT written where a daemon keeps it (the harness
 * keeps it in memory), so that blame asks it who wrote a field its versions name several writers of.
 */
async function credits(n: Node, o: { sidecar?: boolean } = {}): Promise<{ history: Array<{ via: string; by: string[]; fields: string[] }>; blame: Record<string, string[]> }> {
  await n.s.versions!.flushed()
  if (o.sidecar) {
    const store = new FileDocStore({ dir: spacePaths(n.root).docs })
    await store.append(TODOS, n.host().encodeDiff(TODOS, Y.encodeStateVector(new Y.Doc()))!)
    await store.close()
  }
  const dir = versionsDirOf(n.root)
  const history = (await historyOf(dir, { doc: TODOS })).map((e) => ({ via: e.via, by: e.authors.map((a) => a.name), fields: e.fields.map((f) => f.path) }))
  const blame = Object.fromEntries((await blameOf(n.root, dir, TODOS)).map((l) => [l.path, l.authors.map((a) => a.name)]))
  return { history, blame }
}

describe('credits for values a git pull brings', () => {
  it('a fast-forward over an uncommitted edit (autostash): the commit\'s values are its author\'s, the edit pat\'s', async () => {
    const { pat, tina } = await world()
    await tinaCommits(tina, 'title: second', 'title: second by tina', 'tina: t1')
    git(tina, ['push', '-q', 'origin', 'main'], 'tina')
    await pat.edit(SEED.replace('title: first', 'title: first by pat'))
    await idle(pat.s)
    await gitAsDaemon(pat, ['-c', 'merge.autoStash=true', 'pull', '-q', '--no-rebase', 'origin', 'main'])
    expect(await pat.file()).toContain('second by tina')
    expect(await pat.file()).toContain('first by pat')
    const c = await credits(pat)
    expect(c.blame['todos[id=t1].title'], JSON.stringify(c.history)).toEqual(['tina'])
    expect(c.blame['todos[id=t0].title'], JSON.stringify(c.history)).toEqual(['pat'])
    await pat.close()
  })

  // Black-box tester, stop 31, finding 9: the save made right after the pull was diffed against the commit's
  // version (without pat's uncommitted value), so changing that value again read as overwriting it unseen:
  // a race of pat with himself ('you changed it at once'), 3 of 3 runs through two daemons.
  it('a save right after a fast-forward over an uncommitted edit (before the daemon read git\'s work): no race with oneself', async () => {
    const { pat, tina } = await world()
    await tinaCommits(tina, 'title: second', 'title: second by tina', 'tina: t1')
    git(tina, ['push', '-q', 'origin', 'main'], 'tina')
    await pat.edit(SEED.replace('title: first', 'title: first by pat'))
    await idle(pat.s)
    const file = path.join(pat.root, TODOS)
    await asDaemon(pat, ['-c', 'merge.autoStash=true', 'pull', '-q', '--no-rebase', 'origin', 'main'], 'pat', async () => {
      await fs.writeFile(file, (await fs.readFile(file, 'utf8')).replace('first by pat', 'first by pat, again'))
    })
    expect(await pat.file()).toContain('second by tina')
    expect(await pat.file()).toContain('first by pat, again')
    expect(pat.s.conflicts()).toEqual([])
    await pat.close()
  })

  // The save and the commit end in one version here (a version is a text the file held), written by both.
  it('a save the live context had not taken in before the pull stays, as pat\'s edit', async () => {
    const { pat, tina } = await world()
    await tinaCommits(tina, 'title: second', 'title: second by tina', 'tina: t1')
    git(tina, ['push', '-q', 'origin', 'main'], 'tina')
    await pat.editOffline(SEED.replace('title: first', 'title: first by pat'))
    await gitAsDaemon(pat, ['-c', 'merge.autoStash=true', 'pull', '-q', '--no-rebase', 'origin', 'main'])
    expect(await pat.file()).toContain('second by tina')
    expect(await pat.file()).toContain('first by pat')
    const c = await credits(pat)
    expect(c.blame['todos[id=t1].title'], JSON.stringify(c.history)).toContain('tina')
    expect(c.blame['todos[id=t0].title'], JSON.stringify(c.history)).toContain('pat')
    await pat.close()
  })

  // The same turn as seen by blame, which asks the CRDT who wrote each field of a version naming both: the
  // register's writer is pat's daemon for both titles, and tina's was blamed on pat (issue 13, stop 31).
  // `noted`: the merge driver noted what the autostash held (mergestash.ts), so the save is taken in before
  // what came, and the commit's mark follows pat's value in the CRDT too.
  it.each([false, true])('a save taken in in the pull\'s turn (stash noted: %s): blame gives the pulled title to tina alone, the saved one to pat', async (noted) => {
    const { pat, tina } = await world()
    // Committed a minute ago: the commit's values are stamped with its time, the save with its own.
    const past = new Date(Date.now() - 60_000).toISOString()
    const f = path.join(tina, TODOS)
    await fs.writeFile(f, (await fs.readFile(f, 'utf8')).replace('title: second', 'title: second by tina'))
    execFileSync('git', ['-c', 'user.name=tina', '-c', 'user.email=tina@example.com', 'commit', '-qam', 'tina: t1'], { cwd: tina, env: { ...process.env, GIT_AUTHOR_DATE: past, GIT_COMMITTER_DATE: past } })
    git(tina, ['push', '-q', 'origin', 'main'], 'tina')
    const saved = SEED.replace('title: first', 'title: first by pat')
    await pat.editOffline(saved)
    const file = path.join(pat.root, TODOS)
    await asDaemon(pat, ['-c', 'merge.autoStash=true', 'pull', '-q', '--no-rebase', 'origin', 'main'], 'pat', async () => {
      if (!noted) return
      const blob = execFileSync('git', ['hash-object', '-w', '--stdin'], { cwd: pat.root, input: saved, encoding: 'utf8' }).trim()
      await noteAutostash(spacePaths(pat.root), TODOS, await fs.readFile(file, 'utf8'), blob)
    })
    expect(await pat.file()).toContain('second by tina')
    const c = await credits(pat, { sidecar: true })
    expect(c.blame['todos[id=t1].title'], JSON.stringify(c.history)).toEqual(['tina'])
    expect(c.blame['todos[id=t0].title'], JSON.stringify(c.history)).toEqual(['pat'])
    await pat.close()
  })

  // pat's own commit from another clone (plain git, no sync point: credited to `git:pat@…`, named pat) and his
  // save on this one, in one version: its writers were listed "pat, pat" (black-box tester stop 31, finding 10).
  it('pat\'s commit from another clone pulled with his pending save: history names pat once', async () => {
    const { pat, tina: other } = await world()
    await tinaCommits(other, 'title: second', 'title: second by pat elsewhere', 'pat: t1')
    git(other, ['commit', '-q', '--amend', '--no-edit', '--reset-author'], 'pat')
    git(other, ['push', '-q', 'origin', 'main'], 'pat')
    await pat.editOffline(SEED.replace('title: first', 'title: first by pat'))
    await gitAsDaemon(pat, ['-c', 'merge.autoStash=true', 'pull', '-q', '--no-rebase', 'origin', 'main'])
    const c = await credits(pat)
    expect(c.history.map((e) => e.by), JSON.stringify(c.history)).toEqual([['pat'], ['pat']])
    expect(c.blame['todos[id=t1].title']).toEqual(['pat'])
    await pat.close()
  })

  it('a merge: the values of tina\'s commits are tina\'s, not the merge author\'s', async () => {
    const { pat, tina } = await world()
    await tinaCommits(tina, 'title: second', 'title: second by tina', 'tina: t1')
    await tinaCommits(tina, 'second by tina\n    status: todo', 'second by tina\n    status: doing', 'tina: t1 status')
    git(tina, ['push', '-q', 'origin', 'main'], 'tina')
    // pat's own commit, made with the daemon running (its text is the live context's).
    await pat.edit(SEED.replace('title: first', 'title: first by pat'))
    await idle(pat.s)
    git(pat.root, ['commit', '-qam', 'pat: t0'])
    await gitAsDaemon(pat, ['pull', '-q', '--no-rebase', '--no-edit', 'origin', 'main'])
    const text = (await pat.file())!
    expect(text).toContain('second by tina')
    expect(text).toContain('first by pat')
    expect(text).toContain('status: doing')
    const c = await credits(pat)
    const h = JSON.stringify(c.history)
    expect(c.blame['todos[id=t1].title'], h).toEqual(['tina'])
    expect(c.blame['todos[id=t1].status'], h).toEqual(['tina'])
    expect(c.blame['todos[id=t0].title'], h).toEqual(['pat'])
    expect(c.history.filter((e) => e.via === 'git' && e.by.includes('pat')), h).toEqual([])
    await pat.close()
  })

  it('git pull --rebase over a commit of pat\'s and an uncommitted edit: tina\'s values are tina\'s', async () => {
    const { pat, tina } = await world()
    await tinaCommits(tina, 'title: second', 'title: second by tina', 'tina: t1')
    git(tina, ['push', '-q', 'origin', 'main'], 'tina')
    await pat.edit(SEED.replace('title: first', 'title: first by pat'))
    await idle(pat.s)
    git(pat.root, ['commit', '-qam', 'pat: t0'])
    await pat.edit((await pat.file())!.replace('status: todo', 'status: done'))
    await idle(pat.s)
    await gitAsDaemon(pat, ['-c', 'rebase.autoStash=true', 'pull', '-q', '--rebase', 'origin', 'main'])
    const text = (await pat.file())!
    expect(text).toContain('second by tina')
    expect(text).toContain('first by pat')
    expect(text).toContain('status: done')
    const c = await credits(pat)
    const h = JSON.stringify(c.history)
    expect(c.blame['todos[id=t1].title'], h).toEqual(['tina'])
    expect(c.blame['todos[id=t0].title'], h).toEqual(['pat'])
    expect(c.blame['todos[id=t0].status'], h).toEqual(['pat'])
    await pat.close()
  })

  // One pull, two teammates' commits: each title is its own writer's, on pat who pulled and on ann, a live
  // peer (pat's updates sent one by one, as a session does). Folded into one version written by both, every
  // field was blamed on both. A peer catching up later (cat) gets them in one update: a version each too
  // (crdt/stepstates.ts).
  it('a pull of tina\'s and dan\'s commits: each field is its writer\'s alone, on the puller and a live peer', async () => {
    const { pat, tina } = await world()
    const ann = await Node.make({ name: 'ann', join: await joinCode(pat.root) })
    const cat = await Node.make({ name: 'cat', join: await joinCode(pat.root) })
    // cat catches up after the pull: both commits in one update (one version naming both, before).
    const catchUp = async () => {
      const u = pat.host().encodeDiff(TODOS, cat.host().stateVector(TODOS))
      if (u) await cat.s.applyRemote(TODOS, u, pat.id)
      await idle(cat.s)
    }
    await ann.start()
    await cat.start()
    await catchUp()
    const u = pat.host().encodeDiff(TODOS, ann.host().stateVector(TODOS))
    if (u) await ann.s.applyRemote(TODOS, u, pat.id)
    await idle(ann.s)
    const sent: Uint8Array[] = []
    pat.s.doc(TODOS)!.model.doc.on('update', (x: Uint8Array, origin: unknown) => void (origin === LOAD || sent.push(x)))
    await tinaCommits(tina, 'title: first', 'title: first by tina', 'tina: t0')
    await tinaCommits(tina, 'title: second', 'title: second by dan', 'dan: t1')
    git(tina, ['commit', '-q', '--amend', '--no-edit', '--author', 'dan <dan@example.com>'], 'dan')
    git(tina, ['push', '-q', 'origin', 'main'], 'tina')
    await gitAsDaemon(pat, ['pull', '-q', '--no-rebase', 'origin', 'main'])
    for (const x of sent) await ann.s.applyRemote(TODOS, x, pat.id)
    await idle(ann.s)
    await catchUp()
    for (const n of [pat, ann, cat]) {
      expect(await n.file()).toContain('second by dan')
      const c = await credits(n)
      const h = `${n.s.author.name}: ${JSON.stringify(c.history)}`
      expect(c.blame['todos[id=t0].title'], h).toEqual(['tina'])
      expect(c.blame['todos[id=t1].title'], h).toEqual(['dan'])
      expect(c.history.filter((e) => e.via === 'git').map((e) => [e.by, e.fields]), h).toEqual([[['dan'], ['todos[id=t1].title']], [['tina'], ['todos[id=t0].title']]])
    }
    await cat.close()
    await ann.close()
    await pat.close()
  })

  // pat pulls tina's commit while his daemon is stopped (autostash over his uncommitted edit); ann had changed
  // the same title live after tina committed. pat's next start took the pulled file for his own edit, made
  // now: tina's older value won on every peer, credited to pat (black-box tester, issue 16).
  it("a pull while pat's daemon was stopped: tina's value is hers, at her commit's time; ann's later edit wins", async () => {
    const { pat, tina } = await world()
    const ann = await Node.make({ name: 'ann', join: await joinCode(pat.root) })
    await ann.start()
    await pass(pat, ann)
    // Not beside tina's line: git's autostash apply would conflict on adjacent lines (no driver in this repo).
    await pat.edit(SEED.replace('title: second\n    status: todo', 'title: second\n    status: done'))
    await pass(pat, ann)
    await pat.close()
    const past = new Date(Date.now() - 60_000).toISOString()
    const f = path.join(tina, TODOS)
    await fs.writeFile(f, (await fs.readFile(f, 'utf8')).replace('title: first', 'title: first by tina'))
    execFileSync('git', ['-c', 'user.name=tina', '-c', 'user.email=tina@example.com', 'commit', '-qam', 'tina: t0'], { cwd: tina, env: { ...process.env, GIT_AUTHOR_DATE: past, GIT_COMMITTER_DATE: past } })
    git(tina, ['push', '-q', 'origin', 'main'], 'tina')
    await ann.edit((await ann.file())!.replace('title: first', 'title: first by ann'))
    git(pat.root, ['-c', 'merge.autoStash=true', 'pull', '-q', '--no-rebase', 'origin', 'main'])
    await pat.start()
    await pass(pat, ann)
    await pass(ann, pat)
    const text = (await pat.file())!
    expect(await ann.file()).toBe(text)
    expect(text).toContain('title: first by ann')
    expect(text).toContain('status: done')
    const c = await credits(pat)
    expect(c.history.filter((e) => e.fields.includes('todos[id=t0].title')).map((e) => [e.via, e.by]), JSON.stringify(c.history)).toContainEqual(['git', ['tina']])
    expect(c.history.some((e) => e.via === 'local' && e.fields.includes('todos[id=t0].title')), JSON.stringify(c.history)).toBe(false)
    expect(c.blame['todos[id=t0].title']).toEqual(['ann'])
    await ann.close()
    await pat.close()
  })

  /**
   * Seeded rounds: teammates (tina, dan: plain git, one clone) commit titles; pat commits a live edit or
   * not, leaves one uncommitted or not, and pulls by merge or rebase (autostash). Every title is blamed on
   * its writer alone: pat on none of theirs, and, where several teammates' commits come in one pull, each
   * title on the one whose commit wrote it.
   */
  it('generator: whoever pulls, by whatever pull, each title is its writer\'s', async () => {
    const N = 8
    const seed = 'todos:\n' + Array.from({ length: N }, (_, i) => `  - id: t${i}\n    title: t${i}\n    status: todo\n`).join('')
    // PULLCREDIT_SEEDS=from-to runs more seeds (CI: 1-3).
    const [lo, hi] = (process.env.PULLCREDIT_SEEDS ?? '1-3').split('-').map(Number) as [number, number]
    for (let s = lo; s <= hi; s++) {
      const rnd = mulberry32(s)
      const { pat, tina: team } = await world(seed)
      const writer = new Map<string, string>()
      const label = new Map<string, string>()
      let round = 0
      const title = (t: string, i: number) => new RegExp(`(- id: t${i}\\n {4}title: )[^\\n]*`).exec(t) ? t.replace(new RegExp(`(- id: t${i}\\n {4}title: )[^\\n]*`), `$1t${i} by ${writer.get(`t${i}`)} ${s}.${round}`) : t
      for (round = 0; round < 4; round++) {
        const items = Array.from({ length: N }, (_, i) => i).sort(() => rnd() - 0.5)
        const who = (['tina', 'dan'] as const).filter(() => rnd() < 0.7)
        if (who.length === 0) who.push('dan')
        git(team, ['pull', '-q', '--no-rebase', 'origin', 'main'], 'team')
        for (const w of who) {
          const i = items.pop()!
          writer.set(`t${i}`, w)
          label.set(`t${i}`, `${w} ${s}.${round}`)
          const f = path.join(team, TODOS)
          await fs.writeFile(f, title(await fs.readFile(f, 'utf8'), i))
          git(team, ['commit', '-qam', `${w}: t${i}`], w)
        }
        git(team, ['push', '-q', 'origin', 'main'], 'team')
        for (const step of ['commit', 'uncommitted'] as const) {
          if (rnd() < 0.4) continue
          const i = items.pop()!
          writer.set(`t${i}`, 'pat')
          label.set(`t${i}`, `pat ${s}.${round}`)
          await pat.edit(title((await pat.file())!, i))
          await idle(pat.s)
          if (step === 'commit') git(pat.root, ['commit', '-qam', `pat: t${i}`])
        }
        const how = rnd() < 0.5 ? ['--no-rebase', '--no-edit'] : ['--rebase']
        const pull = ['-c', 'merge.autoStash=true', '-c', 'rebase.autoStash=true', 'pull', '-q', ...how, 'origin', 'main']
        // Or pulled while pat's daemon is stopped: the next start takes it in (lasthead.ts). It took the
        // autostashed file for pat's own edit: every pulled title was pat's (black-box tester, issue 16).
        const stopped = rnd() < 0.35
        if (stopped) {
          await pat.close()
          git(pat.root, pull)
          await pat.start()
        } else await gitAsDaemon(pat, pull)
        const c = await credits(pat)
        const ctx = `seed ${s} round ${round} (${how[0]}${stopped ? ', daemon stopped' : ''}): ${JSON.stringify(c.history)}`
        for (const [item, w] of writer) {
          expect(await pat.file(), ctx).toContain(`title: ${item} by ${label.get(item)!}\n`)
          const by = c.blame[`todos[id=${item}].title`] ?? []
          expect(by, `${item} by ${w}, ${ctx}`).toEqual([w])
        }
        git(pat.root, ['commit', '-qam', `pat: round ${round}`, '--allow-empty'])
        git(pat.root, ['push', '-q', 'origin', 'HEAD:main'])
      }
      await pat.close()
    }
  }, 300_000)
})
