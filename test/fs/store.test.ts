import path from 'node:path'
import { afterAll } from 'vitest'
import { FileDocStore } from '../../src/fs/sidecar.js'
import { MemoryDocStore } from '../../src/fs/memoryStore.js'
import { removeTmpDirs, tmpDir } from './helpers.js'
import { runStoreContract } from './store.contract.js'

afterAll(removeTmpDirs)

runStoreContract('FileDocStore', async (opts) => {
  const dir = path.join(await tmpDir(), '.ctxsync', 'docs')
  const store = new FileDocStore({ dir, ...opts })
  const opened = [store]
  return {
    store,
    reopen: async () => {
      const s = new FileDocStore({ dir, ...opts })
      opened.push(s)
      return s
    },
    cleanup: async () => {
      await Promise.all(opened.map((s) => s.close()))
    },
  }
})

runStoreContract('MemoryDocStore', async (opts) => {
  const store = new MemoryDocStore(opts)
  return { store, reopen: async () => store.reopen(), cleanup: async () => {} }
})
