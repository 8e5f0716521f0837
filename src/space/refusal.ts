/**
 * Refused connections said from this machine's point of view, with what to do (issue 17). The handshake's
 * reasons are wire texts, the same on both ends ("access refused: the other peer does not know this
 * space's secret"), so the side holding the wrong secret read the listener's sentence as if about the
 * other peer, and a peer of another space read "this machine's secret does not match theirs".
 *
 * A peer that did not authenticate proved nothing: the name in its Hello is only what it says, so the
 * listener names it by its address and gives the name as a claim. Nothing here is sent to anyone.
 */
import { ACCESS_REFUSED } from '../net/session.js'
import { SECRET_ENV } from './secrets.js'

export type RefusalKind = 'secret' | 'other-space' | 'other'

/** What a refusal was about; only peer-to-peer reasons are known here (relays say their own). */
export function refusalKind(reason: string | undefined): RefusalKind {
  if (reason === ACCESS_REFUSED) return 'secret'
  // handshake.ts checkHello: "other space: this peer does not sync …" (the acceptor) / "… syncs A, the other B".
  if (reason?.startsWith('other space:')) return 'other-space'
  return 'other'
}

/** The dialling side's view of a peer's refusal (`sync` per peer, `watch` dialling out). */
export function refusedByPeer(reason: string | undefined, env: NodeJS.ProcessEnv = process.env): string | undefined {
  const kind = refusalKind(reason)
  if (kind === 'secret') {
    return env[SECRET_ENV]
      ? `this machine's secret (from ${SECRET_ENV}) is not the one the peer uses for this space: unset ${SECRET_ENV} to use .ctxsync/secret, or set it to the space's secret`
      : "this machine's secret for this space is not the one the peer uses: ask a member who syncs with it for a new join code (`ctxsync invite` there) and run `ctxsync init --join CODE` here"
  }
  if (kind === 'other-space') {
    return 'the peer syncs another space, not this one (nothing was exchanged): check the address (--peer, or `peers:` in .ctxsync/local.yaml) and use a peer of this space'
  }
  return reason
}

/** The host part of a transport's remote (`ws://127.0.0.1:54321`, `ws://[::1]:54321`). */
function addressOf(remote: string | undefined): string {
  const m = /^wss?:\/\/(?:\[([^\]]+)\]|([^:/]+))/.exec(remote ?? '')
  const host = m?.[1] ?? m?.[2]
  if (!host || host === 'unknown') return 'an unknown address'
  return host.replace(/^::ffff:(\d+\.\d+\.\d+\.\d+)$/, '$1')
}

/**
 * The listener's view of a connection it refused. `claimed`: the name in the stranger's Hello (kept only
 * when its Hello named this space), `remote`: where the connection came from.
 */
export function refusedHere(reason: string | undefined, o: { claimed?: string; remote?: string }): string {
  const who = `an unknown peer at ${addressOf(o.remote)}${o.claimed ? ` (it says it is ${o.claimed}; not proven)` : ''}`
  const kind = refusalKind(reason)
  if (kind === 'secret') {
    const them = o.claimed ?? 'it'
    return `refused a connection from ${who}: it does not know this space's secret, so nothing was exchanged. If ${them} belongs in this space, give ${o.claimed ? 'them' : 'it'} a new join code (\`ctxsync invite\`, shared privately)`
  }
  if (kind === 'other-space') {
    const asked = /does not sync (\S+)/.exec(reason ?? '')?.[1]
    return `refused a connection from ${who}: it asked for another space${asked ? ` (${asked})` : ''}, and was shown nothing of this one. Nothing to do here: its own side reports the refusal`
  }
  return `refused a connection from ${who}: ${reason || 'it did not prove this space\'s secret'}`
}
