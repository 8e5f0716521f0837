/**
 * A joining clone killed at every store write of its first exchange (e2e crash.test.ts › watch, CI at
 * 449ddbc: B's old `tick 0` came back as its edit, a race with A's live tick on both peers, and an item A
 * had added since was gone). The clone holds an older commit plus a todo of its own added while no ctxsync
 * ran; A's state arrives and, as the daemon does on its first `peer-synced`, `finishJoin` runs at once. The
 * clone dies at write n (n = 0, 1, … until a run completes), starts again and syncs with A.
 * What must hold at every kill point: both files are A's live text plus the clone's todo, once; no record.
 *
 * Found: `finishJoin` removed the `joining` marker before the file waiting for the live state was joined,
 * and the peer's state was already stored. The next start had state, no marker and a file this machine
 * had never synced, so the committed text was taken in as an offline edit made from nothing. Now a file
 * whose state came from peers but which this machine never synced still joins (gitingest.ts joinGate).
 */
import fs from 'node:fs/promises'
import path from 'node:path'
import { afterAll, expect, it } from 'vitest'
import { finishJoin, isJoining } from '../../src/space/join.js'
import { idle, Node, removeSpaceDirs, TODOS } from './harness.js'
import { exchange, git, liveWithTemplate, memberCopy, removeCloneDirs } from './joinRig.js'
import { waitFor } from '../net/helpers.js'

afterAll(async () => {
  await removeCloneDirs()
  await removeSpaceDirs()
})

const SEED = `# Todos
todos:
  - id: ticker
    title: "tick 0"
    status: open
`
const own = (id: string) => `  - id: ${id}\n    title: "added by clone ${id}"\n    status: open\n`

it.each([['after the join\'s write-back', false], ['before the join\'s write-back is done', true]] as const)('a clone killed at any write of its first exchange, the join ended %s: the next start joins it — no record, nothing rolled back, its todo once', async (_when, early) => {
  const { a, template, parent } = await liveWithTemplate(SEED)
  // The live context moves on past the commit the clones hold.
  await a.edit(SEED.replace('tick 0', 'tick 7') + '  - id: a-8\n    title: "added by a"\n    status: open\n')
  await idle(a.s)
  const at = git(a.root, ['rev-parse', 'HEAD']).trim()
  let completed = false
  for (let n = 0; !completed && n < 40; n++) {
    const c = new Node(await memberCopy(template, path.join(parent, `k${n}`), at))
    await c.editOffline((await c.file())! + own(`c-${n}`))
    const before = (await a.file())!
    await c.start()
    let writes = 0
    c.store!.killAt(() => writes++ === n)
    const store = c.store!
    const done = (async () => {
      const applied = c.s.applyRemote(TODOS, a.host().encodeDiff(TODOS, new Uint8Array([0]))!, a.id)
      // The daemon ends the join on its first 'peer-synced', which may come before the file's join is
      // done: applyRemote waits for that write-back only a while (a loaded machine takes longer).
      if (early) await finishJoin(c.s)
      await applied
      if (!early) await finishJoin(c.s)
      await idle(c.s)
    })()
    await Promise.race([done, waitFor(() => store.dead, 10_000, `write ${n}`)])
    if (store.dead) {
      await new Promise((r) => setTimeout(r, 20)) // what the dead Space already started, as in killpoints.test.ts
      await c.kill()
      await c.start()
    } else completed = true
    await exchange(a, c)
    if (await isJoining(c.root)) await finishJoin(c.s)
    await exchange(a, c)
    await Promise.all([idle(a.s), idle(c.s)])
    // Every item once, A's live values, the clone's todo (where it lands among the items added since the
    // clone's commit is the join's merge, not what is proven here).
    const text = (await a.file())!
    expect(await c.file(), `killed at write ${n}`).toBe(text)
    const ids = (t: string) => [...t.matchAll(/^ {2}- id: (\S+)$/gm)].map((m) => m[1]).sort()
    expect(ids(text), `killed at write ${n}`).toEqual([...ids(before), `c-${n}`].sort())
    expect(text.replace(own(`c-${n}`), ''), `killed at write ${n}`).toBe(before)
    expect([...a.s.conflicts(), ...c.s.conflicts()], `killed at write ${n}`).toEqual([])
    await c.close()
    await fs.rm(c.root, { recursive: true, force: true })
  }
  expect(completed).toBe(true)
  await a.close()
})
