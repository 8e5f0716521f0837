/**
 * `ctxsync invite`: prints a join code for this space (space id + secret, and optionally peer URLs to dial).
 * The code is a secret: whoever holds it can read and write the space.
 */
import { checkPeerUrls, loadSetup } from '../space/index.js'

export interface InviteOptions {
  cwd: string
  peers?: string[]
}

export interface InviteResult {
  code: string
  space: string
  peers: string[]
  /** ctxsync.yaml's `discovery`: with `none` and no peer in the code, the new member must be told one. */
  discovery: string
}

export async function invite(o: InviteOptions): Promise<InviteResult> {
  checkPeerUrls(o.peers)
  const { encodeJoinCode, spaceWithSecret } = await loadSetup()
  const { space, secret, discovery } = await spaceWithSecret(o.cwd, (id) => `this machine does not know the secret of space ${id}, so it cannot invite: ask a member to run \`ctxsync invite\``)
  const peers = o.peers ?? []
  return { code: encodeJoinCode({ space, secret, peers }), space, peers, discovery }
}
