/**
 * Checked decoding primitives for frames that come off the wire. lib0's readers assume well-formed input
 * (readUint8 returns undefined past the end, lengths are trusted), so every reader here checks the bytes
 * that remain and the field's bounds, and every failure is a `ProtocolError` — never anything else.
 */
import * as decoding from 'lib0/decoding'
import { CtxError } from '../errors.js'
import { CloseCode } from './TransportInterface.js'

/** A malformed, truncated, oversized or out-of-place message; the session closes with `closeCode`. */
export class ProtocolError extends CtxError {
  readonly closeCode: number
  constructor(message: string, closeCode: number = CloseCode.ProtocolError) {
    super('protocol', message)
    this.name = 'ProtocolError'
    this.closeCode = closeCode
  }
}

export const remaining = (d: decoding.Decoder): number => d.arr.length - d.pos

function need(d: decoding.Decoder, n: number, what: string): void {
  if (n > remaining(d)) throw new ProtocolError(`truncated ${what}`)
}

export function rUint8(d: decoding.Decoder, what: string): number {
  need(d, 1, what)
  return d.arr[d.pos++]!
}

export function rVarUint(d: decoding.Decoder, what: string, max = 0xffffffff): number {
  let n: number
  try {
    n = decoding.readVarUint(d)
  } catch {
    throw new ProtocolError(`truncated or overlong ${what}`)
  }
  if (n > max) throw new ProtocolError(`${what} out of range (${n} > ${max})`)
  return n
}

export function rFixed(d: decoding.Decoder, n: number, what: string): Uint8Array {
  need(d, n, what)
  // Copy: frames may be views on pooled socket buffers, and Yjs may keep binary content alive.
  const out = d.arr.slice(d.pos, d.pos + n)
  d.pos += n
  return out
}

export function rBytes(d: decoding.Decoder, what: string, max = Number.MAX_SAFE_INTEGER): Uint8Array {
  const len = rVarUint(d, `${what} length`, Math.min(max, remaining(d)))
  return rFixed(d, len, what)
}

const utf8 = new TextDecoder('utf-8', { fatal: true })

export function rString(d: decoding.Decoder, what: string, maxBytes: number, allowEmpty = false): string {
  const bytes = rBytes(d, what, maxBytes)
  if (bytes.length === 0 && !allowEmpty) throw new ProtocolError(`empty ${what}`)
  try {
    return utf8.decode(bytes)
  } catch {
    throw new ProtocolError(`${what} is not valid UTF-8`)
  }
}

/** One of `values` by its index byte. */
export function rEnum<T>(d: decoding.Decoder, values: readonly T[], what: string): T {
  const v = values[rUint8(d, what)]
  if (v === undefined) throw new ProtocolError(`unknown ${what}`)
  return v
}
