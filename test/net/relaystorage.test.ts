/**
 * The RelayStorage contract (relaystorage.contract.ts) on the file implementation (a temp directory) and the
 * memory one, and what only the file one promises: the key file's mode, damaged files named as such.
 */
import fs from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'
import { describe, expect, it } from 'vitest'
import { fileRelayStorage, memoryRelayStorage } from '../../src/fs/relayStorage.js'
import { newSpaceId } from '../../src/ids.js'
import { relayStorageContract } from './relaystorage.contract.js'

const tempDir = () => fs.mkdtemp(path.join(os.tmpdir(), 'ctxsync-relaystore-'))

relayStorageContract('fileRelayStorage', async () => {
  const dir = await tempDir()
  return {
    storage: fileRelayStorage(dir),
    reopen: async () => fileRelayStorage(dir),
    cleanup: () => fs.rm(dir, { recursive: true, force: true }),
  }
})

relayStorageContract('memoryRelayStorage', async () => {
  const storage = memoryRelayStorage()
  return { storage, reopen: async () => storage, cleanup: async () => {} }
})

describe('fileRelayStorage only', () => {
  it('keeps the identity key seed in a 0600 file, and names damaged files instead of guessing', async () => {
    const dir = await tempDir()
    try {
      const s = fileRelayStorage(dir)
      await s.identity()
      expect((await fs.stat(path.join(dir, 'relay-key'))).mode & 0o777).toBe(0o600)
      const space = newSpaceId()
      await s.register(space, { publicKey: new Uint8Array(32), registeredAt: 'x' })
      await fs.writeFile(path.join(dir, space, 'space.json'), '{"space": "nope"')
      await expect(s.registration(space)).rejects.toMatchObject({ code: 'bad-relay-data' })
      await fs.writeFile(path.join(dir, 'relay-key'), 'short\n')
      await expect(fileRelayStorage(dir).identity()).rejects.toMatchObject({ code: 'bad-relay-data' })
      // A space id becomes a path here: one that is not a space id is refused before any file is touched.
      await expect(s.registration('../etc' as never)).rejects.toThrow(TypeError)
    } finally {
      await fs.rm(dir, { recursive: true, force: true })
    }
  })
})
