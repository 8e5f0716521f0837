/**
 * A hostile `ctxsync.yaml` (the config is YAML people edit and commit): an alias bomb is a config error
 * at the first alias's line:col, not an unexpected crash, and costs no memory (the yaml package stops
 * expanding at its alias count).
 */
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { describe, expect, it } from 'vitest'
import { readTeamConfig } from '../../src/space/config.js'

describe('ctxsync.yaml: hostile content', () => {
  it('an alias bomb is a config error with its position', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ctxsync-config-'))
    const file = path.join(dir, 'ctxsync.yaml')
    const lines = ['version: 1', 'space: s-abcdefghijklmnop', 'a0: &a0 ["lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol"]']
    for (let i = 1; i < 12; i++) lines.push(`a${i}: &a${i} [${Array(9).fill(`*a${i - 1}`).join(', ')}]`)
    fs.writeFileSync(file, `${lines.join('\n')}\n`)
    try {
      await expect(readTeamConfig(file)).rejects.toThrow(/ctxsync\.yaml:4:10: aliases expand too far/)
    } finally {
      fs.rmSync(dir, { recursive: true, force: true })
    }
  })
})

describe('ctxsync.yaml: an alias to a missing anchor (black-box tester finding 6)', () => {
  it('is a config error at the alias, not an alias bomb', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ctxsync-config-'))
    const file = path.join(dir, 'ctxsync.yaml')
    fs.writeFileSync(file, 'version: 1\nspace: s-abcdefghijklmnop\nrules: *nope\n')
    try {
      await expect(readTeamConfig(file)).rejects.toThrow(/ctxsync\.yaml:3:8: unresolved alias: \*nope \(no anchor &nope before it\)/)
    } finally {
      fs.rmSync(dir, { recursive: true, force: true })
    }
  })
})
