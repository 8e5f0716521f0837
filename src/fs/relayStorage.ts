/**
 * Where `ctxsync serve` keeps things (the relay's storage contract, `src/net/relay/storage.ts`):
 *
 *   <data>/relay.json                the relay's own peer id (created once)
 *   <data>/relay-key                 the seed of the relay's Ed25519 identity key (0600, created once):
 *                                    spaces pin its public key, so losing it makes every space refuse
 *                                    the relay until someone removes `registry-key` from ctxsync.yaml
 *   <data>/<spaceId>/space.json      the space's registration: its Ed25519 public key, first contact time
 *   <data>/<spaceId>/docs/           the space's CRDT state, one FileDocStore (snapshot + fsynced log per
 *                                    document), exactly as peers keep their sidecars
 *   <data>/<spaceId>/seen.json       when a peer last came, and whether a second session ever did (expiry)
 *   <data>/lock, lock.owner.json     the lock that keeps a second relay off this directory (`fs/lock.ts`)
 *
 * No space secret is ever written here. Registrations are written atomically and fsynced (file and directory)
 * before the relay admits anyone on their strength. Deleting `<data>/<spaceId>/` forgets a space entirely
 * (the next peer to prove a secret for that id registers it anew) — the remedy for a squatted space id.
 * `memoryRelayStorage` is the in-memory twin for tests; both run `test/net/relaystorage.contract.ts`.
 */
import fs from 'node:fs/promises'
import path from 'node:path'
import { CtxError } from '../errors.js'
import { isPeerId, isSpaceId, newPeerId, type PeerId, type SpaceId } from '../ids.js'
import { randomBytes } from 'node:crypto'
import { writeFileAtomic } from './atomic.js'
import { MemoryDocStore } from './memoryStore.js'
import { FileDocStore } from './sidecar.js'
// Type-only: the contract lives with the relay that uses it (`net` holds no file code, so the file
// implementation lives here and only its shape comes from there).
import type { Registration, RelayStorage, SpaceRecord } from '../net/relay/storage.js'

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

export function fileRelayStorage(dir: string): RelayStorage {
  const root = path.resolve(dir)
  let identity: ReturnType<RelayStorage['identity']> | undefined
  return {
    identity: () =>
      (identity ??= (async () => {
        const file = path.join(root, 'relay.json')
        const v = (await readJson(file)) as { id?: unknown } | null
        if (v && !isPeerId(v.id)) throw new CtxError('bad-relay-data', `${file} holds no valid relay id: delete it to create a new one`)
        let id = v?.id as PeerId | undefined
        if (!id) {
          id = newPeerId()
          await fs.mkdir(root, { recursive: true, mode: 0o700 })
          await writeFileAtomic(file, JSON.stringify({ id, createdAt: new Date().toISOString() }, null, 1) + '\n')
        }
        return { id, seed: await relayKeySeed(path.join(root, 'relay-key')) }
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

/** The relay key's seed, created 0600 from its first byte (never readable by others, even for an instant). */
async function relayKeySeed(file: string): Promise<Uint8Array> {
  try {
    const text = (await fs.readFile(file, 'utf8')).trim()
    const seed = Buffer.from(text, 'base64url')
    if (seed.length !== 32 || !/^[A-Za-z0-9_-]{43}$/.test(text)) {
      throw new CtxError('bad-relay-data', `${file} holds no valid relay key. Spaces pin this relay's key: restore the file from a backup, or delete it to make a new key (every space must then remove \`registry-key\` from ctxsync.yaml)`)
    }
    return new Uint8Array(seed)
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e
  }
  const seed = new Uint8Array(randomBytes(32))
  const tmp = `${file}.${process.pid}.tmp`
  const fh = await fs.open(tmp, 'wx', 0o600)
  try {
    await fh.writeFile(Buffer.from(seed).toString('base64url') + '\n')
    await fh.sync()
  } finally {
    await fh.close()
  }
  // link() fails if another process created the key meanwhile: then its key, not ours, is the relay's.
  try {
    await fs.link(tmp, file)
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e
    await fs.unlink(tmp)
    return relayKeySeed(file)
  }
  await fs.unlink(tmp)
  const dir = await fs.open(path.dirname(file), 'r')
  await dir.sync().finally(() => dir.close())
  return seed
}

/** The same contract in memory; state survives `docs()` being called again, as a restarted relay's would. */
export function memoryRelayStorage(): RelayStorage & { registrations: Map<SpaceId, Registration>; seen: Map<SpaceId, { lastSeenAt: string; confirmed: boolean }> } {
  const id = newPeerId()
  const seed = new Uint8Array(randomBytes(32))
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
    identity: async () => ({ id, seed }),
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
