/**
 * Stale saves (issue 13 item 3): a save made from an older text than the file's last is diffed against the
 * text it was made from (crdt/recent.ts), so what peers changed since is kept; an overwritten value is
 * recorded as a conflict (crdt/stalesave.ts). The stories first, then the generator (`stalesave-gen.ts`):
 * CI runs CTXSYNC_STALE_CASES (default 1,000) cases from CTXSYNC_STALE_SEED; `bench/stale-saves.mjs` runs
 * 100,000. Chains it found are kept in regressions/stale-*.json and replayed.
 */
import fs from 'node:fs'
import path from 'node:path'
import { expect, test } from 'vitest'
import { parse } from 'yaml'
import { FileModel } from '../../src/crdt/model.js'
import { send } from './helpers.js'
import { newPair, replayStale, runStale, type Clients, type Step } from './stalesave-gen.js'

const R1 = `decisions:
  - id: d1
    title: Use Yjs
    status: accepted
  - id: d2
    title: Keep YAML
    status: proposed
`
const PEER_ADDS = R1 + `  - id: d3
    title: Relay for CI
    status: proposed
`

/** B changes the file (A's daemon writes it into A's file); returns A's file text now. */
function peerSaves(A: FileModel, B: FileModel, text: string): string {
  expect(B.ingest(text).text).toBe(text)
  send(B, A)
  const r = A.render()
  A.setBase(r)
  return r.text!
}

test('the bug story: vim held the old text, a peer added a decision, the user wrote anyway: the decision stays', () => {
  const [A, B] = newPair(R1)
  expect(peerSaves(A, B, PEER_ADDS)).toBe(PEER_ADDS)
  const mine = R1.replace('status: proposed', 'status: accepted')
  const out = A.ingest(mine)
  expect(out.stale).toEqual({ kept: 1, overwritten: 0 })
  expect(out.text).toBe(PEER_ADDS.replace('Keep YAML\n    status: proposed', 'Keep YAML\n    status: accepted'))
  send(A, B)
  expect(B.render().text).toBe(out.text)
  expect(A.conflicts()).toEqual([])
})

// Stale-save seed 2: a line typed into a multi-line note from an editor buffer that still showed it, while
// a peer had replaced the note with another kind of value. The line was diffed into the peer's value:
// `template: [line three]` (neither value) for `{}`, nothing for a plain scalar — the save lost, unrecorded.
test.each(['{}', '[]', 'plain', '"quoted"', '{k: v}'])('a line typed into a block scalar a peer made %s since: the save is the later value, the peer\'s recorded', (peer) => {
  const base = 'p:\n  review:\n    description: Review   # why\n    template: |\n      line one\n      line two\n    tags: [a, b]\n'
  const [A, B] = newPair(base)
  peerSaves(A, B, base.replace('|\n      line one\n      line two\n', `${peer}\n`))
  const mine = base.replace('line two\n', 'line two\n      line three\n')
  const out = A.ingest(mine)
  expect(out.text).toBe(mine)
  expect(out.stale).toEqual({ kept: 0, overwritten: 1 })
  send(A, B)
  expect(B.render().text).toBe(mine)
  const parsed = parse(`x: ${peer}`).x as unknown
  for (const m of [A, B]) {
    const c = m.conflicts()
    expect(c.map((x) => x.display)).toEqual(['p.review.template'])
    const values = c[0]!.values.map((v) => v.value)
    expect(values).toHaveLength(2)
    expect(values).toContainEqual('line one\nline two\nline three\n')
    // A list or mapping too, by what it holds (valuesummary.ts `replaced`): it was recorded by its kind only,
    // its value null ('(a mapping, since replaced)').
    expect(values, 'the peer\'s value is recorded').toContainEqual(parsed)
    if (typeof parsed === 'object') expect(c[0]!.values.map((v) => v.raw)).toContainEqual(expect.stringMatching(/^a (list|mapping), since replaced: /))
  }
})

test('both appended a decision: vim held the old text, the peer added d3 at the end, the user added d4 there too: both stay', () => {
  const [A, B] = newPair(R1)
  peerSaves(A, B, PEER_ADDS)
  // Read from the newer text the save is as near (the two items share their status line) and deletes d3.
  const mine = R1 + '  - id: d4\n    title: Mine\n    status: proposed\n'
  const out = A.ingest(mine)
  // d4 goes where the user typed it: after d2, the last item the buffer showed.
  expect(out.text).toBe(R1 + '  - id: d4\n    title: Mine\n    status: proposed\n' + PEER_ADDS.slice(R1.length))
  send(A, B)
  expect(B.render().text).toBe(out.text)
  expect(A.conflicts()).toEqual([])
})

test('a deliberate removal of the peer’s item (the file exactly as before it came): taken at once', () => {
  const [A, B] = newPair(R1)
  peerSaves(A, B, PEER_ADDS)
  // The person saw d3 arrive and deleted it (or undid it): the file reads exactly like the text before d3.
  // A save with no edit of its own is taken as meant, not as a stale buffer (recent.ts `baseFor`).
  const first = A.ingest(R1)
  expect(first.stale).toBeUndefined()
  expect(first.text).toBe(R1)
  send(A, B)
  expect(B.render().text).toBe(R1)
})

test('a deliberate removal with another edit goes through on the second save too', () => {
  const [A, B] = newPair(R1)
  peerSaves(A, B, PEER_ADDS)
  const mine = R1.replace('Use Yjs', 'Use Yjs (v13)')
  expect(A.ingest(mine).text).toBe(PEER_ADDS.replace('Use Yjs', 'Use Yjs (v13)'))
  const again = mine.replace('Keep YAML', 'Keep YAML files')
  expect(A.ingest(again).text).toBe(again)
})

test('an undo back to my own earlier save is an edit, not a stale save', () => {
  const [A] = newPair(R1)
  const edited = R1.replace('Use Yjs', 'Use Automerge')
  expect(A.ingest(edited).text).toBe(edited)
  const out = A.ingest(R1)
  expect(out.stale).toBeUndefined()
  expect(out.text).toBe(R1)
})

test('an edit of the newest text that undoes part of the peer’s change is not stale (it holds a line the peer typed)', () => {
  const [A, B] = newPair(R1)
  peerSaves(A, B, PEER_ADDS)
  const mine = PEER_ADDS.replace('    status: proposed\n', '').replace('Relay for CI', 'Relay for CI runs')
  const out = A.ingest(mine.replace('  - id: d3\n    title: Relay for CI runs\n', '  - id: d3\n    title: Relay for CI\n'))
  expect(out.stale).toBeUndefined()
})

test('comment lines above an entry: the peer added one, the stale save edited another: both stay', () => {
  // An entry's comment lines are one string (its head); the save wrote its own whole, and the peer's comment
  // was lost on both with no trace (stale-save generator, stop 29: trivia.ts).
  const base = R1.replace('  - id: d2\n', '  # one\n  # two\n  - id: d2\n')
  const [A, B] = newPair(base)
  peerSaves(A, B, base.replace('  # two\n', '  # two\n  # three, the peer\'s\n'))
  const out = A.ingest(base.replace('# one', '# one, edited'))
  expect(out.text).toBe(base.replace('# one', '# one, edited').replace('  # two\n', '  # two\n  # three, the peer\'s\n'))
  send(A, B)
  expect(B.render().text).toBe(out.text)
})

test('the stale save overwrote a value a peer changed since: mine wins, the peer’s value stays in a conflict on both', () => {
  const [A, B] = newPair(R1)
  // The peer changed the title and, as peers do, something else: that is what shows the save is stale.
  peerSaves(A, B, R1.replace('title: Keep YAML', 'title: Keep YAML only').replace('status: accepted', 'status: done'))
  const out = A.ingest(R1.replace('title: Keep YAML', 'title: Keep TOML'))
  // The peer's status kept over the one the save showed is said (tester finding 1), the title recorded.
  expect(out.stale).toEqual({ kept: 1, overwritten: 1, values: [{ path: 'decisions[d1].status', kept: 'done', saved: 'accepted' }] })
  expect(out.text).toContain('status: done')
  expect(out.text).toContain('title: Keep TOML')
  send(A, B)
  expect(B.render().text).toBe(out.text)
  for (const m of [A, B]) {
    const cs = m.conflicts()
    expect(cs).toHaveLength(1)
    expect(JSON.stringify(cs[0])).toContain('Keep YAML only')
  }
  // `resolve` takes the peer's value back, on both
  const c = A.conflicts()[0]!
  const theirs = c.values.findIndex((v) => v.raw === 'Keep YAML only') + 1
  expect(A.resolve(c.id, theirs)).toBe(true)
  send(A, B)
  for (const m of [A, B]) {
    expect(m.render().text).toContain('title: Keep YAML only')
    expect(m.conflicts()).toEqual([])
  }
})

test('a save that only replaced the one value a peer changed is read as an edit of it: mine shown, no conflict', () => {
  // Same bytes from two histories (a stale overwrite, or an edit of the peer's value in a fresh buffer):
  // either way the file shows mine; a conflict the person never had would be noise (recent.ts `nearest`).
  const [A, B] = newPair(R1)
  peerSaves(A, B, R1.replace('status: proposed', 'status: in_progress'))
  const out = A.ingest(R1.replace('status: proposed', 'status: done'))
  expect(out.stale).toBeUndefined()
  expect(out.text).toContain('status: done')
  send(A, B)
  for (const m of [A, B]) expect(m.conflicts()).toEqual([])
})

test('deleting the item a peer just edited, and nothing else changed since: a plain deletion', () => {
  const [A, B] = newPair(R1)
  peerSaves(A, B, R1.replace('title: Keep YAML', 'title: Keep YAML (decided)'))
  const without = R1.replace('  - id: d2\n    title: Keep YAML\n    status: proposed\n', '')
  const out = A.ingest(without)
  expect(out.text).toBe(without)
  send(A, B)
  expect(B.render().text).toBe(without)
})

test('the stale save moved the item a peer edited since: moved, with the peer’s title (issue 13, black-box tester)', () => {
  const [A, B] = newPair(R1)
  peerSaves(A, B, R1.replace('title: Use Yjs', 'title: Use Yjs 13'))
  // The buffer still shows d1 as it was; the save moves its block after d2. Its lines differ from both texts
  // as much (the whole block moved), and the tie went to the newer text: 'Use Yjs' undid the peer's title.
  const moved = 'decisions:\n  - id: d2\n    title: Keep YAML\n    status: proposed\n  - id: d1\n    title: Use Yjs\n    status: accepted\n'
  const out = A.ingest(moved)
  expect(out.text).toBe(moved.replace('Use Yjs', 'Use Yjs 13'))
  send(A, B)
  expect(B.render().text).toBe(out.text)
})

test('the stale save deleted an item a peer edited since: the item stays, with a delete conflict', () => {
  const [A, B] = newPair(R1)
  // The peer edited d2 and, elsewhere, d1: the line elsewhere is what shows the save is stale (a deletion
  // that only removed what the peer changed reads as a person deleting what they see: recent.ts `nearest`).
  const peer = R1.replace('title: Keep YAML', 'title: Keep YAML (decided)').replace('status: accepted', 'status: done')
  peerSaves(A, B, peer)
  const withoutD2 = R1.replace('  - id: d2\n    title: Keep YAML\n    status: proposed\n', '')
  const out = A.ingest(withoutD2)
  expect(out.text).toContain('Keep YAML (decided)')
  send(A, B)
  expect(B.render().text).toBe(out.text)
  expect(A.conflicts().map((c) => c.kind)).toContain('delete')
  // The person who meant it takes the deletion in `resolve` (as for any delete-versus-edit conflict): gone on
  // both. (Deleting the revived item again in the file is not taken: a second tombstone over a revived todo
  // hid concurrent overwrites of its fields from the records — converge free-for-all seeds 28 and 40.)
  expect(out.text).toContain('status: done')
  const c = A.conflicts().find((x) => x.kind === 'delete')!
  const deleted = c.values.findIndex((v) => v.deleted) + 1
  expect(A.resolve(c.id, deleted)).toBe(true)
  send(A, B)
  for (const m of [A, B]) expect(m.render().text).not.toContain('id: d2')
})

test('only a few recent texts are kept (bounded)', () => {
  const [A] = newPair(R1)
  for (let i = 0; i < 30; i++) {
    A.ingest(R1.replace('Use Yjs', `Use Yjs ${i}`))
    A.setBase(A.render())
  }
  expect((A as unknown as { recent: { size: number } }).recent.size).toBeLessThanOrEqual(8)
})

// Chains the generator found where the merge is not the line-wise one (no peer change lost silently in
// them: both converge; the two edits meet in one YAML entry). OPEN: each turns red once fixed, then make it a
// plain test.
const regressions = path.join(__dirname, 'regressions')
const open = fs.readdirSync(regressions).filter((f) => f.startsWith('stale-open-'))
for (const f of open) {
  test.fails(`OPEN: stale-save chain ${f} merges line-wise`, () => {
    const { chain, clients } = JSON.parse(fs.readFileSync(path.join(regressions, f), 'utf8')) as { chain: Step[]; clients?: Clients }
    expect(replayStale(chain[0]!.r1, chain, clients)).toBeNull()
  })
}
const fixed = fs.readdirSync(regressions).filter((f) => f.startsWith('stale-') && !f.startsWith('stale-open-'))
for (const f of fixed) {
  test(`stale-save chain found by the generator: ${f}`, () => {
    const { chain, clients } = JSON.parse(fs.readFileSync(path.join(regressions, f), 'utf8')) as { chain: Step[]; clients?: Clients }
    expect(replayStale(chain[0]!.r1, chain, clients)).toBeNull()
  })
}

const SEED = Number(process.env.CTXSYNC_STALE_SEED) || (process.env.CI ? 1 : Date.now() % 1_000_000)
const CASES = Number(process.env.CTXSYNC_STALE_CASES) || 1000

test(`${CASES} seeded stale saves: peers' changes kept, same-value overwrites recorded, both converge (seed ${SEED})`, async () => {
  const run = await runStale(SEED, CASES)
  console.log(`stale saves (CTXSYNC_STALE_SEED=${SEED}): outcomes ${JSON.stringify(run.outcomes)}; failed ${JSON.stringify(run.failed)}; tried ${JSON.stringify(run.tried)}`)
  if (process.env.CTXSYNC_STALE_DUMP) {
    fs.mkdirSync(process.env.CTXSYNC_STALE_DUMP, { recursive: true })
    run.failures.forEach((f, i) => fs.writeFileSync(path.join(process.env.CTXSYNC_STALE_DUMP!, `${i}.json`), JSON.stringify(f, null, 1)))
  }
  // Divergence, or a same-value overwrite without its conflict, fails; a merge that is not the line-wise
  // one is reported (seed above) and its chain kept as an OPEN regression (see the header of stalesave-gen.ts).
  expect(run.failures.filter((f) => !f.what.startsWith('merge differs')).map((f) => f.what), `CTXSYNC_STALE_SEED=${SEED}`).toEqual([])
  const differs = Object.entries(run.failed).filter(([k]) => k.startsWith('merge differs')).reduce((n, [, v]) => n + v, 0)
  expect(differs, `CTXSYNC_STALE_SEED=${SEED}`).toBeLessThan(CASES / 40)
  expect(run.outcomes.merged).toBeGreaterThan(CASES / 4)
  expect(run.outcomes.conflict).toBeGreaterThan(CASES / 10)
  // 30 ms a case alone, 100 ms and more on a loaded machine: bench/stale-saves.mjs's 10,000 outran 5 minutes, then 1,000 s.
}, Math.max(300_000, CASES * 250))

test('the e2e story in process: stale save, removal saved again, then a new peer item deleted at once', () => {
  const [A, B] = newPair(R1)
  const buffer = R1
  peerSaves(A, B, PEER_ADDS)
  const mine = buffer.replace('title: Use Yjs', 'title: Use Yjs, edited on A')
  const first = A.ingest(mine)
  expect(first.text).toBe(mine + PEER_ADDS.slice(R1.length))
  A.setBase(A.render())
  send(A, B)
  B.setBase(B.render())
  const second = A.ingest(mine)
  expect(second.text).toBe(mine)
  send(A, B)
  B.setBase(B.render())
  const withTwo = peerSaves(A, B, B.render().text! + '  - id: d4\n    title: Two\n    status: open\n')
  expect(withTwo).toContain('d4')
  const third = A.ingest(mine)
  expect(third.text).toBe(mine)
})

// The rest of a cut's rewrite is diffed against the emptied text (crdt/recent.ts rewrittenCut): its root held
// nothing, so the root's keys were matched with the model's, and a key a peer added after the cut was deleted
// by the save: it stayed (the save had not seen it), with a record 'a deleted note_118' that nobody made.
test("the rest of a cut's rewrite, a peer's key added after the cut: kept, and no deletion recorded", () => {
  const t0 = '# head\ntodos:\n  - id: T-1\n    title: one\nnote_117: by bob\n'
  const [A, B] = newPair(t0)
  const sync = () => [send(A, B), send(B, A), A.setBase(A.render()), B.setBase(B.render())]
  A.ingest('', true)
  sync()
  B.ingest('note_118: by bob\n')
  sync()
  A.ingest(t0.replace('title: one', 'title: one!'))
  sync()
  for (const m of [A, B]) {
    expect(m.render().text!.split('\n').filter((l) => l !== 'note_118: by bob').join('\n')).toBe(t0.replace('title: one', 'title: one!'))
    expect(m.render().text).toContain('note_118: by bob\n')
    expect(m.conflicts()).toEqual([])
  }
})
