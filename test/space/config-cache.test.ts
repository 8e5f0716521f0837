/**
 * Settings files are parsed once per content: the cached result is used while the file is unchanged, and
 * any change (a new value, a broken file) is seen at once.
 */
import fs from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { ConfigError, readLocalSettings, readTeamConfig } from '../../src/space/config.js'

const dirs: string[] = []
afterAll(() => Promise.all(dirs.map((d) => fs.rm(d, { recursive: true, force: true }))))

const TEAM = (space: string, discovery = 'none') => `version: 1\nspace: ${space}\ntrack:\n  - "**/.rhema/**/*.yaml"\ndiscovery: ${discovery}\nregistry: null\n`
const DEFAULTS = { name: 'x', agent: false, host: '127.0.0.1', port: 7420, peers: [] as string[] }

describe('settings parse cache', () => {
  it('uses the cached parse while the file is unchanged and sees every change', async () => {
    const root = await fs.mkdtemp(path.join(os.tmpdir(), 'ctxsync-config-'))
    dirs.push(root)
    await fs.mkdir(path.join(root, '.ctxsync'))
    const team = path.join(root, 'ctxsync.yaml')
    await fs.writeFile(team, TEAM('s-aaaaaaaaaaaaaaaa'))
    expect((await readTeamConfig(team))?.discovery).toBe('none')
    const cacheFile = path.join(root, '.ctxsync', 'ctxsync.yaml.parsed.json')
    expect(JSON.parse(await fs.readFile(cacheFile, 'utf8')).value.space).toBe('s-aaaaaaaaaaaaaaaa')
    expect((await readTeamConfig(team))?.space).toBe('s-aaaaaaaaaaaaaaaa')
    await fs.writeFile(team, TEAM('s-aaaaaaaaaaaaaaaa', 'mdns'))
    expect((await readTeamConfig(team))?.discovery).toBe('mdns')
    await fs.writeFile(team, TEAM('s-aaaaaaaaaaaaaaaa', 'carrier-pigeon'))
    await expect(readTeamConfig(team)).rejects.toBeInstanceOf(ConfigError)

    const local = path.join(root, '.ctxsync', 'local.yaml')
    await fs.writeFile(local, 'name: "ada"\nport: 7500\n')
    expect(await readLocalSettings(local, DEFAULTS)).toEqual({ ...DEFAULTS, name: 'ada', port: 7500 })
    // Cached: the same answer, and other defaults still fill in what the file leaves out.
    expect(await readLocalSettings(local, { ...DEFAULTS, host: '0.0.0.0' })).toEqual({ ...DEFAULTS, host: '0.0.0.0', name: 'ada', port: 7500 })
    await fs.writeFile(local, 'name: "ada"\nport: 99999\n')
    await expect(readLocalSettings(local, DEFAULTS)).rejects.toBeInstanceOf(ConfigError)
  })
})
