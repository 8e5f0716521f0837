/**
 * The merge driver on real repositories: two branches change the context file in divergent ways and are
 * merged — once by a clone with `ctxsync hooks install` (the driver), once by a plain clone (git's text
 * merge). The driver must leave no markers, keep every non-conflicting change and list the conflicts; the
 * number of conflicts git produced is recorded beside ours (printed as a table).
 */
import fs from 'node:fs'
import path from 'node:path'
import { afterAll, afterEach, describe, expect, it } from 'vitest'
import { ctx, ctxJson, freePort, killAll, removeTmpDirs, repoRoot, TODOS, waitFor } from './helpers.js'
import { bareRemote, cloneAs, CONTEXT_TODOS, countLine, founder, gitIn, gitTeam, hasMarkers, joiner, markerHunks, read, replaceIn } from './gitHelpers.js'

afterEach(killAll)
afterAll(removeTmpDirs)

type Edit = [from: string, to: string]
interface Scenario {
  name: string
  ours: Edit[]
  theirs: Edit[]
  /** Lines the merged file must hold exactly once. */
  keeps: string[]
  conflicts: number
}

const T4 = `  - id: t3\n    title: "Ship it"\n    status: open\n  - id: t4\n    title: "Write the docs"\n    status: open\n`
const T5 = `  - id: t3\n    title: "Ship it"\n    status: open\n  - id: t5\n    title: "Benchmark it"\n    status: open\n`
const END = `  - id: t3\n    title: "Ship it"\n    status: open\n`

const SCENARIOS: Scenario[] = [
  { name: 'different todos added', ours: [[END, T4]], theirs: [[END, T5]], keeps: ['- id: t4', '- id: t5', 'title: "Write the docs"', 'title: "Benchmark it"'], conflicts: 0 },
  { name: "the same todo's status", ours: [['status: open\n    tags: [core', 'status: done\n    tags: [core']], theirs: [['status: open\n    tags: [core', 'status: blocked\n    tags: [core']], keeps: ['- id: t1'], conflicts: 1 },
  { name: 'tags', ours: [['tags: [core, parser]', 'tags: [core, parser, urgent]']], theirs: [['tags: [core, parser]', 'tags: [core, parser, v2]']], keeps: [], conflicts: 0 },
  {
    name: 'a description',
    ours: [['Parse the YAML losslessly.', 'Parse the YAML losslessly, byte for byte.']],
    theirs: [['Keep comments where they were.', 'Keep comments and blank lines where they were.']],
    keeps: ['Parse the YAML losslessly, byte for byte.', 'Keep comments and blank lines where they were.', 'Report errors with line and column.'],
    conflicts: 0,
  },
  {
    name: 'all of it at once',
    ours: [[END, T4], ['status: open\n    tags: [core', 'status: done\n    tags: [core'], ['tags: [core, parser]', 'tags: [core, parser, urgent]'], ['Parse the YAML losslessly.', 'Parse the YAML losslessly, byte for byte.'], ['      - second note', '      - second note\n      - a note from ours']],
    theirs: [[END, T5], ['status: open\n    tags: [core', 'status: blocked\n    tags: [core'], ['tags: [core, parser]', 'tags: [core, parser, v2]'], ['Keep comments where they were.', 'Keep comments and blank lines where they were.'], ['    title: "Fix the renderer"', '    title: "Fix the renderer (and the printer)"']],
    keeps: ['- id: t4', '- id: t5', 'Parse the YAML losslessly, byte for byte.', 'Keep comments and blank lines where they were.', '- a note from ours', 'title: "Fix the renderer (and the printer)"', '- first note', '- second note'],
    conflicts: 1,
  },
]

describe('e2e: merge driver vs plain git', { timeout: 180_000 }, () => {
  it('merges divergent context without markers, keeping every non-conflicting change; git conflicts where we do not', async () => {
    const { remote, a, joined: [driver] } = await gitTeam(['dora']) as { remote: string; a: { dir: string; code: string }; joined: [string] }
    const plain = await cloneAs(remote, 'pat') // git only: .gitattributes names a driver its config lacks
    const rows: Array<{ scenario: string; git: number; gitExit: number; ours: number; markers: boolean }> = []

    for (const [i, s] of SCENARIOS.entries()) {
      const [bo, bt] = [`s${i}-ours`, `s${i}-theirs`]
      for (const [branch, edits] of [[bo, s.ours], [bt, s.theirs]] as const) {
        await gitIn(a.dir, ['checkout', '-q', '-B', branch, 'origin/main'])
        for (const [from, to] of edits) await replaceIn(a.dir, TODOS, from, to)
        await gitIn(a.dir, ['commit', '-qam', `${s.name}: ${branch}`])
        await gitIn(a.dir, ['push', '-q', 'origin', branch])
      }

      // With the driver.
      await gitIn(driver, ['fetch', '-q', 'origin'])
      await gitIn(driver, ['checkout', '-q', '-B', `m${i}`, `origin/${bo}`])
      const m = await gitIn(driver, ['merge', '--no-edit', `origin/${bt}`], { reject: false })
      const merged = await read(driver, TODOS)
      expect(m.exitCode, `${s.name}: git merge with the driver\n${m.stdout}${m.stderr}`).toBe(0)
      expect(hasMarkers(merged), merged).toBe(false)
      for (const line of s.keeps) expect(countLine(merged, line), `${s.name}: "${line}" once in\n${merged}`).toBe(1)
      const conflicts = (await ctxJson(driver, ['resolve', '--list'])).conflicts.filter((c: { file: string }) => c.file === TODOS)
      expect(conflicts.length, `${s.name}: conflicts ${JSON.stringify(conflicts, null, 1)}`).toBe(s.conflicts)

      // Plain git, same commits.
      await gitIn(plain, ['fetch', '-q', 'origin'])
      await gitIn(plain, ['checkout', '-q', '-B', `m${i}`, `origin/${bo}`])
      const p = await gitIn(plain, ['merge', '--no-edit', `origin/${bt}`], { reject: false })
      const text = await read(plain, TODOS)
      rows.push({ scenario: s.name, git: markerHunks(text), gitExit: p.exitCode, ours: conflicts.length, markers: hasMarkers(merged) })
      await gitIn(plain, ['merge', '--abort'], { reject: false })
      await gitIn(plain, ['reset', '-q', '--hard'])
    }

    const w = Math.max(...rows.map((r) => r.scenario.length))
    const table = [
      `${'scenario'.padEnd(w)}  git conflicts (hunks)  ctxsync conflicts  markers left by ctxsync`,
      ...rows.map((r) => `${r.scenario.padEnd(w)}  ${String(r.git).padStart(21)}  ${String(r.ours).padStart(17)}  ${r.markers ? 'yes' : 'no'}`),
    ].join('\n')
    console.log(`\nmerge of two branches' context, plain git vs ctxsync merge driver:\n${table}\n`)
    fs.mkdirSync(path.join(repoRoot, 'bench/out'), { recursive: true })
    fs.writeFileSync(path.join(repoRoot, 'bench/out/merge-vs-git.txt'), table + '\n')
    // Git's text merge conflicts on every scenario but the one with far-apart lines; the driver only where
    // both sides set one value.
    expect(rows.filter((r) => r.git > 0).length).toBeGreaterThanOrEqual(3)
  })

  it('resolves a merge conflict with `resolve ID --take N`: the value changes in the file, nothing else', async () => {
    const { a, joined: [d] } = await gitTeam(['dora']) as { a: { dir: string; code: string }; joined: [string] }
    for (const [branch, value] of [['x', 'done'], ['y', 'blocked']]) {
      await gitIn(a.dir, ['checkout', '-q', '-B', branch, 'origin/main'])
      await replaceIn(a.dir, TODOS, 'status: open\n    tags: [core', `status: ${value}\n    tags: [core`)
      await gitIn(a.dir, ['commit', '-qam', branch])
      await gitIn(a.dir, ['push', '-q', 'origin', branch])
    }
    await gitIn(d, ['fetch', '-q', 'origin'])
    await gitIn(d, ['checkout', '-q', '-B', 'm', 'origin/x'])
    await gitIn(d, ['merge', '--no-edit', 'origin/y'])
    const before = await read(d, TODOS)
    const [c] = (await ctxJson(d, ['resolve', '--list'])).conflicts
    expect(c.values.map((v: { raw: string }) => v.raw).sort()).toEqual(['blocked', 'done'])
    const loser = c.values.findIndex((_: unknown, i: number) => i + 1 !== c.winner) + 1
    const r = await ctx(d, ['resolve', c.id, '--take', String(loser)])
    expect(r.exitCode, r.stderr).toBe(0)
    const after = await read(d, TODOS)
    expect(after).toBe(before.replace(`status: ${c.values[c.winner - 1].raw}`, `status: ${c.values[loser - 1].raw}`))
    expect((await ctxJson(d, ['resolve', '--list'])).conflicts).toEqual([])
  })

  it('run as git runs it (no repository needed): merges in place, a line both sides added once; a missing version is a clear error', async () => {
    const dir = fs.mkdtempSync(path.join(repoRoot, '.tmp-md-'))
    try {
      const base = 'todos:\n  - id: a\n    status: open\n  - id: b\n    status: open\n'
      fs.writeFileSync(path.join(dir, 'O'), base)
      fs.writeFileSync(path.join(dir, 'A'), base.replace('id: a\n    status: open', 'id: a\n    status: done'))
      fs.writeFileSync(path.join(dir, 'B'), base.replace('id: b\n    status: open', 'id: b\n    status: blocked'))
      const r = await ctx(dir, ['merge-driver', 'O', 'A', 'B', '.rhema/todos.yaml'])
      expect(r.exitCode).toBe(0)
      expect(fs.readFileSync(path.join(dir, 'A'), 'utf8')).toBe('todos:\n  - id: a\n    status: done\n  - id: b\n    status: blocked\n')
      // Both changed one value, outside any space: no record is kept, so no pointing to `resolve` (issue 17).
      fs.writeFileSync(path.join(dir, 'C'), base.replace('id: a\n    status: open', 'id: a\n    status: wontfix'))
      fs.writeFileSync(path.join(dir, 'D'), base.replace('id: a\n    status: open', 'id: a\n    status: started'))
      const both = await ctx(dir, ['merge-driver', 'O', 'C', 'D', '.rhema/todos.yaml'])
      expect(both.exitCode).toBe(0)
      expect(both.stderr).toMatch(/1 value\(s\) changed on both sides — kept one, with no record to choose another \(no ctxsync space here\)/)
      // A line both sides added (made live, committed on one clone, still in the other's working files) is
      // merged once, as git would (black-box tester, stop 25: `line C` twice after a pull).
      const nb = 'todos:\n  - id: T-1\n    title: x\n    notes: |\n      line A\n'
      fs.writeFileSync(path.join(dir, 'N0'), nb)
      fs.writeFileSync(path.join(dir, 'N1'), nb.replace('title: x', 'title: y').replace('line A\n', 'line A\n      line C\n'))
      fs.writeFileSync(path.join(dir, 'N2'), nb.replace('line A\n', 'line A\n      line C\n'))
      expect((await ctx(dir, ['merge-driver', 'N0', 'N1', 'N2', '.rhema/todos.yaml'])).exitCode).toBe(0)
      expect(fs.readFileSync(path.join(dir, 'N1'), 'utf8')).toBe('todos:\n  - id: T-1\n    title: y\n    notes: |\n      line A\n      line C\n')
      const bad = await ctx(dir, ['merge-driver', 'O', 'A', 'missing', '.rhema/todos.yaml'])
      expect(bad.exitCode).toBe(2)
      expect(bad.stderr).toMatch(/^ctxsync: merge-driver: cannot read missing: ENOENT/)
      expect(fs.readFileSync(path.join(dir, 'A'), 'utf8')).toContain('status: blocked') // untouched
    } finally {
      fs.rmSync(dir, { recursive: true, force: true })
    }
  })

  it('falls back to git\'s text merge, saying why, when a side is not valid YAML', async () => {
    const { a } = await gitTeam()
    await gitIn(a.dir, ['checkout', '-q', '-B', 'bad', 'origin/main'])
    await replaceIn(a.dir, TODOS, 'title: "Fix the renderer"', 'title: [Fix the renderer')
    await gitIn(a.dir, ['commit', '-qam', 'bad'])
    await gitIn(a.dir, ['checkout', '-q', 'main'])
    await replaceIn(a.dir, TODOS, 'title: "Fix the renderer"', 'title: "Fix the renderer now"')
    await gitIn(a.dir, ['commit', '-qam', 'good'])
    const m = await gitIn(a.dir, ['merge', '--no-edit', 'bad'], { reject: false })
    expect(m.exitCode).not.toBe(0)
    expect(m.stdout + m.stderr).toMatch(/their version is not valid YAML \(line \d+, column \d+: .+\); falling back to git's text merge/)
    expect(hasMarkers(await read(a.dir, TODOS))).toBe(true)
  })

  it('hostile shapes finish: a flat mapping merges; 20k `<<` keys and big flow maps go to git\'s text merge past the budget or the size limit', async () => {
    const dir = fs.mkdtempSync(path.join(repoRoot, '.tmp-md-'))
    const flat = Array.from({ length: 30_000 }, (_, i) => `key${i}: value number ${i}`).join('\n') + '\n'
    const mergeKeys = 'base: &b {a: 1}\n' + Array.from({ length: 20_000 }, (_, i) => `k${i}:\n  <<: *b\n  x: ${i}`).join('\n') + '\n'
    const flow = (n: number) => 'm: {' + Array.from({ length: n }, (_, i) => `k${i}: v${i}`).join(', ') + '}\n'
    const cases: Array<{ name: string; base: string; ours: string; theirs: string; merges: boolean; why?: RegExp }> = [
      { name: `flat mapping, 30k keys (${(flat.length / 1024).toFixed(0)} KiB)`, base: flat, ours: flat.replace('value number 5\n', 'five\n'), theirs: flat.replace('value number 9\n', 'nine\n'), merges: true },
      { name: '20k `<<` merge keys', base: mergeKeys, ours: mergeKeys + 'extra: 1\n', theirs: mergeKeys + 'other: 2\n', merges: false, why: /took longer than 3\.0 s/ },
      { name: 'flow map, 50k entries', base: flow(50_000), ours: flow(50_000).replace('k5: v5,', 'k5: v5x,'), theirs: flow(50_000).replace('k9: v9,', 'k9: v9y,'), merges: false, why: /took longer than 3\.0 s/ },
      { name: 'flow map, 700k entries (12 MB)', base: flow(700_000), ours: flow(700_000).replace('k5: v5,', 'k5: v5x,'), theirs: flow(700_000).replace('k9: v9,', 'k9: v9y,'), merges: false, why: /larger than \d+ bytes/ },
    ]
    try {
      for (const c of cases) {
        fs.writeFileSync(path.join(dir, 'O'), c.base)
        fs.writeFileSync(path.join(dir, 'A'), c.ours)
        fs.writeFileSync(path.join(dir, 'B'), c.theirs)
        const t0 = Date.now()
        const r = await ctx(dir, ['merge-driver', 'O', 'A', 'B', '.rhema/odd.yaml'], { env: { CTXSYNC_MERGE_BUDGET_MS: '3000' }, timeout: 120_000 })
        console.log(`merge-driver, ${c.name}: exit ${r.exitCode} after ${Date.now() - t0} ms${r.stderr ? `: ${r.stderr.trim().split('\n')[0]}` : ''}`)
        const merged = fs.readFileSync(path.join(dir, 'A'), 'utf8')
        if (c.merges) {
          expect(r.exitCode, c.name).toBe(0)
          expect(merged).toContain('key5: five\n')
          expect(merged).toContain('key9: nine\n')
        } else {
          // Finished (not killed by the timeout), said why, and left git's text merge in place.
          expect(r.exitCode === 0 || r.exitCode === 1, `${c.name}: exit ${r.exitCode}\n${r.stderr}`).toBe(true)
          expect(r.stderr, c.name).toMatch(c.why!)
          expect(r.stderr, c.name).toMatch(/falling back to git's text merge/)
        }
      }
    } finally {
      fs.rmSync(dir, { recursive: true, force: true })
    }
  })

  it('conflict records carry each side\'s author and time (commits, sync points), never the branch name: merge and rebase', async () => {
    const { remote, a, joined: [d] } = await gitTeam(['dora']) as { remote: string; a: { dir: string; code: string }; joined: [string] }
    const annId = (await ctxJson(a.dir, ['status'])).peer?.id ?? JSON.parse(fs.readFileSync(path.join(a.dir, '.ctxsync', 'identity.json'), 'utf8')).id
    const at = { bob: '2024-01-02T03:04:05Z', cara: '2024-03-04T05:06:07Z' }
    // bob's branch, committed where ctxsync does not run, with its own author and date; cara's likewise.
    const pat = await cloneAs(remote, 'pat')
    for (const [who, branch, value] of [['bob', 'x', 'done'], ['cara', 'y', 'blocked']] as const) {
      await gitIn(pat, ['checkout', '-q', '-B', branch, 'origin/main'])
      await replaceIn(pat, TODOS, 'status: open\n    tags: [core', `status: ${value}\n    tags: [core`)
      await gitIn(pat, ['commit', '-qam', branch], { env: { GIT_AUTHOR_NAME: who, GIT_AUTHOR_EMAIL: `${who}@example.invalid`, GIT_AUTHOR_DATE: at[who] } })
      await gitIn(pat, ['push', '-q', 'origin', branch])
    }
    await gitIn(d, ['fetch', '-q', 'origin'])
    const values = async (dir: string) => {
      const c = (await ctxJson(dir, ['resolve', '--list'])).conflicts.filter((x: { file: string }) => x.file === TODOS)
      expect(c.length, JSON.stringify(c)).toBe(1)
      return c[0].values.map((v: { author: { name: string; id: string }; at: string; raw: string }) => ({ name: v.author.name, id: v.author.id, at: v.at, raw: v.raw })).sort((p: { name: string }, q: { name: string }) => p.name.localeCompare(q.name))
    }
    const want = [
      { name: 'bob', id: 'git:bob@example.invalid', at: '2024-01-02T03:04:05.000Z', raw: 'done' },
      { name: 'cara', id: 'git:cara@example.invalid', at: '2024-03-04T05:06:07.000Z', raw: 'blocked' },
    ]
    await gitIn(d, ['checkout', '-q', '-B', 'm', 'origin/x'])
    expect((await gitIn(d, ['merge', '--no-edit', 'origin/y'], { reject: false })).exitCode).toBe(0)
    expect(await values(d)).toEqual(want)
    await gitIn(d, ['checkout', '-q', '-B', 'r', 'origin/y'])
    const rb = await gitIn(d, ['rebase', 'origin/x'], { reject: false })
    expect(rb.exitCode, rb.stderr).toBe(0)
    expect(await values(d)).toEqual(want)
    // The later side wins; the other is recorded.
    expect(await read(d, TODOS)).toContain('status: blocked\n    tags: [core')

    // A side committed where ctxsync recorded a sync point: the peer that recorded it.
    await gitIn(a.dir, ['fetch', '-q', 'origin'])
    await gitIn(a.dir, ['checkout', '-q', '-B', 'z', 'origin/main'])
    await replaceIn(a.dir, TODOS, 'status: open\n    tags: [core', 'status: waiting\n    tags: [core')
    await gitIn(a.dir, ['commit', '-qam', 'z'])
    await waitFor(async () => /"via":"commit"/.test((await gitIn(a.dir, ['notes', '--ref=ctxsync', 'show', 'HEAD'], { reject: false })).stdout), 10_000, 'the sync point of z')
    expect((await gitIn(a.dir, ['merge', '--no-edit', 'origin/x'], { reject: false })).exitCode).toBe(0)
    const c = (await ctxJson(a.dir, ['resolve', '--list'])).conflicts.filter((x: { file: string }) => x.file === TODOS)
    const names = c[0].values.map((v: { author: { name: string; id: string } }) => v.author)
    expect(names).toContainEqual({ id: annId, name: 'ann', kind: 'human' })
    expect(names.map((n: { name: string }) => n.name)).not.toContain('origin/x')
  })
})
