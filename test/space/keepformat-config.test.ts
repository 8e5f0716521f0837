/**
 * `keep-format` in ctxsync.yaml (issue 13 item 7): read and checked like the other settings (a wrong value is
 * a config error at its line:col), absent means `agents`, and whose saves get it follows the local `agent`.
 */
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { describe, expect, it } from 'vitest'
import { keepsFormat, readTeamConfig, renderTeamConfig } from '../../src/space/config.js'

const BASE = 'version: 1\nspace: s-abcdefghijklmnop\n'

async function withConfig<T>(text: string, f: (file: string) => Promise<T>): Promise<T> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ctxsync-config-'))
  const file = path.join(dir, 'ctxsync.yaml')
  fs.writeFileSync(file, text)
  try {
    return await f(file)
  } finally {
    fs.rmSync(dir, { recursive: true, force: true })
  }
}

describe('ctxsync.yaml: keep-format', () => {
  it('reads each mode; absent is agents', async () => {
    for (const m of ['agents', 'everyone', 'off'] as const) {
      expect((await withConfig(`${BASE}keep-format: ${m}\n`, readTeamConfig))?.keepFormat).toBe(m)
    }
    expect((await withConfig(BASE, readTeamConfig))?.keepFormat).toBeUndefined()
  })

  it('a wrong value is a config error at its position', async () => {
    await withConfig(`${BASE}keep-format: always\n`, async (file) => {
      await expect(readTeamConfig(file)).rejects.toThrow(/ctxsync\.yaml:3:14: `keep-format` must be one of agents, everyone, off/)
    })
  })

  it('whose saves get it: agents by default, everyone, or nobody', () => {
    const agent = { kind: 'agent' as const }
    const human = { kind: 'human' as const }
    expect([keepsFormat(undefined, agent), keepsFormat(undefined, human)]).toEqual([true, false])
    expect([keepsFormat('agents', agent), keepsFormat('agents', human)]).toEqual([true, false])
    expect([keepsFormat('everyone', agent), keepsFormat('everyone', human)]).toEqual([true, true])
    expect([keepsFormat('off', agent), keepsFormat('off', human)]).toEqual([false, false])
  })

  it('a non-default mode is written with its comment, and reads back', async () => {
    const text = renderTeamConfig({ version: 1, space: 's-abcdefghijklmnop' as never, track: ['**/*.yaml'], discovery: 'none', registry: null, rules: [], keepFormat: 'off' })
    expect(text).toContain('keep-format: off\n')
    expect((await withConfig(text, readTeamConfig))?.keepFormat).toBe('off')
  })
})
