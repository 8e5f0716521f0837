/**
 * Where `ctxsync serve` keeps things (the relay's storage contract, `src/net/relay/storage.ts`):
 *
 *   <data>/relay.json                the relay's own peer id (created once)
 *   <data>/<spaceId>/space.json      the space's registration: its Ed25519 public key, first contact time
 *   <data>/<spaceId>/docs/           the space's CRDT state, one FileDocStore (snapshot + fsynced log per
 *                                    document), exactly as peers keep their sidecars
 *   <data>/<spaceId>/seen.json       when a peer last came, and whether a second session ever did (expiry)
 *   <data>/lock, lock.owner.json     the lock that keeps a second relay off this directory (`fs/lock.ts`)
 *
 * No secret is ever written here. Registrations are written atomically and fsynced (file and directory)
 * before the relay admits anyone on their strength. Deleting `<data>/<spaceId>/` forgets a space entirely
 * (the next peer to prove a secret for that id registers it anew) — the remedy for a squatted space id.
 * `memoryRelayStorage` is the in-memory twin for tests.
 */
import fs from 'node:fs/promises'
import path from 'node:path'
import { CtxError } from '../errors.js'
import { isPeerId, isSpaceId, newPeerId, type PeerId, type SpaceId } from '../ids.js'
import { writeFileAtomic } from './atomic.js'
import { MemoryDocStore } from './memoryStore.js'
import { FileDocStore } from './sidecar.js'
import type { DocStore } from './StorageAdapterInterface.js'

interface Registration {
  publicKey: Uint8Array
  registeredAt: string
}

interface SpaceRecord {
  space: SpaceId
  registeredAt: string
  lastSeenAt?: string
  confirmed?: boolean
}

export interface RelayStorageImpl {
  identity(): Promise<{ id: PeerId }>
  registration(space: SpaceId): Promise<Registration | null>
  register(space: SpaceId, reg: Registration): Promise<void>
  docs(space: SpaceId): DocStore
  spaces(): Promise<SpaceRecord[]>
  touch(space: SpaceId, seen: { lastSeenAt: string; confirmed: boolean }): Promise<void>
  forget(space: SpaceId): Promise<void>
}

async function readJson(file: string): Promise<unknown | null> {
  try {
    return JSON.parse(await fs.readFile(file, 'utf8')) as unknown
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return null
    if (e instanceof SyntaxError) throw new CtxError('bad-relay-data', `${file} is damaged: ${e.message}`)
    throw e
  }
}

function spaceDir(dir: string, space: SpaceId): string {
  // Space ids come off the wire already validated; check again, as they become a path here.
  if (!isSpaceId(space)) throw new TypeError(`not a space id: ${JSON.stringify(space)}`)
  return path.join(dir, space)
}

export function fileRelayStorage(dir: string): RelayStorageImpl {
  const root = path.resolve(dir)
  let identity: Promise<{ id: PeerId }> | undefined
  return {
    identity: () =>
      (identity ??= (async () => {
        const file = path.join(root, 'relay.json')
        const v = (await readJson(file)) as { id?: unknown } | null
        if (v && isPeerId(v.id)) return { id: v.id }
        if (v) throw new CtxError('bad-relay-data', `${file} holds no valid relay id: delete it to create a new one`)
        const id = newPeerId()
        await fs.mkdir(root, { recursive: true })
        await writeFileAtomic(file, JSON.stringify({ id, createdAt: new Date().toISOString() }, null, 1) + '\n')
        return { id }
      })()),
    async registration(space) {
      const file = path.join(spaceDir(root, space), 'space.json')
      const v = (await readJson(file)) as { space?: unknown; publicKey?: unknown; registeredAt?: unknown } | null
      if (!v) return null
      const key = typeof v.publicKey === 'string' ? Buffer.from(v.publicKey, 'base64') : null
      if (v.space !== space || !key || key.length !== 32) {
        throw new CtxError('bad-relay-data', `${file} is damaged: delete the directory ${path.dirname(file)} to let the space register again`)
      }
      return { publicKey: new Uint8Array(key), registeredAt: String(v.registeredAt ?? '') }
    },
    async register(space, reg) {
      const file = path.join(spaceDir(root, space), 'space.json')
      const body = { space, publicKey: Buffer.from(reg.publicKey).toString('base64'), registeredAt: reg.registeredAt }
      await writeFileAtomic(file, JSON.stringify(body, null, 1) + '\n')
    },
    docs: (space) => new FileDocStore({ dir: path.join(spaceDir(root, space), 'docs') }),
    async spaces() {
      const names = await fs.readdir(root).catch((e: NodeJS.ErrnoException) => (e.code === 'ENOENT' ? [] : Promise.reject(e)))
      const out: SpaceRecord[] = []
      for (const name of names) {
        if (!isSpaceId(name)) continue
        const reg = (await readJson(path.join(root, name, 'space.json')).catch(() => null)) as { registeredAt?: unknown } | null
        if (!reg) continue
        const seen = (await readJson(path.join(root, name, 'seen.json')).catch(() => null)) as { lastSeenAt?: unknown; confirmed?: unknown } | null
        const r: SpaceRecord = { space: name, registeredAt: String(reg.registeredAt ?? '') }
        if (typeof seen?.lastSeenAt === 'string') r.lastSeenAt = seen.lastSeenAt
        if (seen?.confirmed === true) r.confirmed = true
        out.push(r)
      }
      return out
    },
    async touch(space, seen) {
      await writeFileAtomic(path.join(spaceDir(root, space), 'seen.json'), JSON.stringify(seen) + '\n')
    },
    async forget(space) {
      await fs.rm(spaceDir(root, space), { recursive: true, force: true })
    },
  }
}

/** The same contract in memory; state survives `docs()` being called again, as a restarted relay's would. */
export function memoryRelayStorage(): RelayStorageImpl & { registrations: Map<SpaceId, Registration>; seen: Map<SpaceId, { lastSeenAt: string; confirmed: boolean }> } {
  const id = newPeerId()
  const registrations = new Map<SpaceId, Registration>()
  const seen = new Map<SpaceId, { lastSeenAt: string; confirmed: boolean }>()
  const stores = new Map<SpaceId, MemoryDocStore>()
  return {
    registrations,
    seen,
    spaces: async () => [...registrations].map(([space, r]) => ({ space, registeredAt: r.registeredAt, ...seen.get(space) })),
    touch: async (space, s) => void seen.set(space, { ...s }),
    forget: async (space) => {
      registrations.delete(space)
      seen.delete(space)
      stores.delete(space)
    },
    identity: async () => ({ id }),
    registration: async (space) => registrations.get(space) ?? null,
    register: async (space, reg) => void registrations.set(space, reg),
    docs: (space) => {
      const prev = stores.get(space)
      const store = prev ? prev.reopen() : new MemoryDocStore()
      stores.set(space, store)
      return store
    },
  }
}
