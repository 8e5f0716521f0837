/**
 * Issue 14 figure: what machine B reads and writes for ONE remote update that changes one field — the
 * update applied, the file written back, the watcher's echo taken in (and the sender's state noted, as
 * the sync protocol does). Counted by `ioCounts` (fs/atomic.ts: whole-file reads, atomic file writes;
 * the sidecar store: meta records).
 *
 * In process, on the real parts: two `ctxsync init`ed clones, a `Space` for each, B's real `Watcher`
 * feeding `onLocalFile` as the daemon does, and `SpaceHost` between them (what the network calls). A's
 * updates for one edit are captured and handed to B; B's counters are read once B is idle again.
 *
 *   node bench/remote-update-io.mjs [--dist DIR] [--runs N]
 *
 * `--dist` points at another build (e.g. a scratch worktree at an older commit whose fs/atomic.ts and
 * fs/sidecar.ts got the same counters) to measure "before".
 */
import fs from 'node:fs'
import fsp from 'node:fs/promises'
import path from 'node:path'
import { pathToFileURL } from 'node:url'
import { DOC, ROOT, arg, report, run, sleep, twoClones } from './lib.mjs'

const DIST = path.resolve(arg('dist', path.join(ROOT, 'dist')))
const RUNS = Number(arg('runs', '5'))
const load = (m) => import(pathToFileURL(path.join(DIST, m)).href)

const TEXT = `todos:
  - id: t1
    title: Write the parser
    status: todo
  - id: t2
    title: Wire the network
    status: todo
`

run(async () => {
  const [{ Space }, { SpaceHost }, { Watcher }, atomic, { sha256hex }] = await Promise.all([
    load('space/space.js'), load('space/host.js'), load('fs/watcher.js'), load('fs/atomic.js'), load('ids.js'),
  ])
  const counts = atomic.ioCounts
  if (!counts) throw new Error(`${DIST}: fs/atomic.js has no ioCounts (add the counters to measure that build)`)
  const { a, b } = await twoClones({ [DOC]: TEXT }, 'remote-io')
  const open = (cwd) => Space.open({ cwd, command: 'bench remote-update-io', lock: { wait: 0 } })
  const [sa, sb] = [await open(a), await open(b)]
  await sa.scan()
  await sb.scan()
  const hostB = new SpaceHost(sb)
  const watcher = new Watcher({ root: b, include: sb.config.track })
  const echoes = []
  watcher.on('file', (ev) => void sb.onLocalFile(ev.path, ev.text, ev.hash).then(() => echoes.push(ev.hash)))
  await watcher.ready()
  const updates = []
  sa.onUpdate((_doc, u) => updates.push(u))
  const rows = []
  let text = TEXT
  for (let i = 0; i < RUNS; i++) {
    // A: one field changes (a save taken in); its updates are what the network carries to B.
    updates.length = 0
    text = text.replace(/title: Write the parser.*\n/, `title: Write the parser (${i + 1})\n`)
    await fsp.writeFile(path.join(a, DOC), text)
    await sa.onLocalFile(DOC, text, sha256hex(text))
    await sa.idle()
    await sleep(300) // A's lazy meta writes land before B is counted
    const before = { ...counts }
    echoes.length = 0
    for (const u of updates) await hostB.applyRemote(DOC, u, 'p-bencha')
    hostB.noteRemoteState(DOC, 'p-bencha', sa.doc(DOC).model.stateVector())
    const want = sha256hex(text)
    for (let t = 0; !echoes.includes(want); t++) {
      if (t > 400) throw new Error('B never wrote the update back (or its echo never came)')
      await sleep(10)
    }
    await sb.idle()
    await sleep(300) // B's lazy meta write (100 ms) lands
    if (fs.readFileSync(path.join(b, DOC), 'utf8') !== text) throw new Error('B does not hold the edit')
    rows.push({ reads: counts.fileReads - before.fileReads, writes: counts.atomicWrites - before.atomicWrites, metas: counts.metaWrites - before.metaWrites, updates: updates.length })
  }
  await watcher.close()
  await sa.close()
  await sb.close()
  const max = (k) => Math.max(...rows.map((r) => r[k]))
  const min = (k) => Math.min(...rows.map((r) => r[k]))
  const span = (k) => (min(k) === max(k) ? `${min(k)}` : `${min(k)}–${max(k)}`)
  report('one remote update on machine B (applied, written back, echo)', [
    { figure: 'file reads', value: max('reads'), unit: '', digits: 0, note: `per update, over ${RUNS} runs: ${span('reads')}` },
    { figure: 'meta writes', value: max('metas'), unit: '', digits: 0, note: `per update: ${span('metas')}` },
    { figure: 'atomic file writes', value: max('writes'), unit: '', digits: 0, note: `per update: ${span('writes')}` },
  ], { dist: DIST, 'Yjs updates per edit': span('updates') })
})
