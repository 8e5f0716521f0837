/**
 * `ctxsync demo`: the whole product on an embedded example, with no setup and no outside server. Two
 * clones (a person and an AI agent) in a temp directory, two daemons on 127.0.0.1, scripted edits — and the
 * files shown converging byte for byte, a broken file held and merged, a conflict recorded and resolved.
 */
import fs from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'
import { startDaemon, type Daemon } from '../space/index.js'
import { init } from './init.js'
import { invite } from './invite.js'
import { DEMO_TODOS } from './demo-data.js'

export interface DemoOptions {
  keep?: boolean
  say: (line: string) => void
}

export interface DemoStep {
  step: string
  ms: number
  ok: boolean
}

export interface DemoResult {
  /** The demo's directory when kept (`--keep`); null when it was removed at the end. */
  dir: string | null
  steps: DemoStep[]
  converged: boolean
}

export async function demo(o: DemoOptions): Promise<DemoResult> {
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'ctxsync-demo-'))
  const alice = path.join(dir, 'alice')
  const agent = path.join(dir, 'agent')
  const steps: DemoStep[] = []
  const file = (who: string) => path.join(who, '.rhema', 'todos.yaml')
  const say = o.say
  const daemons: Daemon[] = []
  try {
    for (const d of [alice, agent]) {
      await fs.mkdir(path.join(d, '.rhema'), { recursive: true })
      await fs.writeFile(file(d), DEMO_TODOS)
    }
    say(`Two clones of one repository in ${dir}: alice/ (a person) and agent/ (an AI agent).`)
    await init({ cwd: alice, name: 'alice', port: 0, discovery: 'none', noGit: true })
    const { code } = await invite({ cwd: alice })
    await init({ cwd: agent, name: 'claude', agent: true, port: 0, join: code, discovery: 'none', noGit: true })
    say('ctxsync init in alice/ created the space; agent/ joined it with the code from `ctxsync invite`.')

    const quiet = () => {}
    const start = async (cwd: string, peers: string[] = []) => {
      const d = await startDaemon({ cwd, port: 0, peers, say: quiet })
      daemons.push(d)
      return d
    }
    const a = await start(alice)
    let b = await start(agent, [a.info.url])
    say(`Both run \`ctxsync watch\`: alice on ${a.info.url}, the agent dialling it.\n`)

    const step = async (title: string, run: () => Promise<void>, until: () => Promise<boolean>) => {
      say(`• ${title}`)
      const t0 = performance.now()
      await run()
      const ok = await waitFor(until, 10_000)
      const ms = Math.round(performance.now() - t0)
      steps.push({ step: title, ms, ok })
      say(ok ? `  ✓ done in ${ms} ms` : '  ✗ did not happen within 10 s')
    }
    const read = (who: string) => fs.readFile(file(who), 'utf8')
    const edit = async (who: string, from: string, to: string) => {
      const t = await read(who)
      if (!t.includes(from)) throw new Error(`demo: ${from} not found`)
      await fs.writeFile(file(who), t.replace(from, to))
    }
    const same = async () => (await read(alice)) === (await read(agent))

    await step('alice marks the parser todo done (comments and layout stay as they are)', () => edit(alice, 'status: in_progress  # parser', 'status: done  # parser'), async () => (await read(agent)).includes('status: done  # parser'))
    await step('the agent adds a todo while alice edits another one at the same moment', async () => {
      await edit(agent, '  # -- end of todos --', '  - id: "demo-4"\n    title: "Write the release notes"  # added by the agent\n    status: todo\n\n  # -- end of todos --')
      await edit(alice, 'title: "Wire the network layer"', 'title: "Wire the network layer (ws + auth)"')
    }, async () => (await same()) && (await read(alice)).includes('demo-4') && (await read(alice)).includes('(ws + auth)'))

    await step('the agent saves a broken file: it is held, nothing from it is sent; alice edits meanwhile', async () => {
      await edit(agent, 'tags: [docs]', 'tags: [docs')
      await new Promise((r) => setTimeout(r, 300))
      await edit(alice, 'priority: low', 'priority: medium')
    }, async () => (await read(alice)).includes('priority: medium') && !(await read(alice)).includes('[docs\n'))
    await step('the agent fixes the file: both sides\' edits merge', () => edit(agent, 'tags: [docs', 'tags: [docs, release]'), async () => (await same()) && (await read(alice)).includes('[docs, release]') && (await read(agent)).includes('priority: medium'))

    say('• the agent goes offline; both set the same status differently')
    await b.stop()
    await edit(alice, 'status: todo\n    priority: medium', 'status: review\n    priority: medium')
    await edit(agent, 'status: todo\n    priority: medium', 'status: blocked\n    priority: medium')
    await new Promise((r) => setTimeout(r, 200))
    b = await start(agent, [a.info.url])
    await step('  …and reconnects: one value wins on both sides, the other is kept as a conflict', async () => {}, async () => (await same()) && a.space.conflicts().length === 1 && b.space.conflicts().length === 1)
    const c = a.space.conflicts()[0]
    if (c) {
      say(`  conflict ${c.id} at ${c.display}: ${c.values.map((v, i) => `${i + 1}. ${v.raw} (${v.author.name})`).join(', ')}; in the file: ${c.winner}`)
      const review = c.values.findIndex((v) => v.raw === 'review') + 1
      await step(`alice resolves it keeping value ${review} (\`ctxsync resolve ${c.id} --take ${review}\`): cleared on both`, async () => {
        await a.space.resolve(c.id, review)
      }, async () => (await same()) && a.space.conflicts().length === 0 && b.space.conflicts().length === 0 && (await read(agent)).includes('status: review\n    priority: medium'))
    }
    const converged = await same()
    say(converged ? '\n✓ alice/ and agent/ hold byte-identical .rhema/todos.yaml' : '\n✗ the files differ')
    if (o.keep) say(`kept ${dir} (see .rhema/todos.yaml in each clone)`)
    // The directory is named only when it is still there (--keep): `demo --json` named a deleted one (issue 17).
    return { dir: o.keep ? dir : null, steps, converged }
  } finally {
    for (const d of daemons) await d.stop().catch(() => undefined)
    if (!o.keep) await fs.rm(dir, { recursive: true, force: true })
  }
}

async function waitFor(f: () => Promise<boolean>, ms: number): Promise<boolean> {
  const end = Date.now() + ms
  while (Date.now() < end) {
    try {
      if (await f()) return true
    } catch {
      // a file mid-replace: look again
    }
    await new Promise((r) => setTimeout(r, 5))
  }
  return false
}
