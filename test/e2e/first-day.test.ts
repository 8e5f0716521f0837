/**
 * A newcomer's first day, scripted (issue 17): two teammates, ann and bob, each in a clone of one
 * repository, through the built CLI — init, invite, join, watch (daemons), an edit, a conflict (both
 * change one value while bob is offline), resolve, log, hooks install, a commit, stop. Its whole output
 * (every command's stdout, stderr and exit code, and the daemons' logs as they grow) is kept, normalised,
 * in __snapshots__/first-day.txt, for a reviewer to read as a newcomer would; the test fails when any of it
 * changes. Update it on purpose with `npx vitest run test/e2e/first-day.test.ts -u`, and read the diff.
 *
 * Each step waits for the state it leads to (a file synced, a log line, a conflict listed) before the next,
 * so the transcript comes out the same on every run.
 */
import { afterAll, afterEach, expect, it } from 'vitest'
import {
  clone, ctx, edit, freePort, git, killAll, makeRepo, readFile, removeTmpDirs, repoRoot, startWatch, TODOS, waitFor, waitLog, waitSame,
  type Daemon, type Peer, type RunResult,
} from './helpers.js'
import { Transcript } from './transcript.js'

afterEach(killAll)
afterAll(removeTmpDirs)

const TEAM_TODOS = `# What the team is doing
todos:
  - id: t1
    title: "Write the README"   # keep it short
    status: open
  - id: t2
    title: "Set up CI"
    status: open
`

it('first day: init, invite, join, watch, edit, conflict, resolve, log, hooks, stop', async () => {
  const t = new Transcript()
  const origin = await makeRepo({ [TODOS]: TEAM_TODOS })
  const ann: Peer = { name: 'ann', dir: await clone(origin, 'ann'), port: await freePort(), url: '' }
  const bob: Peer = { name: 'bob', dir: '', port: await freePort(), url: '' }
  ann.url = `ws://127.0.0.1:${ann.port}`
  bob.url = `ws://127.0.0.1:${bob.port}`
  t.name(ann.dir, '<tmp>/ann')
  t.name(origin, '<tmp>/origin')
  t.name(ann.port, '<ann-port>')
  t.name(bob.port, '<bob-port>')
  t.name(process.execPath, '<node>')
  t.name(repoRoot, '<ctxsync>')
  const run = async (p: Peer, args: string[], shown = args.join(' ')): Promise<RunResult> => {
    const r = await ctx(p.dir, args)
    t.command(p.name, `ctxsync ${shown}`, r)
    return r
  }
  const ok = (r: RunResult) => expect(r.exitCode, `${r.stdout}\n${r.stderr}`).toBe(0)
  const logs = { ann: { upTo: 0 }, bob: { upTo: 0 } }
  const daemons: { ann?: Daemon; bob?: Daemon } = {}
  // Presence (who is editing what) is announced 250 ms after an edit, apart from the edit itself: wait for it
  // before a `status` that shows it.
  const editing = (p: Peer, who: string) => waitFor(async () => {
    const s = JSON.parse((await ctx(p.dir, ['status', '--json'])).stdout)
    return s.online?.some((o: { name: string; files: unknown[] }) => o.name === who && o.files.length > 0) === true
  }, 15_000, `${p.name} to see ${who} editing`)
  const showLogs = () => {
    for (const who of ['ann', 'bob'] as const) if (daemons[who]) t.daemonLog(who, daemons[who]!.log(), logs[who])
  }

  t.note('ann creates the space in her clone of the team repository (.rhema/todos.yaml is committed) and commits ctxsync.yaml')
  const init = await run(ann, ['init', '--name', 'ann', '--discovery', 'none', '--port', String(ann.port)])
  ok(init)
  await git(ann.dir, ['add', 'ctxsync.yaml', '.gitignore'])
  await git(ann.dir, ['commit', '-qm', 'ctxsync'])
  const first = (await git(ann.dir, ['rev-parse', 'HEAD'])).trim()
  t.name(first, '<commit-1>')
  t.name(first.slice(0, 7), '<commit-1-short>')
  t.note('ann runs init again, to be sure')
  ok(await run(ann, ['init']))
  t.note('ann invites bob')
  const invite = await run(ann, ['invite'])
  ok(invite)
  const code = invite.stdout.trim().split('\n').at(-1)!

  t.note("bob clones ann's repository and joins with the code; told that he needs a peer, he names ann's daemon")
  bob.dir = await clone(ann.dir, 'bob')
  t.name(bob.dir, '<tmp>/bob')
  ok(await run(bob, ['init', '--join', code, '--name', 'bob', '--port', String(bob.port)], `init --join <join-code> --name bob --port ${bob.port}`))
  ok(await run(bob, ['init', '--peer', ann.url]))
  ok(await run(bob, ['status']))

  t.note('both start the daemon (`ctxsync watch`, left running in a terminal of its own)')
  daemons.ann = await startWatch(ann)
  daemons.bob = await startWatch(bob)
  await waitLog(daemons.bob, /connected to ann/)
  await waitLog(daemons.ann, /connected to bob/)
  showLogs()

  t.note('ann renames a todo in her editor; it reaches bob')
  const renamed = await edit(ann, 'title: "Set up CI"', 'title: "Set up CI on every push"')
  await waitSame([ann, bob], TODOS, (x) => x === renamed)
  await waitLog(daemons.ann, /your edit taken in/)
  await waitLog(daemons.bob, /updated \.rhema\/todos\.yaml/)
  showLogs()
  await editing(bob, 'ann')
  ok(await run(bob, ['status']))

  t.note("bob stops his daemon; both mark the first todo, ann 'done', bob (offline) 'blocked'; bob starts his daemon again")
  ok(await run(bob, ['stop']))
  await daemons.bob.proc
  await waitLog(daemons.ann, /disconnected from bob/)
  await edit(ann, 'status: open\n  - id: t2', 'status: done\n  - id: t2')
  await waitLog(daemons.ann, /(your edit taken in[^]*){2}/)
  await edit(bob, 'status: open\n  - id: t2', 'status: blocked\n  - id: t2')
  showLogs()
  logs.bob.upTo = 0
  daemons.bob = await startWatch(bob)
  await waitLog(daemons.bob, /connected to ann/)
  const merged = await waitSame([ann, bob])
  let conflictId = ''
  await waitFor(async () => {
    const r = await ctx(bob.dir, ['resolve', '--list', '--json'])
    conflictId = r.exitCode === 0 ? (JSON.parse(r.stdout).conflicts[0]?.id ?? '') : ''
    return conflictId !== ''
  }, 15_000, 'the conflict to be listed on bob')
  await waitFor(async () => JSON.parse((await ctx(ann.dir, ['status', '--json'])).stdout).conflicts === 1, 15_000, 'the conflict on ann')
  t.name(conflictId, '<conflict-id>')
  await waitLog(daemons.ann, /conflict in/)
  await waitLog(daemons.bob, /conflict in/)
  showLogs()
  expect(merged).toContain('status: blocked')

  t.note('bob looks, and keeps ann\'s value')
  await editing(bob, 'ann')
  expect((await run(bob, ['status'])).exitCode).toBe(0)
  ok(await run(bob, ['resolve', '--list']))
  ok(await run(bob, ['resolve', conflictId, '--take', '1']))
  const resolved = await waitSame([ann, bob], TODOS, (x) => x.includes('status: done'))
  await waitLog(daemons.ann, /conflict \S+ resolved/)
  await waitLog(daemons.bob, /conflict \S+ resolved/)
  showLogs()
  await editing(ann, 'bob')
  ok(await run(ann, ['status']))

  t.note('ann looks at the sync points of her commits, installs the git hooks, commits, and looks again')
  ok(await run(ann, ['log']))
  ok(await run(ann, ['hooks', 'install']))
  await git(ann.dir, ['commit', '-qam', 'todos: CI on every push'])
  const head = (await git(ann.dir, ['rev-parse', 'HEAD'])).trim()
  t.name(head, '<commit-2>')
  t.name(head.slice(0, 7), '<commit-2-short>')
  await waitFor(async () => (await ctx(ann.dir, ['log', '--json'])).stdout.includes(head), 15_000, 'the sync point of the commit')
  ok(await run(ann, ['log']))

  t.note('the end of the day: both stop their daemons')
  ok(await run(bob, ['stop']))
  await daemons.bob.proc
  await waitLog(daemons.ann, /(disconnected from bob[^]*){2}/)
  ok(await run(ann, ['stop']))
  await daemons.ann.proc
  showLogs()
  expect(readFile(ann)).toBe(resolved)

  await expect(t.text()).toMatchFileSnapshot('__snapshots__/first-day.txt')
}, 180_000)
