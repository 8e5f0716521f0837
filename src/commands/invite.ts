/**
 * `ctxsync invite`: prints a join code for this space (space id + secret, and optionally peer URLs to dial).
 * The code is a secret: whoever holds it can read and write the space.
 */
import path from 'node:path'
import { CtxError, NotInitializedError, UsageError } from '../errors.js'
import { isWsUrl, readTeamConfig } from '../space/config.js'
import { findRoot, spacePaths } from '../space/paths.js'
import { encodeJoinCode, resolveSecret } from '../space/secrets.js'

export interface InviteOptions {
  cwd: string
  peers?: string[]
}

export interface InviteResult {
  code: string
  space: string
  peers: string[]
}

export async function invite(o: InviteOptions): Promise<InviteResult> {
  for (const p of o.peers ?? []) if (!isWsUrl(p)) throw new UsageError(`--peer ${p}: expected a ws:// URL like ws://192.168.1.20:7420`)
  const root = findRoot(o.cwd)
  if (!root) throw new NotInitializedError(path.resolve(o.cwd))
  const paths = spacePaths(root)
  const config = await readTeamConfig(paths.config)
  if (!config) throw new NotInitializedError(root)
  const secret = await resolveSecret(paths.secret)
  if (!secret) {
    throw new CtxError('no-secret', `this machine does not know the secret of space ${config.space}, so it cannot invite: ask a member to run \`ctxsync invite\``)
  }
  const peers = o.peers ?? []
  return { code: encodeJoinCode({ space: config.space, secret: secret.secret, peers }), space: config.space, peers }
}
