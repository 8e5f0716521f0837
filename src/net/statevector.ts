/**
 * State-vector arithmetic for tracking what a peer is known to hold. Yjs encodes a state vector as
 * `varUint count, (varUint client, varUint clock)*`; vectors from the wire are parsed here with bounds
 * checks (Y.decodeStateVector trusts its input).
 */
import * as Y from 'yjs'
import * as decoding from 'lib0/decoding'
import * as encoding from 'lib0/encoding'
import { ProtocolError } from './protocol.js'

export type StateVector = Map<number, number>

export const EMPTY_STATE_VECTOR: Uint8Array = Uint8Array.of(0)

export function parseStateVector(bytes: Uint8Array): StateVector {
  const d = decoding.createDecoder(bytes)
  const sv: StateVector = new Map()
  try {
    const count = decoding.readVarUint(d)
    if (count > bytes.length) throw new Error('count')
    for (let i = 0; i < count; i++) {
      const client = decoding.readVarUint(d)
      const clock = decoding.readVarUint(d)
      sv.set(client, Math.max(clock, sv.get(client) ?? 0))
    }
  } catch {
    throw new ProtocolError('malformed state vector')
  }
  if (decoding.hasContent(d)) throw new ProtocolError('trailing bytes after state vector')
  return sv
}

export function encodeStateVector(sv: StateVector): Uint8Array {
  const enc = encoding.createEncoder()
  encoding.writeVarUint(enc, sv.size)
  for (const [client, clock] of sv) {
    encoding.writeVarUint(enc, client)
    encoding.writeVarUint(enc, clock)
  }
  return encoding.toUint8Array(enc)
}

/** Pointwise maximum, in place. */
export function mergeInto(target: StateVector, other: StateVector): StateVector {
  for (const [client, clock] of other) if (clock > (target.get(client) ?? 0)) target.set(client, clock)
  return target
}

/** True when `have` holds everything `need` names. */
export function covers(have: StateVector, need: StateVector): boolean {
  for (const [client, clock] of need) if ((have.get(client) ?? 0) < clock) return false
  return true
}

/**
 * The ranges an update carries, as `to` clocks for each client. Empty for bytes Yjs cannot parse: callers
 * only use this as a hint and after the update was accepted.
 */
export function updateExtent(update: Uint8Array): { from: StateVector; to: StateVector } {
  try {
    return Y.parseUpdateMeta(update)
  } catch {
    return { from: new Map(), to: new Map() }
  }
}

/**
 * Extends what a peer is known to hold with an update it sent: a client's range counts only when it starts
 * at or before what the peer is already known to have, so a gap never makes us overstate its state.
 */
export function extendWithUpdate(known: StateVector, update: Uint8Array): StateVector {
  const { from, to } = updateExtent(update)
  for (const [client, end] of to) {
    const start = from.get(client) ?? 0
    if (start <= (known.get(client) ?? 0) && end > (known.get(client) ?? 0)) known.set(client, end)
  }
  return known
}
