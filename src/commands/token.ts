/**
 * `ctxsync token create --role read|write|admin [--expires 7d]`: a relay token for this space, signed with
 * the space's key (so it needs the secret), which a relay verifies with the public key the space
 * registered — no database. Give it to CI or an agent as CTXSYNC_TOKEN: with the committed ctxsync.yaml
 * (or --registry URL) it runs `ctxsync sync` without `init` and without the secret. The token holds its
 * own key (proof of possession, `net/tokens.ts`): what a relay, or anyone between, sees of it cannot be
 * replayed; but whoever has the whole token string has its role until it expires (no revoking it early).
 */
import { UsageError } from '../errors.js'
import { loadSetup, loadTokens, type Access } from '../space/index.js'

export interface TokenOptions {
  cwd: string
  role: string
  /** `30m`, `12h`, `7d`, `4w`, or `never`; default 30d. */
  expires?: string
  now?: number
}

export interface TokenResult {
  token: string
  role: Access
  /** ISO time, or null when it never expires. */
  expires: string | null
  space: string
}

export const DEFAULT_EXPIRY = '30d'
const UNIT_MS: Record<string, number> = { m: 60_000, h: 3_600_000, d: 86_400_000, w: 7 * 86_400_000 }

/** Milliseconds of `30m`/`12h`/`7d`/`4w`; null for `never`. */
export function parseExpiry(s: string): number | null {
  if (s === 'never') return null
  const m = /^(\d+)([mhdw])$/.exec(s.trim())
  if (!m || Number(m[1]) === 0) throw new UsageError(`--expires ${s}: expected a duration like 30m, 12h, 7d or 4w, or never`)
  const ms = Number(m[1]) * UNIT_MS[m[2]!]!
  if (ms > 100 * 365 * 86_400_000) throw new UsageError(`--expires ${s}: more than 100 years; use never for a token that does not expire`)
  return ms
}

export async function createToken(o: TokenOptions): Promise<TokenResult> {
  const { ACCESS_LEVELS, mintToken } = await loadTokens()
  if (!ACCESS_LEVELS.includes(o.role as Access)) throw new UsageError(`--role ${o.role}: expected read, write or admin`)
  const ttl = parseExpiry(o.expires ?? DEFAULT_EXPIRY)
  const { spaceWithSecret } = await loadSetup()
  const { space, secret, registryKey } = await spaceWithSecret(o.cwd, (id) => `creating a token needs the secret of space ${id}, which this machine does not know: run this where \`ctxsync init\` created or joined the space`)
  const now = o.now ?? Date.now()
  const exp = ttl === null ? null : Math.floor((now + ttl) / 1000)
  // The pinned relay key rides along, so a holder without ctxsync.yaml's pin still checks the relay.
  const token = mintToken({ secret, space, role: o.role as Access, exp, registryKey })
  return { token, role: o.role as Access, expires: exp === null ? null : new Date(exp * 1000).toISOString(), space }
}
