/**
 * The interactive `resolve` flow, moved out of cli.ts behind an injected `ResolveIO`: what it prints and
 * asks with no conflicts, and the usage errors it gives before touching the space. (Conflicts being picked
 * and resolved end to end are in test/e2e/cli.test.ts.)
 */
import fs from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { init } from '../../src/commands/init.js'
import { pick, resolveFlow, type ResolveIO } from '../../src/commands/resolve.js'
import { UsageError } from '../../src/errors.js'
import { formatConflicts } from '../../src/output.js'
import { visible } from '../../src/visible.js'

const dirs: string[] = []
afterAll(() => Promise.all(dirs.map((d) => fs.rm(d, { recursive: true, force: true }))))

function recorder(interactive: boolean) {
  const said: Array<[string, unknown]> = []
  const io: ResolveIO = {
    interactive,
    ask: async (q) => {
      said.push(['ask', q])
      return 'q'
    },
    out: (s) => said.push(['out', s]),
    err: (s) => said.push(['err', s]),
    json: (v) => said.push(['json', v]),
    format: { conflicts: formatConflicts, text: visible },
  }
  return { io, said }
}

describe('resolve flow', () => {
  it('lists without a terminal, says "no conflicts" in one, and refuses contradictory flags first', async () => {
    const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'ctxsync-resolve-'))
    dirs.push(dir)
    await fs.mkdir(path.join(dir, '.rhema'))
    await fs.writeFile(path.join(dir, '.rhema', 'todos.yaml'), 'todos: []\n')
    await init({ cwd: dir, name: 'me', port: 0, discovery: 'none', noGit: true })

    const piped = recorder(false)
    await resolveFlow({ cwd: dir }, piped.io)
    expect(piped.said).toEqual([['out', formatConflicts([])]])

    const asJson = recorder(false)
    await resolveFlow({ cwd: dir, list: true, json: true }, asJson.io)
    expect(asJson.said).toEqual([['json', { conflicts: [] }]])

    const tty = recorder(true)
    await resolveFlow({ cwd: dir }, tty.io)
    expect(tty.said).toEqual([['out', 'no conflicts']])

    await expect(resolveFlow({ cwd: dir, id: 'abc', all: true, take: 1 }, recorder(true).io)).rejects.toBeInstanceOf(UsageError)
    await expect(resolveFlow({ cwd: dir, all: true }, recorder(true).io)).rejects.toThrow(/--take/)
    await expect(resolveFlow({ cwd: dir, id: 'abc', take: 1 }, recorder(false).io)).rejects.toMatchObject({ code: 'no-conflict' })
    // --take without an id listed in silence, as if the choice had been made (issue 17): a usage error with the fix.
    await expect(resolveFlow({ cwd: dir, take: 1 }, recorder(false).io)).rejects.toThrow(/--take needs the conflict it applies to: `ctxsync resolve ID --take 1`/)
  }, 60_000)

  it('the picker says why it asks again', async () => {
    const answers = ['7', 'two', '2']
    const said: string[] = []
    const io: ResolveIO = {
      interactive: true, ask: async () => answers.shift()!, out: () => undefined, err: (s) => void said.push(s), json: () => undefined,
      format: { conflicts: () => 'the conflict', text: visible },
    }
    const choices = await pick([{ id: 'c1', values: [{}, {}] } as never], io)
    expect(choices).toEqual([{ id: 'c1', take: 2 }])
    expect(said.filter((s) => /is not one of the choices: a number from 1 to 2/.test(s))).toHaveLength(2)
  })
})
