/**
 * Issue 12: a stranger's floods against a running `ctxsync serve` with its default limits, while a
 * bystander space keeps syncing. Two floods, one after the other, from loopback only:
 *
 *  - descriptors: N plain TCP connects from 127.0.0.2 that never send a byte (the attacker's 20,000);
 *  - registrations: M new spaces, each with its own secret, from 127.0.0.1 (the attacker's 20,250).
 *
 * Figures: connections refused and held at the peak, the relay's resident memory (VmRSS) before and at the
 * end of each flood, the bystander's one-shot sync time during each flood (median, max) and failures,
 * spaces registered, and the directories left in --data.
 *
 *   node bench/flood.mjs [--quick] [--conns N] [--spaces M]
 */
import fs from 'node:fs'
import net from 'node:net'
import * as Y from 'yjs'
import { newPeerId, newSpaceId } from '../dist/ids.js'
import { syncOnce } from '../dist/net/sync-once.js'
import { QUICK, arg, ctxChild, lineModel, pct, report, run, sleep, tempDir, waitOutput } from './lib.mjs'

const CONNS = Number(arg('conns', QUICK ? 3000 : 20_000))
const SPACES = Number(arg('spaces', QUICK ? 300 : 2000))
const DOC = '.rhema/todos.yaml'

class Host {
  constructor(spaceId, lines) {
    this.spaceId = spaceId
    this.self = { id: newPeerId(), name: 'bench', kind: 'agent' }
    this.lines = lines
    this.doc = lines.doc
  }
  docNames() { return this.doc.store.clients.size ? [DOC] : [] }
  stateVector() { return Y.encodeStateVector(this.doc) }
  encodeDiff(_d, sv) {
    const u = Y.encodeStateAsUpdate(this.doc, sv)
    return u.length <= 2 ? null : u
  }
  acceptDoc(name) { return name === DOC }
  async applyRemote(_d, u) { this.lines.model.applyRemote(u, 'remote') }
  onUpdate() { return () => {} }
}

const rss = (pid) => Number(/VmRSS:\s+(\d+)/.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? 0) / 1024

run(async () => {
  const data = await tempDir('ctxsync-bench-flood-')
  const relay = ctxChild(['serve', '--port', '0', '--data', data])
  const url = (await waitOutput(relay, /relay listening on (ws:\/\/127\.0\.0\.1:\d+)/))[1]
  const port = Number(url.split(':').at(-1))
  const health = async () => (await fetch(`http://127.0.0.1:${port}/healthz`)).json()
  const secret = 'bench-flood-bystander-0123456789abcdefghijk'
  const bystander = new Host(newSpaceId(), await lineModel('bystander'))
  let n = 0
  const sync = async () => {
    bystander.lines.set('k', n++)
    const t0 = performance.now()
    const r = await syncOnce({ host: bystander, secret, peers: [url], relay: { url }, timeoutMs: 10_000 })
    return { ms: performance.now() - t0, ok: r.peers[0].outcome === 'synced' }
  }
  await sync()
  const rss0 = rss(relay.pid)

  // Descriptors: connect in waves of 500, the bystander syncing between waves.
  const socks = []
  const during = []
  let peak = 0
  for (let i = 0; i < CONNS; i += 500) {
    await Promise.all(Array.from({ length: Math.min(500, CONNS - i) }, () => new Promise((resolve) => {
      const s = net.connect({ host: '127.0.0.1', port, localAddress: '127.0.0.2' })
      s.on('error', resolve).on('connect', resolve).on('close', resolve)
      socks.push(s)
    })))
    peak = Math.max(peak, (await health()).sockets)
    during.push(await sync())
  }
  const h1 = await health()
  const rss1 = rss(relay.pid)
  for (const s of socks) s.destroy()

  // Registrations: one new space after another from one address.
  const regs = []
  let registered = 0
  for (let i = 0; i < SPACES; i++) {
    const h = new Host(newSpaceId(), await lineModel(`space-${i}`))
    h.lines.set('x', i)
    const r = await syncOnce({ host: h, secret: `bench-flood-space-${i}-0123456789abcdefghijklmn`, peers: [url], relay: { url }, timeoutMs: 10_000 })
    if (r.peers[0].outcome === 'synced') registered++
    if (i % 100 === 0) regs.push(await sync())
  }
  await sleep(200)
  const h2 = await health()
  const rss2 = rss(relay.pid)
  const dirs = fs.readdirSync(data).filter((d) => d.startsWith('s-')).length
  relay.kill('SIGKILL')

  const ms = (xs) => xs.map((x) => x.ms)
  report('stranger floods vs. a relay with default limits (issue 12)', [
    { figure: `TCP connects from one stranger address`, value: CONNS, digits: 0 },
    { figure: 'connections refused', value: h1.refused.connections, digits: 0 },
    { figure: 'stranger connections held at most (after a wave)', value: peak, digits: 0 },
    { figure: 'relay RSS before → after the connect flood', value: rss1, unit: 'MiB', note: `from ${rss0.toFixed(1)} MiB` },
    { figure: 'bystander sync during the connect flood, median', value: pct(ms(during), 50), unit: 'ms', note: `max ${Math.max(...ms(during)).toFixed(0)} ms; ${during.filter((x) => !x.ok).length} of ${during.length} failed` },
    { figure: `new spaces attempted from one address`, value: SPACES, digits: 0 },
    { figure: 'spaces registered', value: registered + 1, digits: 0, note: `healthz: ${h2.registered}; refused ${h2.refused.registrations}; ${dirs} space dirs in --data` },
    { figure: 'relay RSS after the registration flood', value: rss2, unit: 'MiB' },
    { figure: 'bystander sync during the registration flood, median', value: pct(ms(regs), 50), unit: 'ms', note: `max ${Math.max(...ms(regs)).toFixed(0)} ms; ${regs.filter((x) => !x.ok).length} of ${regs.length} failed` },
  ], { limits: `default (descriptor limit ${fs.readFileSync('/proc/self/limits', 'utf8').match(/Max open files\s+(\d+)/)?.[1]})` })
})
