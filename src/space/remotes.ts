/**
 * Whom a run of `sync` or `watch` talks to, and how a space's credentials meet them.
 *
 * Peer to peer (discovery `none`): the URLs given with --peer, else those in `.ctxsync/local.yaml`, and the
 * daemon listens for peers. In registry mode (`discovery: registry` in ctxsync.yaml, or --registry for one
 * run) peers talk to the relay only: the one URL dialled is the relay's and the daemon listens nowhere —
 * peers reach each other through the relay. A relay can be shown the secret's proof or a token
 * (CTXSYNC_TOKEN); peers need the secret.
 */
import { AccessRefusedError, CtxError, UsageError } from '../errors.js'
import { readToken, TokenError } from '../net/tokens.js'
import type { LocalSettings, TeamConfig } from './config.js'
import { TOKEN_ENV } from './secrets.js'
import type { Space } from './space.js'

export interface Remotes {
  /** URLs to dial. */
  peers: string[]
  /** The relay's URL in registry mode (then it is the only peer). */
  registry: string | null
  /** Whether the daemon listens for peers (never in registry mode). */
  listen: boolean
}

export interface RemoteOverrides {
  peers?: string[]
  registry?: string
}

export function remotesFor(config: TeamConfig, local: LocalSettings, o: RemoteOverrides = {}): Remotes {
  if (o.peers?.length && o.registry) throw new UsageError('give either --peer or --registry: in registry mode peers talk to the relay only')
  if (o.registry) return { peers: [o.registry], registry: o.registry, listen: false }
  if (o.peers) return { peers: o.peers, registry: null, listen: true }
  if (config.discovery === 'registry') {
    if (!config.registry) {
      throw new CtxError('no-registry', 'ctxsync.yaml says `discovery: registry` but names no registry URL: add `registry: wss://…` there (`ctxsync init --registry URL` does), or pass --registry URL')
    }
    return { peers: [config.registry], registry: config.registry, listen: false }
  }
  return { peers: local.peers, registry: null, listen: true }
}

/** The credentials a sync may use, after checking that a token (if any) is for this space. */
export function credentialsOf(space: Space, remotes: Remotes): { secret?: string; token?: string } {
  const token = space.token ?? undefined
  if (token) {
    let claims
    try {
      claims = readToken(token)
    } catch (e) {
      if (e instanceof TokenError) throw new AccessRefusedError(`${TOKEN_ENV}: ${e.message}`)
      throw e
    }
    if (claims.space !== space.config.space) {
      throw new AccessRefusedError(`${TOKEN_ENV} is a token for space ${claims.space}, but ctxsync.yaml names ${space.config.space}: use a token made in this repository (\`ctxsync token create\`)`)
    }
  }
  // With a token but no secret, peers that turn out not to be relays refuse in the handshake, saying so.
  if (!space.secret && !token) {
    const relay = remotes.registry ? ` (or set ${TOKEN_ENV} to a token for the relay)` : ''
    throw new CtxError('no-secret', `this machine does not know the secret of space ${space.config.space}: ask a teammate to run \`ctxsync invite\` and run \`ctxsync init --join CODE\` here (or set CTXSYNC_SECRET)${relay}`)
  }
  return { ...(space.secret ? { secret: space.secret } : {}), ...(token ? { token } : {}) }
}
