/**
 * `ctxsync invite`: prints a join code for this space (space id + secret, and optionally peer URLs to dial).
 * The code is a secret: whoever holds it can read and write the space.
 */
import { UsageError } from '../errors.js'
import { isWsUrl } from '../space/config.js'
import { spaceWithSecret } from '../space/member.js'
import { encodeJoinCode } from '../space/secrets.js'

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
  const { space, secret } = await spaceWithSecret(o.cwd, (id) => `this machine does not know the secret of space ${id}, so it cannot invite: ask a member to run \`ctxsync invite\``)
  const peers = o.peers ?? []
  return { code: encodeJoinCode({ space, secret, peers }), space, peers }
}
