/**
 * Simultaneous overwrites on live, directly connected peers, through the built CLI (issue 13 item 6; the
 * bench is bench/simultaneous.mjs). Two clones with their daemons running change one value at the same
 * instant, a few times over: the files end byte-identical, one conflict lists both values on both peers
 * (the same list), the file shows the record's later write, and neither daemon calls either save "made from
 * an older version". Then a write made after the other (a wall-clock gap): the later one shows on both.
 * Before the fix, a daemon that took its own save in after the peer's update timed it by when it got to it
 * (100-800 ms late), took it as a stale buffer and let it win over a later write, with the stale wording.
 */
import fs from 'node:fs'
import path from 'node:path'
import { afterAll, afterEach, expect, it } from 'vitest'
import { ctxJson, killAll, readFile, removeTmpDirs, setupSpace, startWatch, stopWatch, TODOS, waitLog, waitSame, type Peer } from './helpers.js'

afterEach(killAll)
afterAll(removeTmpDirs)

const N = 6
let FILE = '# Team todos\ntodos:\n'
for (let i = 1; i <= N; i++) FILE += `  - id: t${i}\n    title: "Task ${i}"\n    status: todo\n`
const titleOf = (text: string, i: number) => new RegExp(`- id: t${i}\\n    title: "([^"]*)"`).exec(text)?.[1]

/** Replaces t`i`'s original title in one go (read, then an atomic rename); false if it was not there any more. */
function save(p: Peer, i: number, to: string): boolean {
  const abs = path.join(p.dir, TODOS)
  const text = fs.readFileSync(abs, 'utf8')
  const from = `    title: "Task ${i}"\n`
  if (!text.includes(from)) return false
  fs.writeFileSync(`${abs}.tmp`, text.replace(from, `    title: "${to}"\n`))
  fs.renameSync(`${abs}.tmp`, abs)
  return true
}

async function records(peers: Peer[], i: number): Promise<any[][]> {
  return Promise.all(peers.map(async (p) => (await ctxJson(p.dir, ['resolve', '--list'])).conflicts.filter((c: any) => new RegExp(`\\bt${i}\\b`).test(c.display))))
}

it('two live peers overwrite one value at the same instant: one record with both values on both, the later write shown, no stale-save wording', { timeout: 120_000 }, async () => {
  const { peers } = await setupSpace(['a', 'b'], { files: { [TODOS]: FILE } })
  const [a, b] = peers as [Peer, Peer]
  const da = await startWatch(a)
  const db = await startWatch(b, ['--peer', a.url])
  await waitLog(da, /connected to b/)
  await waitLog(db, /connected to a/)
  for (let i = 1; i < N; i++) {
    const values = [`Task ${i} by a`, `Task ${i} by b`]
    // One tick: neither file can have shown the other's value yet, whatever the machine's load.
    const wrote = [save(a, i, values[0]!), save(b, i, values[1]!)]
    expect(wrote, `trial ${i}`).toEqual([true, true])
    await waitSame([a, b], TODOS, (t) => values.includes(titleOf(t, i)!))
    // The same bytes, then the same records (they travel with the values).
    let lists: any[][] = []
    for (let k = 0; k < 100; k++) {
      lists = await records([a, b], i)
      if (JSON.stringify(lists[0]) === JSON.stringify(lists[1]) && lists[0]!.length === 1 && lists[0]![0].values.length === 2) break
    }
    expect(lists[0], `trial ${i}: a's record`).toEqual(lists[1])
    expect(lists[0], `trial ${i}`).toHaveLength(1)
    const [c] = lists[0]!
    expect(c.values.map((v: any) => v.value).sort()).toEqual(values)
    const latest = [...c.values].sort((x: any, y: any) => x.at.localeCompare(y.at)).at(-1)
    if (c.values[0].at !== c.values[1].at) expect(c.values[c.winner - 1].value, `trial ${i}: the record's later write`).toBe(latest.value)
    const text = await waitSame([a, b], TODOS, (t) => titleOf(t, i) === c.values[c.winner - 1].value)
    expect(titleOf(text, i)).toBe(c.values[c.winner - 1].value)
  }
  // b first, a after a wall-clock gap: a's is the later write (a race or a save over b's value: either way).
  const i = N
  expect(save(b, i, 'early b')).toBe(true)
  await new Promise((r) => setTimeout(r, 150))
  const text = readFile(a)!
  if (text.includes(`    title: "Task ${i}"\n`)) save(a, i, 'late a')
  else fs.writeFileSync(path.join(a.dir, TODOS), text.replace(`    title: "early b"\n`, `    title: "late a"\n`))
  const end = await waitSame([a, b], TODOS, (t) => titleOf(t, i) === 'late a')
  expect(titleOf(end, i)).toBe('late a')
  for (const d of [da, db]) expect(d.log().split('\n').filter((l) => /made from an older version/.test(l)), `${d.peer.name}'s log:\n${d.log()}`).toEqual([])
  await stopWatch(db)
  await stopWatch(da)
})
