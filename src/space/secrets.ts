/**
 * The space secret, this machine's peer identity, and join codes.
 *
 * The secret is created by the first `init` and lives only in `.ctxsync/secret` (mode 0600) on machines that
 * joined; it never enters the repository or the wire. `CTXSYNC_SECRET` always overrides it (CI, scripts).
 * A join code (`ctxsync invite`) carries the space id, the secret and optionally peer URLs to dial.
 * A relay token (`ctxsync token create`, `CTXSYNC_TOKEN`) stands in for the secret with a relay only.
 */
import { randomBytes } from 'node:crypto'
import fs from 'node:fs/promises'
import os from 'node:os'
import { CtxError } from '../errors.js'
import { writeFileAtomic } from '../fs/atomic.js'
import { asPeerId, isPeerId, isSpaceId, newPeerId, type PeerId, type SpaceId } from '../ids.js'

export const SECRET_ENV = 'CTXSYNC_SECRET'
export const TOKEN_ENV = 'CTXSYNC_TOKEN'
const CODE_PREFIX = 'ctxsync1-'

export function newSecret(): string {
  return randomBytes(32).toString('base64url')
}

function validSecret(s: string): boolean {
  return /^[A-Za-z0-9_-]{22,}$/.test(s)
}

export async function readSecretFile(file: string): Promise<string | null> {
  try {
    const s = (await fs.readFile(file, 'utf8')).trim()
    return s === '' ? null : s
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return null
    throw e
  }
}

export async function writeSecretFile(file: string, secret: string): Promise<void> {
  await writeFileAtomic(file, secret + '\n')
  await fs.chmod(file, 0o600)
}

/** The secret to use: the environment first, then the local file. */
export async function resolveSecret(file: string): Promise<{ secret: string; source: 'env' | 'file' } | null> {
  const env = process.env[SECRET_ENV]?.trim()
  if (env) {
    if (!validSecret(env)) throw new CtxError('bad-secret', `${SECRET_ENV} is not a ctxsync secret (expected 22+ characters of A–Z, a–z, 0–9, - or _)`)
    return { secret: env, source: 'env' }
  }
  const s = await readSecretFile(file)
  return s ? { secret: s, source: 'file' } : null
}

/** The relay token from the environment, or null. Checked only for its form here; the relay verifies it. */
export function resolveToken(): string | null {
  return process.env[TOKEN_ENV]?.trim() || null
}

export interface JoinCode {
  space: SpaceId
  secret: string
  peers: string[]
}

export function encodeJoinCode(c: JoinCode): string {
  const payload = JSON.stringify({ v: 1, s: c.space, k: c.secret, ...(c.peers.length ? { p: c.peers } : {}) })
  return CODE_PREFIX + Buffer.from(payload).toString('base64url')
}

export function decodeJoinCode(code: string): JoinCode {
  const bad = () =>
    new CtxError('bad-join-code', 'that is not a ctxsync join code: ask a teammate to run `ctxsync invite` and paste its last line')
  const trimmed = code.trim()
  if (!trimmed.startsWith(CODE_PREFIX)) throw bad()
  let v: { v?: unknown; s?: unknown; k?: unknown; p?: unknown }
  try {
    v = JSON.parse(Buffer.from(trimmed.slice(CODE_PREFIX.length), 'base64url').toString('utf8'))
  } catch {
    throw bad()
  }
  if (v.v !== 1 || !isSpaceId(v.s) || typeof v.k !== 'string' || !validSecret(v.k)) throw bad()
  const peers = Array.isArray(v.p) ? v.p.filter((p): p is string => typeof p === 'string') : []
  return { space: v.s, secret: v.k, peers }
}

export interface Identity {
  id: PeerId
  createdAt: string
}

export async function readIdentity(file: string): Promise<Identity | null> {
  try {
    const v = JSON.parse(await fs.readFile(file, 'utf8')) as Partial<Identity>
    if (!isPeerId(v.id)) throw new CtxError('bad-identity', `${file} is damaged: delete it and run \`ctxsync init\` to create a new identity`)
    return { id: asPeerId(v.id), createdAt: String(v.createdAt ?? '') }
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return null
    if (e instanceof SyntaxError) throw new CtxError('bad-identity', `${file} is damaged: delete it and run \`ctxsync init\``)
    throw e
  }
}

export async function createIdentity(file: string): Promise<Identity> {
  const id: Identity = { id: newPeerId(), createdAt: new Date().toISOString() }
  await writeFileAtomic(file, JSON.stringify(id, null, 2) + '\n')
  return id
}

export function hostName(): string {
  return os.hostname()
}
