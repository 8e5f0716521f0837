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

  // CI saw a daemon fail to start with a JSON error: another process was writing the cache in place.
  it('takes a cache file cut short or edited by hand for a miss, and readers racing writers never fail', async () => {
    const root = await fs.mkdtemp(path.join(os.tmpdir(), 'ctxsync-config-'))
    dirs.push(root)
    await fs.mkdir(path.join(root, '.ctxsync'))
    const team = path.join(root, 'ctxsync.yaml')
    const cacheFile = path.join(root, '.ctxsync', 'ctxsync.yaml.parsed.json')
    await fs.writeFile(team, TEAM('s-aaaaaaaaaaaaaaaa'))
    for (const junk of ['{"key":"1:2', '', 'null', '[]', '{"value":1}', '{"key":5}']) {
      await fs.writeFile(cacheFile, junk)
      expect((await readTeamConfig(team))?.space).toBe('s-aaaaaaaaaaaaaaaa')
    }
    // Seeded schedule: a writer changes the file while readers (each a fresh parse or a cache hit) race it.
    let seed = 7
    const rnd = () => ((seed = (seed * 1103515245 + 12345) & 0x7fffffff) / 0x7fffffff)
    for (let round = 0; round < 40; round++) {
      const discovery = rnd() < 0.5 ? 'none' : 'mdns'
      await fs.writeFile(team, TEAM('s-aaaaaaaaaaaaaaaa', discovery) + '#'.repeat(Math.floor(rnd() * 4000)))
      const got = await Promise.all(Array.from({ length: 8 }, () => readTeamConfig(team)))
      for (const g of got) expect(g?.discovery).toBe(discovery)
    }
    expect((await fs.readdir(path.join(root, '.ctxsync'))).filter((f) => f !== 'ctxsync.yaml.parsed.json')).toEqual([])
  })
})
