/**
 * A generator of git schedules beside a live context (issue 13 / 15): pat works in a live space with plain git
 * (commits, pushes, pulls by merge, rebase and fast-forward with autostash, stash and pop, branch switches
 * with an edit saved right after), bob is a live peer on another machine whose updates reach pat at random
 * moments (also while git works), and tina is a teammate with plain git alone who commits and pushes.
 *
 * Each field has one writer (tina's items at the head, a spacer nobody edits so git's text merges never
 * touch two regions at once, then pat's and bob's items, and items pat and bob append), so nothing here is a
 * race: at the end, after tina's last push is pulled and pat and bob exchange, every field holds its writer's
 * last value, every item is there once, both files are byte-identical and no conflict is recorded. A step
 * that loses an edit, doubles an item or records a conflict nobody had fails with its seed and the schedule.
 */
import fs from 'node:fs/promises'
import path from 'node:path'
import { parse } from 'yaml'
import { mulberry32, type Rng } from '../helpers/random.js'
import { idle, Node, pass, TODOS } from './harness.js'
import { gitAs, gitAsDaemon, joinedPeer, pushedWorld } from './gitworld.js'

const item = (id: string) => `  - id: ${id}\n    title: ${id} first\n    status: todo\n`
export const GIT_SEED = `todos:\n${['tina-1', 'tina-2', 'spacer', 'pat-1', 'pat-2', 'bob-1', 'bob-2'].map(item).join('')}`

type Who = 'pat' | 'bob' | 'tina'
export interface Outcome { steps: string[]; failures: string[] }

/** The text with `id`'s `field` set to `value` (the line replaced in place, as sed would). */
function setField(text: string, id: string, field: string, value: string): string {
  const at = text.indexOf(`- id: ${id}\n`)
  if (at < 0) throw new Error(`no item ${id} in\n${text}`)
  const re = new RegExp(`(\\n    ${field}: )[^\\n]*`)
  const tail = text.slice(at)
  const m = re.exec(tail)
  if (!m) throw new Error(`no ${field} under ${id}`)
  return text.slice(0, at) + tail.slice(0, m.index) + m[1] + value + tail.slice(m.index + m[0].length)
}

class Schedule {
  readonly steps: string[] = []
  /** Each field's writer's last value, `id.field` → value; and the items each writer owns. */
  readonly want = new Map<string, string>()
  readonly owned: Record<Who, string[]> = { pat: ['pat-1', 'pat-2'], bob: ['bob-1', 'bob-2'], tina: ['tina-1', 'tina-2'] }
  /** tina's values not yet pushed (they count once pushed and pulled). */
  tinaPending = new Map<string, string>()
  n = 0
  constructor(readonly rnd: Rng, readonly pat: Node, readonly bob: Node, readonly tina: string) {}

  pick<T>(xs: readonly T[]): T { return xs[Math.floor(this.rnd() * xs.length)]! }

  /** A new value of one of `who`'s fields, or (pat, bob) an item appended. */
  change(who: Who, text: string): string {
    const tok = `${who} v${++this.n}`
    if (who !== 'tina' && this.rnd() < 0.2) {
      const id = `${who}-new${this.n}`
      this.owned[who].push(id)
      this.expectNew(id)
      return text + item(id)
    }
    const id = this.pick(this.owned[who])
    const field = this.rnd() < 0.7 ? 'title' : 'status'
    ;(who === 'tina' ? this.tinaPending : this.want).set(`${id}.${field}`, tok)
    return setField(text, id, field, tok)
  }

  /** An item as `item` writes it: its title and status expected until its writer changes them. */
  expectNew(id: string): void {
    for (const f of ['title', 'status']) this.want.set(`${id}.${f}`, f === 'title' ? `${id} first` : 'todo')
  }

  async patEdit(): Promise<void> {
    await this.pat.edit(this.change('pat', (await this.pat.file())!))
    await idle(this.pat.s)
  }

  async bobEdit(): Promise<void> {
    await this.bob.edit(this.change('bob', (await this.bob.file())!))
    await idle(this.bob.s)
  }

  /** pat's edit saved on disk while git's quiet period lasts (the watcher's report comes after). */
  async patSaveNow(): Promise<void> {
    const f = path.join(this.pat.root, TODOS)
    await fs.writeFile(f, this.change('pat', await fs.readFile(f, 'utf8')))
  }

  git(args: string[]): Promise<string> { return gitAsDaemon(this.pat, args, 'pat') }

  async patPush(): Promise<void> {
    try {
      gitAs(this.pat.root, ['push', '-q', 'origin', 'HEAD:main'], 'pat')
    } catch {
      await this.git(['-c', 'merge.autoStash=true', 'pull', '-q', '--no-rebase', '--no-edit', 'origin', 'main'])
      gitAs(this.pat.root, ['push', '-q', 'origin', 'HEAD:main'], 'pat')
    }
  }

  async tinaCommitPush(): Promise<void> {
    const f = path.join(this.tina, TODOS)
    gitAs(this.tina, ['pull', '-q', '--no-rebase', '--no-edit', 'origin', 'main'], 'tina')
    await fs.writeFile(f, this.change('tina', await fs.readFile(f, 'utf8')))
    gitAs(this.tina, ['commit', '-qam', `tina ${this.n}`], 'tina')
    gitAs(this.tina, ['push', '-q', 'origin', 'main'], 'tina')
    for (const [k, v] of this.tinaPending) this.want.set(`tina@${k}`, v)
    this.tinaPending.clear()
  }

  /** Once pat pulled, tina's pushed values are expected on pat's side. */
  pulled(): void {
    for (const [k, v] of [...this.want]) if (k.startsWith('tina@')) {
      this.want.set(k.slice(5), v)
      this.want.delete(k)
    }
  }

  async step(): Promise<void> {
    const r = this.rnd()
    const staged = async (): Promise<void> => {
      gitAs(this.pat.root, ['add', '-A', '.rhema'], 'pat')
    }
    const kinds: Array<[number, string, () => Promise<unknown>]> = [
      [3, 'pat edits', () => this.patEdit()],
      [3, 'bob edits', () => this.bobEdit()],
      [2, 'bob → pat', () => pass(this.bob, this.pat)],
      [2, 'pat → bob', () => pass(this.pat, this.bob)],
      [2, 'tina commits and pushes', () => this.tinaCommitPush()],
      [2, 'pat commits', async () => { await staged(); return this.git(['commit', '-qm', `pat ${this.n}`, '--allow-empty']) }],
      [1, 'pat pushes', () => this.patPush()],
      [1, 'pat pulls (merge, autostash)', async () => { await this.git(['-c', 'merge.autoStash=true', 'pull', '-q', '--no-rebase', '--no-edit', 'origin', 'main']); this.pulled() }],
      [1, 'pat pulls (rebase, autostash)', async () => { await this.git(['pull', '-q', '--rebase', '--autostash', 'origin', 'main']); this.pulled() }],
      // In one quiet period of the git watch (a stash seen alone is held by the git watch's stash hold,
      // which the in-process space lacks: e2e plain-git and git-ops cover it).
      [1, 'pat: git stash && git pull && git stash pop', async () => {
        const entries = () => gitAs(this.pat.root, ['stash', 'list'], 'pat')
        const had = entries()
        await gitAsDaemon(this.pat, ['stash', '-q'], 'pat', async () => {
          gitAs(this.pat.root, ['pull', '-q', '--no-rebase', '--no-edit', 'origin', 'main'], 'pat')
          if (entries() !== had) gitAs(this.pat.root, ['stash', 'pop', '-q'], 'pat') // (nothing to stash: none made)
        })
        this.pulled()
      }],
      [1, 'pat switches to a new branch and saves at once', async () => {
        await gitAsDaemon(this.pat, ['switch', '-q', '-c', `b${++this.n}`], 'pat', () => this.patSaveNow())
        await idle(this.pat.s)
      }],
      [1, 'pat: git checkout -- the file (after an exchange with bob)', () => this.revert()],
      [1, 'bob → pat while git pulls', async () => {
        await gitAsDaemon(this.pat, ['-c', 'merge.autoStash=true', 'pull', '-q', '--no-rebase', '--no-edit', 'origin', 'main'], 'pat', () => pass(this.bob, this.pat))
        this.pulled()
      }],
    ]
    let x = r * kinds.reduce((a, k) => a + k[0], 0)
    const [, name, run] = kinds.find((k) => (x -= k[0]) < 0) ?? kinds[0]!
    this.steps.push(name)
    await run()
    if (process.env.CTXSYNC_GIT_TRACE) console.log(`── ${this.steps.length}. ${name} (records: pat ${this.pat.s.conflicts().length}, bob ${this.bob.s.conflicts().length})\npat:\n${await this.pat.file()}bob:\n${await this.bob.file()}`)
  }

  /**
   * `git checkout -- FILE`: pat throws the uncommitted changes away, a deliberate edit (gitintent.ts revert)
   * that the peers take too. Exchanged with bob before and after, so that no edit of bob's races it: afterwards
   * every field holds HEAD's value, and items HEAD lacks are gone.
   */
  async revert(): Promise<void> {
    await pass(this.bob, this.pat)
    await pass(this.pat, this.bob)
    const head = gitAs(this.pat.root, ['show', `HEAD:${TODOS}`], 'pat')
    await this.git(['checkout', '--', TODOS])
    const now = (await this.pat.file())!
    if (now !== head) throw new Error(`after git checkout -- the file is not HEAD's version:\n${now}--- HEAD\n${head}`)
    const items = (parse(head) as { todos: Array<Record<string, unknown>> }).todos
    for (const who of ['pat', 'bob'] as const) this.owned[who] = this.owned[who].filter((id) => items.some((t) => t.id === id))
    for (const k of [...this.want.keys()]) if (!k.startsWith('tina@')) this.want.delete(k)
    for (const t of items) for (const f of ['title', 'status']) this.want.set(`${String(t.id)}.${f}`, String(t[f]))
    // The revert wrote bob's fields too: bob takes it before editing again (else a race, rightly recorded).
    await pass(this.pat, this.bob)
  }

  /** Everything exchanged: tina's last push pulled, pat and bob both ways. */
  async settle(): Promise<void> {
    this.steps.push('settle: pat pulls, pat ↔ bob')
    await this.git(['-c', 'merge.autoStash=true', 'pull', '-q', '--no-rebase', '--no-edit', 'origin', 'main'])
    this.pulled()
    await pass(this.bob, this.pat)
    await pass(this.pat, this.bob)
    await pass(this.bob, this.pat)
  }

  async check(): Promise<string[]> {
    const out: string[] = []
    const [p, b] = [(await this.pat.file())!, (await this.bob.file())!]
    if (p !== b) out.push(`pat's and bob's files differ:\n--- pat\n${p}--- bob\n${b}`)
    let data: { todos?: Array<Record<string, unknown>> }
    try {
      data = parse(p) as typeof data
    } catch (e) {
      return [...out, `pat's file does not parse: ${(e as Error).message}`]
    }
    const items = data.todos ?? []
    const seen = new Map<string, number>()
    for (const t of items) seen.set(String(t.id), (seen.get(String(t.id)) ?? 0) + 1)
    for (const [id, k] of seen) if (k > 1) out.push(`${id} ${k} times`)
    for (const [key, v] of this.want) {
      if (key.startsWith('tina@')) continue
      const [id, field] = [key.slice(0, key.lastIndexOf('.')), key.slice(key.lastIndexOf('.') + 1)]
      const t = items.find((x) => String(x.id) === id)
      if (!t) out.push(`${id} missing (its ${field} should be '${v}')`)
      else if (String(t[field]) !== v) out.push(`${id}.${field} is '${String(t[field])}', its writer's last value is '${v}'`)
    }
    for (const [who, n] of [['pat', this.pat], ['bob', this.bob]] as const) {
      const c = n.s.conflicts()
      if (c.length) out.push(`${who} has ${c.length} conflict record(s) nobody made: ${JSON.stringify(c).slice(0, 400)}`)
    }
    return out
  }
}

/** One schedule of `steps` random steps from `seed`; its steps and what failed (nothing: it passed). */
export async function runGitSchedule(seed: number, steps: number): Promise<Outcome> {
  const { node: pat, mate: tina } = await pushedWorld('pat', 'tina', GIT_SEED)
  const bob = await joinedPeer(pat)
  const s = new Schedule(mulberry32(seed), pat, bob, tina)
  for (const id of ['tina-1', 'tina-2', 'pat-1', 'pat-2', 'bob-1', 'bob-2']) s.expectNew(id)
  try {
    for (let i = 0; i < steps; i++) await s.step()
    await s.settle()
    return { steps: s.steps, failures: await s.check() }
  } catch (e) {
    return { steps: s.steps, failures: [`step ${s.steps.length} (${s.steps.at(-1)}) threw: ${(e as Error).message}`] }
  } finally {
    await pat.close()
    await bob.close()
  }
}
