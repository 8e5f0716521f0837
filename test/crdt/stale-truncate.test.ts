/**
 * A file emptied (or cut short) by its writer, taken in as cut once the hold ended (space/cuthold.ts), then
 * written whole: the rest of an in-place rewrite (`truncate-pause` saves of the live edit generator). Its
 * save is diffed against the cut (crdt/recent.ts `rewrittenCut`), whatever older texts read nearer by lines:
 * diffed as a stale save of one of those, only its own change was applied over the emptied state and
 * everything else stayed deleted on every peer (edits-live seed 7: 3,738 of 34,800 characters kept).
 */
import fs from 'node:fs'
import path from 'node:path'
import { expect, test } from 'vitest'
import { FileModel } from '../../src/crdt/model.js'
import { author, send } from './helpers.js'

/** [writer, text] per step after the first (enrolled by peer 0); an empty text is taken in as cut. Returns the texts each peer shows. */
function replay(chain: Array<[number, string]>): Array<{ want: string; a: string | null; b: string | null }> {
  const peers = [new FileModel({ name: 'x.yaml', author: author('a') }), new FileModel({ name: 'x.yaml', author: author('b') })]
  peers[0]!.enroll(chain[0]![1])
  send(peers[0]!, peers[1]!)
  peers[1]!.setBase(peers[1]!.render())
  const out = []
  try {
    for (const [w, t] of chain.slice(1)) {
      peers[w]!.ingest(t, t.trim() === '')
      send(peers[w]!, peers[1 - w]!)
      for (const p of peers) p.setBase(p.render())
      out.push({ want: t, a: peers[0]!.render().text, b: peers[1]!.render().text })
    }
    return out
  } finally {
    for (const p of peers) p.destroy()
  }
}

// Several top-level entries: the save's change revives the one it is in (a child edited over its deletion),
// and only that one showed.
const todos = (n: number) =>
  'name: demo\nowner: ann\ntodos:\n' +
  Array.from({ length: n }, (_, i) => `  - id: T-${i + 1}\n    title: Task ${i + 1}\n    status: todo\n    notes: the notes of task ${i + 1}\n`).join('') +
  'conventions:\n  - Use `rhema validate` before committing\n  - Keep the notes short\nversion: 1.0.0\n'

test('edits-live seed 7: a peer save, the writer empties the file, then writes it whole less a field: kept whole on both', () => {
  const { chain } = JSON.parse(fs.readFileSync(path.join(__dirname, 'regressions', 'trace-cut-live-seed7.json'), 'utf8')) as { chain: Array<[number, string]> }
  const last = replay(chain).at(-1)!
  expect(last.a?.length).toBe(last.want.length)
  expect(last.a).toBe(last.want)
  expect(last.b).toBe(last.want)
})

// Texts before the ring (recentolder.ts) are there after 8 saves; with them, the rest of the rewrite read
// nearer an older text than the cut and was taken as a stale save of it.
test.each([
  ['a small file, after 9 saves', 12, 9],
  ['a file of 80 KB, after 1 save', 1000, 1],
])('%s: a peer save, the file emptied, then written whole less a field: kept whole on both', (_, items, saves) => {
  let t = todos(items)
  const chain: Array<[number, string]> = [[0, t]]
  for (let i = 1; i <= saves; i++) chain.push([0, (t = t.replace(`title: Task ${i}\n`, `title: Task ${i} (ann)\n`))])
  chain.push([1, (t = t.replace('status: todo\n    notes: the notes of task 2\n', 'status: done\n    notes: the notes of task 2\n'))])
  const mine = t.replace('    notes: the notes of task 3\n', '')
  chain.push([0, ''], [0, mine])
  const last = replay(chain).at(-1)!
  expect(last.a).toBe(mine)
  expect(last.b).toBe(mine)
})

// The ring is bounded by the file's size: measured by the cut, it held the cut alone for a file of 80 KB.
test.each([
  ['a small file, after 9 saves', 12, 9],
  ['a file of 80 KB, after 1 save', 1000, 1],
])("%s: a peer's save between the cut and the rest of the rewrite: the whole text and the peer's change on both", (_, items, saves) => {
  let t = todos(items)
  const chain: Array<[number, string]> = [[0, t]]
  for (let i = 1; i <= saves; i++) chain.push([0, (t = t.replace(`title: Task ${i}\n`, `title: Task ${i} (ann)\n`))])
  const mine = t.replace('    notes: the notes of task 3\n', '')
  chain.push([0, ''], [1, 'lead: bob\n'], [0, mine])
  const last = replay(chain).at(-1)!
  expect(last.a).toBe(last.b)
  expect(last.a).toContain('lead: bob\n')
  expect(last.a!.replace('lead: bob\n', '')).toBe(mine)
})
