/**
 * Relay tokens as `ctxsync token create` makes them: signed with the space's key (derived from the secret,
 * `net/auth.ts`), with the pinned relay key riding along so that a holder without ctxsync.yaml's pin still
 * checks the relay (`net/tokens.ts` has the format). Here so that the command reaches `net` through the
 * space façade.
 */
import { deriveCredentials } from '../net/auth.js'
import { ACCESS_LEVELS, type Access } from '../net/protocol.js'
import { parseKey } from '../net/relay-auth.js'
import { signToken } from '../net/tokens.js'
import type { SpaceId } from '../ids.js'

export { ACCESS_LEVELS, type Access }

/** `exp`: seconds since the epoch, or null for a token that never expires. */
export function mintToken(o: { secret: string; space: SpaceId; role: Access; exp: number | null; registryKey?: string | null }): string {
  const relay = o.registryKey ? parseKey(o.registryKey) ?? undefined : undefined
  return signToken(deriveCredentials(o.secret, o.space), { role: o.role, exp: o.exp, ...(relay ? { relay } : {}) })
}
