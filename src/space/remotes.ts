/**
 * Whom a run of `sync` or `watch` talks to, and how a space's credentials meet them.
 *
 * Peer to peer (discovery `none`): the URLs given with --peer, else those in `.ctxsync/local.yaml`, and the
 * daemon listens for peers. In registry mode (`discovery: registry` in ctxsync.yaml, or --registry for one
 * run) peers talk to the relay only: the one URL dialled is the relay's and the daemon listens nowhere —
 * peers reach each other through the relay. A relay can be shown the secret's proof or a token
 * (CTXSYNC_TOKEN); peers need the secret.
 *
 * Only the registry URL is dialled as a relay, and the relay must prove the key pinned for the space (the
 * one a token carries, else `registry-key` in ctxsync.yaml); the first contact pins it in ctxsync.yaml.
 * A registry that is not on this machine must be `wss://` unless the user says `--insecure`
 * (or CTXSYNC_INSECURE=1): the relay channel is sealed either way, but TLS also hides the space id and names.
 */
import { AccessRefusedError, CtxError, UsageError } from '../errors.js'
import { logger } from '../debuglog.js'
import type { RelayDial } from '../net/handshake.js'
import { formatKey, parseKey } from '../net/relay-auth.js'
import { readToken, TokenError } from '../net/tokens.js'
import { isLoopbackUrl, pinRegistryKey, type LocalSettings, type TeamConfig } from './config.js'
import { TOKEN_ENV } from './secrets.js'
import { checkOneMode } from './flags.js'
import type { Space } from './space.js'

export interface Remotes {
  /** URLs to dial. */
  peers: string[]
  /** The relay's URL in registry mode (then it is the only peer). */
  registry: string | null
  /** Whether the daemon listens for peers (never in registry mode). */
  listen: boolean
}

const log = logger('space:remotes')
export const INSECURE_ENV = 'CTXSYNC_INSECURE'

export interface RemoteOverrides {
  peers?: string[]
  registry?: string
  /** Allow a ws:// registry that is not on this machine (`--insecure`). */
  insecure?: boolean
}

function checkTls(url: string, o: RemoteOverrides): string {
  if (url.startsWith('wss://') || isLoopbackUrl(url) || o.insecure || process.env[INSECURE_ENV] === '1') return url
  throw new UsageError(
    `the registry ${url} is not on this machine and not wss://: the space id, peer names and tokens' claims would cross the network without TLS. Use a wss:// URL (\`ctxsync serve --tls-cert/--tls-key\`, or a TLS proxy in front), or pass --insecure (or set ${INSECURE_ENV}=1) if you accept that`,
  )
}

export function remotesFor(config: TeamConfig, local: LocalSettings, o: RemoteOverrides = {}): Remotes {
  checkOneMode(o.peers, o.registry)
  if (o.registry) return { peers: [checkTls(o.registry, o)], registry: o.registry, listen: false }
  if (o.peers) return { peers: o.peers, registry: null, listen: true }
  if (config.discovery === 'registry') {
    if (!config.registry) {
      throw new CtxError('no-registry', 'ctxsync.yaml says `discovery: registry` but names no registry URL: add `registry: wss://…` there (`ctxsync init --registry URL` does), or pass --registry URL')
    }
    return { peers: [checkTls(config.registry, o)], registry: config.registry, listen: false }
  }
  return { peers: local.peers, registry: null, listen: true }
}

const pinning = new Set<Promise<void>>()

/** Resolves once every key pinned so far is written (a one-shot sync waits for it before exiting). */
export async function pinsWritten(): Promise<void> {
  await Promise.all([...pinning])
}

/**
 * How the registry URL (if any) is dialled: the key it must prove and, for the configured registry with no
 * key pinned yet, where to pin the key it proves at first contact. The pin belongs to the space, not to a
 * URL: a `--registry` for one run must prove the same key (another relay needs the pin removed first).
 */
export function relayDial(config: TeamConfig, configFile: string, url: string | null, token?: string, say?: (line: string) => void): RelayDial | undefined {
  if (!url) return undefined
  const ours = url === config.registry
  let fromToken: string | undefined
  try {
    fromToken = token ? readToken(token).relay : undefined
  } catch {
    fromToken = undefined
  }
  // A token's pin comes first: it was signed with the space key, while ctxsync.yaml is whatever this
  // checkout holds (a branch could point it, and a CI token, at another relay).
  const byToken = fromToken ? parseKey(fromToken) : null
  if (byToken) return { url, pinned: byToken, pinnedBy: 'token' }
  const byConfig = config.registryKey ? parseKey(config.registryKey) : null
  if (byConfig) return { url, pinned: byConfig, pinnedBy: 'config' }
  return {
    url,
    onPin: (key) => {
      if (!ours) return say?.(`relay at ${url} proved key ${formatKey(key)}; it is not ctxsync.yaml's registry, so the key was not pinned`)
      const write = pinRegistryKey(configFile, formatKey(key)).then(
        (r) => void (r === 'pinned' && say?.(`pinned the relay's key in ctxsync.yaml (registry-key: ${formatKey(key)}): commit it, so every clone refuses any other relay at that URL`)),
        (e: Error) => log('could not pin the relay key in %s: %s', configFile, e.message),
      )
      pinning.add(write)
      void write.finally(() => pinning.delete(write))
    },
  }
}

/** The credentials a sync may use, after checking that a token (if any) is for this space. */
export function credentialsOf(space: Space, remotes: Remotes, say?: (line: string) => void): { secret?: string; token?: string; relay?: RelayDial } {
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
  const relay = relayDial(space.config, space.paths.config, remotes.registry, token, say)
  return { ...(space.secret ? { secret: space.secret } : {}), ...(token ? { token } : {}), ...(relay ? { relay } : {}) }
}
