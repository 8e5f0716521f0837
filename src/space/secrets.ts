/**
 * The space secret, this machine's peer identity, and join codes.
 *
 * The secret is created by the first `init` and lives only in `.ctxsync/secret` (mode 0600) on machines that
 * joined; it never enters the repository or the wire. `CTXSYNC_SECRET` always overrides it (CI, scripts).
 * A join code (`ctxsync invite`) carries the space id, the secret and optionally peer URLs to dial.
 * A relay token (`ctxsync token create`, `CTXSYNC_TOKEN`) stands in for the secret with a relay only.
 */
import { randomBytes } from 'node:crypto'
import { constants as fsc } from 'node:fs'
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

/** Reads a small file of ours without following a link: the target could be any file of this user's. */
async function readOwnFile(file: string, maxBytes: number): Promise<string | null> {
  let fh: fs.FileHandle
  try {
    fh = await fs.open(file, fsc.O_RDONLY | fsc.O_NOFOLLOW)
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code
    if (code === 'ENOENT') return null
    if (code === 'ELOOP' || code === 'EMLINK') throw new CtxError('state-link', `${file} is a symbolic link: ctxsync does not follow links in its state directory; remove it and run \`ctxsync init\``)
    throw e
  }
  try {
    const st = await fh.stat()
    if (!st.isFile()) throw new CtxError('state-not-file', `${file} is not a regular file: remove it and run \`ctxsync init\``)
    if (st.size > maxBytes) throw new CtxError('state-too-large', `${file} is larger than ${maxBytes} bytes, so it is not ctxsync's: remove it and run \`ctxsync init\``)
    return await fh.readFile('utf8')
  } finally {
    await fh.close()
  }
}

/** The secret in `file` (null when there is none); a file that does not hold one in the right form is refused. */
export async function readSecretFile(file: string): Promise<string | null> {
  const text = await readOwnFile(file, 4096)
  const s = text?.trim() ?? ''
  if (s === '') return null
  if (!validSecret(s)) {
    throw new CtxError('bad-secret', `${file} does not hold a ctxsync secret (expected 22+ characters of A–Z, a–z, 0–9, - or _): remove it and run \`ctxsync init --join CODE\``)
  }
  return s
}

/** Created 0600 (the temp file too) in the 0700 state directory: no other user can read it at any moment. */
export async function writeSecretFile(file: string, secret: string): Promise<void> {
  await writeFileAtomic(file, secret + '\n', { mode: 0o600 })
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
    const text = await readOwnFile(file, 64 * 1024)
    if (text === null) return null
    const v = (JSON.parse(text) ?? {}) as Partial<Identity>
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
  await writeFileAtomic(file, JSON.stringify(id, null, 2) + '\n', { mode: 0o600 })
  return id
}

export function hostName(): string {
  return os.hostname()
}
