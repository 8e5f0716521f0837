/**
 * An agent appending items through a YAML library, save after save (each re-reads the file, appends one item,
 * dumps the whole file), while a peer edits another field (black-box retest stop 32, N1): a dump made from a
 * read before the peer's value reached the file carries the older value over. Its previous dump is already
 * the library's format, so the new one differs from what it read in about as many lines as values — read as
 * an editor's save of the newest text, the carried-over value was taken as the agent's edit and undid the
 * peer's on every clone, credited to the agent. The README's rule: the peer's value stays.
 *
 * A seeded generator: the agent's dumps and the peer's updates interleaved at random, each dump made from the
 * file as it is or from the agent's previous read (the peer's update landed after it). CTXSYNC_CHAIN_SEEDS=a-b.
 */
import { expect, it } from 'vitest'
import { parse, stringify } from 'yaml'
import { mulberry32 } from './mutate.js'
import { send } from './helpers.js'
import { newPair } from './stalesave-gen.js'

interface Todo { id: string; title: string; status: string }
const dump = (todos: Todo[]): string => stringify({ todos }, { sortMapEntries: true, indentSeq: false })

const span = (process.env.CTXSYNC_CHAIN_SEEDS ?? '1-30').split('-').map(Number) as [number, number]
const seeds = Array.from({ length: span[1] - span[0] + 1 }, (_, i) => span[0] + i)

it(`an agent's library dumps from a read before a peer's update keep the peer's value (seeds ${span[0]}-${span[1]})`, () => {
  const failed: string[] = []
  for (const seed of seeds) {
    const r = mulberry32(seed)
    const start: Todo[] = [1, 2, 3].map((i) => ({ id: `T-${i}`, title: `task ${i}`, status: 'todo' }))
    const [A, B] = newPair(dump(start))
    let file = A.render().text!
    let read = file
    let title = 'task 2'
    let items = 3
    for (let step = 0; step < 12; step++) {
      if (r() < 0.4) {
        // The peer sets T-2's title; A's daemon writes it into the file (one of our writes).
        title = `by the peer ${step}`
        B.ingest(B.render().text!.replace(/title: task 2|title: by the peer \d+/, `title: ${title}`))
        send(B, A)
        const w = A.render()
        A.setBase(w)
        file = w.text!
      } else {
        // The agent dumps from what it read: the file now, or (half the time) its read from before the last write.
        if (r() < 0.5) read = file
        const data = parse(read) as { todos: Todo[] }
        data.todos.push({ id: `A-${++items}`, title: `added ${items}`, status: 'todo' })
        read = dump(data.todos)
        const out = A.ingest(read)
        // A merge that differs from the dump is written back (space/reconcile.ts): one of our writes.
        if (out.text !== null && out.text !== read) A.setBase(out)
        file = out.text ?? read
        // Not even for a moment: each of the peer's values is undone on every clone while the file shows it.
        const now = (parse(file) as { todos: Todo[] }).todos.find((t) => t.id === 'T-2')?.title
        if (now !== title) failed.push(`seed ${seed} step ${step}: the agent's dump set T-2 back to ${now} (want ${title})`)
        send(A, B)
        B.setBase(B.render())
      }
    }
    const got = parse(file) as { todos: Todo[] }
    const t2 = got.todos.find((t) => t.id === 'T-2')?.title
    const ids = got.todos.map((t) => t.id)
    if (t2 !== title || new Set(ids).size !== items || ids.length !== items) failed.push(`seed ${seed}: T-2 ${t2} (want ${title}), ids ${ids.join(',')} (want ${items})`)
    A.destroy()
    B.destroy()
  }
  expect(failed).toEqual([])
})
