/**
 * A document's BOM sits in its head's first line (parse.ts), yet is no line's: one side adding or removing it
 * and the other adding a line at the head (`---`, a comment) touched one line, and the save's whole head won:
 * a peer's BOM dropped, or one the peer removed kept (the stale-save generator's 'bom' mode, seed 1: 3 of 200).
 * Merged apart from the lines since (trivia.ts mergedTrivia): as the side that changed it has it.
 */
import { expect, test } from 'vitest'
import { mergedTrivia } from '../../src/crdt/trivia.js'
import { send } from './helpers.js'
import { newPair } from './stalesave-gen.js'

const V0 = '# Todos\ntodos:\n  - id: T-1\n    title: one\n'
const BOM = '\uFEFF'

// Each side changes a title too, so the save reads as made from the text before the peer's change (a save
// whose only change is at the head is as near the peer's text by lines, and read as an edit of it).
const bob = (t: string) => t.replace('title: one', 'title: one (bob)')
const ann = (t: string) => t + '    status: done\n'
test.each([
  ['the peer added a BOM, the save a line at the head', V0, BOM + V0, '# Team\n' + V0, BOM + '# Team\n' + V0],
  ['the peer removed the BOM, the save a line at the head', BOM + V0, V0, BOM + '---\n' + V0, '---\n' + V0],
  ['the save added a BOM, the peer a line at the head', V0, '---\n' + V0, BOM + V0, BOM + '---\n' + V0],
  ['the save removed the BOM, the peer a line at the head', BOM + V0, BOM + '# Team\n' + V0, V0, '# Team\n' + V0],
])('%s: both kept, on both', (_, base, peer, mine, want) => {
  const [A, B] = newPair(base)
  expect(B.ingest(bob(peer)).text).toBe(bob(peer))
  send(B, A)
  A.setBase(A.render())
  const out = A.ingest(ann(mine))
  expect(out.stale).toBeDefined()
  expect(out.text).toBe(ann(bob(want)))
  send(A, B)
  expect(B.render().text).toBe(ann(bob(want)))
})

test('the head string: the BOM 3-way on its presence, the lines merged line-wise', () => {
  expect(mergedTrivia('# a\n', '# a\n# b\n', BOM + '# a\n')).toBe(BOM + '# a\n# b\n')
  expect(mergedTrivia(BOM + '# a\n', BOM + '# a\n# b\n', '# a\n')).toBe('# a\n# b\n')
  expect(mergedTrivia('# a\n', BOM + '# a\n', '# z\n# a\n')).toBe(BOM + '# z\n# a\n')
  // Both removed or both added it: as both have it.
  expect(mergedTrivia(BOM + '# a\n', '# a\n# b\n', '# a\n')).toBe('# a\n# b\n')
})
