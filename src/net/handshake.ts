/**
 * The checks of the handshake, apart from the session's state machine: whether a Hello may proceed, and
 * the proof each side signs and verifies (see `auth.ts` for what the transcript binds and why).
 */
import { signProof, verifyProof, type SpaceCredentials } from './auth.js'
import { ProtocolError, type HelloMessage, type Role } from './protocol.js'
import type { SyncHost } from './SyncHost.js'
import { CloseCode } from './TransportInterface.js'

export const ACCESS_REFUSED = "access refused: the other peer does not know this space's secret"

export type Refusal = { code: number; message: string }

/** Null when the Hello may proceed to Auth, else why the connection is refused. */
export function checkHello(host: SyncHost, role: Role, hello: HelloMessage): Refusal | null {
  if (hello.role === role) throw new ProtocolError(`both ends claim the ${role} role`)
  if (hello.spaceId !== host.spaceId) {
    return { code: CloseCode.Forbidden, message: `other space: this peer syncs ${host.spaceId}, the other ${hello.spaceId}` }
  }
  if (hello.peer.id === host.self.id) return { code: CloseCode.Forbidden, message: 'connected to itself' }
  return null
}

/** Our Auth signature for the peer that sent `hello`. */
export function prove(creds: SpaceCredentials, host: SyncHost, role: Role, ownNonce: Uint8Array, hello: HelloMessage): Uint8Array {
  return signProof(creds, {
    spaceId: host.spaceId,
    signerRole: role,
    verifierNonce: hello.nonce,
    signerNonce: ownNonce,
    signerId: host.self.id,
    verifierId: hello.peer.id,
  })
}

/** Whether the peer that sent `hello` signed our nonce with the space's key, i.e. knows the secret. */
export function checkProof(
  creds: SpaceCredentials,
  host: SyncHost,
  ownNonce: Uint8Array,
  hello: HelloMessage,
  signature: Uint8Array,
): boolean {
  return verifyProof(
    creds,
    {
      spaceId: host.spaceId,
      signerRole: hello.role,
      verifierNonce: ownNonce,
      signerNonce: hello.nonce,
      signerId: hello.peer.id,
      verifierId: host.self.id,
    },
    signature,
  )
}
