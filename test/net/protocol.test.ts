import { describe, expect, it } from 'vitest'
import * as encoding from 'lib0/encoding'
import * as Y from 'yjs'
import { newPeerId, newSpaceId } from '../../src/ids.js'
import { Reassembler, splitIntoChunks } from '../../src/net/chunking.js'
import {
  decodeMessage, encodeMessage, isAck, isChunk, isHello, isManifest, isUpdate, MessageTag, PROTOCOL_VERSION,
  ProtocolError, ProtocolVersionError, writeMessage, type Message,
} from '../../src/net/protocol.js'
import { parseStateVector } from '../../src/net/statevector.js'
import { seededRandom } from './helpers.js'

const nonce = new Uint8Array(32).map((_, i) => i)
const doc = new Y.Doc()
doc.getMap('root').set('status', 'done')
const update = Y.encodeStateAsUpdate(doc)
const sv = Y.encodeStateVector(doc)

export const SAMPLES: Message[] = [
  {
    type: 'Hello', proto: PROTOCOL_VERSION, spaceId: newSpaceId(), nonce, role: 'dial', maxFrameBytes: 8 << 20,
    peer: { id: newPeerId(), name: 'Ada’s laptop', kind: 'human', host: 'ada.local' }, flags: { oneShot: false, peek: false },
  },
  {
    type: 'Hello', proto: PROTOCOL_VERSION, spaceId: newSpaceId(), nonce, role: 'accept', maxFrameBytes: 1024,
    peer: { id: newPeerId(), name: '', kind: 'relay' }, flags: { oneShot: true, peek: true },
  },
  { type: 'Auth', signature: new Uint8Array(64).fill(3) },
  { type: 'Manifest', entries: [] },
  { type: 'Manifest', entries: [{ doc: { name: '.rhema/todos.yaml' }, stateVector: sv }, { doc: { name: 'ünï/cödé.yaml' }, stateVector: Uint8Array.of(0) }, { doc: { id: 3 }, stateVector: sv }] },
  { type: 'ManifestEnd' },
  { type: 'SyncStep2', doc: { name: '.rhema/todos.yaml' }, update },
  { type: 'Step2End' },
  { type: 'Synced' },
  { type: 'Update', doc: { name: '.rhema/decisions.yaml' }, update },
  { type: 'Ack', seq: 300 },
  { type: 'Error', code: 4401, message: "access refused: the other peer does not know this space's secret" },
  { type: 'Chunk', id: 7, index: 1, total: 3, bytes: Uint8Array.of(1, 2, 3) },
  { type: 'RelayAuth', ephemeral: new Uint8Array(32).fill(3), credential: { kind: 'key', publicKey: new Uint8Array(32).fill(7), signature: new Uint8Array(64).fill(9) } },
  { type: 'RelayAuth', ephemeral: new Uint8Array(32).fill(4), credential: { kind: 'token', token: 'ctxsync-token2.eyJ9.c2ln', signature: new Uint8Array(64).fill(8) } },
  { type: 'RelayProof', relayKey: new Uint8Array(32).fill(5), ephemeral: new Uint8Array(32).fill(6), signature: new Uint8Array(64).fill(2) },
  { type: 'Welcome', access: 'read', mac: new Uint8Array(32).fill(1) },
  { type: 'Update', doc: { id: 2 }, update },
  {
    type: 'Peers',
    peers: [
      { id: newPeerId(), name: 'Ada', kind: 'human', host: 'ada.local', since: 1_700_000_000_000, access: 'admin', address: '127.0.0.1' },
      { id: newPeerId(), name: 'bot', kind: 'agent', since: 1_700_000_001_000, access: 'read' },
    ],
  },
]

describe('protocol: round trips', () => {
  for (const m of SAMPLES) {
    it(`${m.type} survives write → read`, () => {
      const bytes = encodeMessage(m)
      expect(bytes[0]).toBe(MessageTag[m.type])
      expect(decodeMessage(bytes)).toEqual(m)
    })
  }

  it('type guards narrow the union', () => {
    const m = decodeMessage(encodeMessage(SAMPLES[9]!))
    expect(isUpdate(m) && m.doc).toEqual({ name: '.rhema/decisions.yaml' })
    expect(isHello(m) || isAck(m) || isChunk(m)).toBe(false)
  })

  it('state vectors in messages parse back', () => {
    const m = decodeMessage(encodeMessage(SAMPLES[4]!))
    if (!isManifest(m)) throw new Error('not a manifest')
    expect([...parseStateVector(m.entries[0]!.stateVector)]).toEqual([...Y.decodeStateVector(sv)])
  })
})

describe('protocol: refusing bad input', () => {
  const bad = (bytes: Uint8Array, pattern: RegExp) => {
    let err: unknown
    try {
      decodeMessage(bytes)
    } catch (e) {
      err = e
    }
    expect(err).toBeInstanceOf(ProtocolError)
    expect((err as Error).message).toMatch(pattern)
  }

  it('names the versions when Hello speaks another protocol', () => {
    const hello = { ...(SAMPLES[0] as Extract<Message, { type: 'Hello' }>), proto: 1 }
    let err: unknown
    try {
      decodeMessage(encodeMessage(hello))
    } catch (e) {
      err = e
    }
    expect(err).toBeInstanceOf(ProtocolVersionError)
    expect((err as ProtocolVersionError).remoteVersion).toBe(1)
    expect((err as Error).message).toMatch(/speaks ctxsync protocol v5, the other v1.*upgrade ctxsync/)
  })

  it('rejects unknown tags, empty frames, trailing bytes and every truncation', () => {
    bad(new Uint8Array(0), /truncated/)
    bad(Uint8Array.of(0), /unknown message tag 0/)
    bad(Uint8Array.of(99), /unknown message tag 99/)
    bad(Uint8Array.of(MessageTag.Synced, 0), /trailing/)
    for (const m of SAMPLES) {
      const bytes = encodeMessage(m)
      for (let cut = 0; cut < bytes.length; cut++) {
        if (['ManifestEnd', 'Step2End', 'Synced'].includes(m.type) && cut >= 1) continue
        expect(() => decodeMessage(bytes.subarray(0, cut)), `${m.type} cut at ${cut}`).toThrow(ProtocolError)
      }
    }
  })

  it('rejects oversized lengths, bad ids, bad UTF-8 and malformed chunks', () => {
    const enc = encoding.createEncoder()
    encoding.writeVarUint(enc, MessageTag.Update)
    encoding.writeVarUint(enc, 0)
    encoding.writeVarUint(enc, 5000)
    bad(encoding.toUint8Array(enc), /length out of range/)
    const hello = SAMPLES[0] as Extract<Message, { type: 'Hello' }>
    bad(encodeMessage({ ...hello, spaceId: 'nope' as never }), /space id/)
    bad(encodeMessage({ ...hello, peer: { ...hello.peer, id: 'x' as never } }), /peer id/)
    bad(encodeMessage({ ...hello, maxFrameBytes: 10 }), /too small/)
    bad(Uint8Array.of(MessageTag.Update, 0, 2, 0xff, 0xfe, 0), /UTF-8/)
    bad(encodeMessage({ type: 'Update', doc: { name: '' }, update: Uint8Array.of(0, 0) }), /empty document name/)
    bad(Uint8Array.of(MessageTag.Ack, 0), /ack of nothing/)
    bad(encodeMessage({ ...hello, flags: { oneShot: true, peek: true } }).map((b, i, all) => (i === all.length - 1 ? 4 : b)), /flags out of range/)
    bad(Uint8Array.of(MessageTag.Welcome, 3), /unknown access level/)
    bad(Uint8Array.of(MessageTag.RelayAuth, ...new Uint8Array(32), 2), /credential kind/)
    bad(Uint8Array.of(MessageTag.RelayAuth, 2), /ephemeral key/)
    bad(encodeMessage({ type: 'RelayAuth', ephemeral: new Uint8Array(32), credential: { kind: 'key', publicKey: new Uint8Array(32), signature: new Uint8Array(10) } }), /signature/)
    bad(encodeMessage({ type: 'RelayProof', relayKey: new Uint8Array(32), ephemeral: new Uint8Array(32), signature: new Uint8Array(63) }), /signature/)
    bad(Uint8Array.of(MessageTag.Welcome, 1, 7), /welcome MAC/)
    bad(encodeMessage({ type: 'Auth', signature: new Uint8Array(10) }), /signature/)
    bad(encodeMessage({ type: 'Error', code: 5, message: 'x' }), /error code/)
    bad(encodeMessage({ type: 'Chunk', id: 1, index: 3, total: 3, bytes: Uint8Array.of(1) }), /bad chunk/)
    bad(encodeMessage({ type: 'Chunk', id: 1, index: 0, total: 2, bytes: new Uint8Array(0) }), /empty chunk/)
    bad(Uint8Array.of(MessageTag.Manifest, 0xff, 0xff, 0xff, 0xff, 0x0f), /manifest size/)
    bad(Uint8Array.of(MessageTag.Update, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff), /overlong|out of range/)
  })
})

describe('protocol: chunking', () => {
  it('splits below the frame limit and reassembles exactly', () => {
    const big = encodeMessage({ type: 'Update', doc: { name: 'big.yaml' }, update: new Uint8Array(100_000).map((_, i) => i) })
    const frames = splitIntoChunks(big, 4096, 42)
    expect(frames.length).toBe(Math.ceil(big.length / (4096 - 21)))
    expect(Math.max(...frames.map((f) => f.length))).toBeLessThanOrEqual(4096)
    const r = new Reassembler()
    let whole: Uint8Array | null = null
    for (const f of frames) {
      const c = decodeMessage(f)
      if (!isChunk(c)) throw new Error('not a chunk')
      whole = r.push(c)
    }
    expect(Buffer.compare(whole!, big)).toBe(0)
    expect(r.bufferedBytes).toBe(0)
  })

  it('bounds reassembly: total size, concurrency, order', () => {
    const r = new Reassembler({ maxMessageBytes: 10, maxConcurrent: 2 })
    r.push({ type: 'Chunk', id: 1, index: 0, total: 3, bytes: new Uint8Array(6) })
    expect(() => r.push({ type: 'Chunk', id: 1, index: 1, total: 3, bytes: new Uint8Array(6) })).toThrow(/exceeds/)
    const r2 = new Reassembler({ maxConcurrent: 2 })
    r2.push({ type: 'Chunk', id: 1, index: 0, total: 3, bytes: Uint8Array.of(1) })
    r2.push({ type: 'Chunk', id: 2, index: 0, total: 3, bytes: Uint8Array.of(1) })
    expect(() => r2.push({ type: 'Chunk', id: 3, index: 0, total: 3, bytes: Uint8Array.of(1) })).toThrow(/too many/)
    expect(() => r2.push({ type: 'Chunk', id: 1, index: 2, total: 3, bytes: Uint8Array.of(1) })).toThrow(/out of order/)
    expect(() => r2.push({ type: 'Chunk', id: 9, index: 1, total: 3, bytes: Uint8Array.of(1) })).toThrow(/unknown/)
    // The bound holds for all messages in flight together, not for each.
    const r3 = new Reassembler({ maxMessageBytes: 10, maxConcurrent: 4 })
    r3.push({ type: 'Chunk', id: 1, index: 0, total: 2, bytes: new Uint8Array(4) })
    r3.push({ type: 'Chunk', id: 2, index: 0, total: 2, bytes: new Uint8Array(4) })
    expect(() => r3.push({ type: 'Chunk', id: 3, index: 0, total: 2, bytes: new Uint8Array(4) })).toThrow(/exceeds 10 bytes/)
    try {
      r.push({ type: 'Chunk', id: 5, index: 0, total: 2, bytes: new Uint8Array(11) })
    } catch (e) {
      expect((e as ProtocolError).closeCode).toBe(1009)
    }
  })
})

describe('protocol: fuzz', () => {
  it('random and mutated frames only ever raise ProtocolError', () => {
    const seed = Number(process.env.FUZZ_SEED ?? Date.now() % 1_000_000)
    const rand = seededRandom(seed)
    const corpus = SAMPLES.map(encodeMessage)
    let decoded = 0
    try {
      for (let i = 0; i < 5000; i++) {
        let frame: Uint8Array
        if (i % 3 === 0) {
          frame = new Uint8Array(Math.floor(rand() * 64)).map(() => Math.floor(rand() * 256))
          if (frame.length > 0 && rand() < 0.7) frame[0] = 1 + Math.floor(rand() * 11)
        } else {
          const base = corpus[Math.floor(rand() * corpus.length)]!
          frame = base.slice()
          const edits = 1 + Math.floor(rand() * 4)
          for (let e = 0; e < edits; e++) {
            const at = Math.floor(rand() * frame.length)
            const op = rand()
            if (op < 0.5) frame[at] = Math.floor(rand() * 256)
            else if (op < 0.7) frame = frame.subarray(0, at)
            else if (op < 0.85) frame = Uint8Array.from([...frame.subarray(0, at), 0xff, 0xff, 0xff, 0x7f, ...frame.subarray(at)])
            else frame = Uint8Array.from([...frame, ...frame.subarray(0, at)])
          }
        }
        try {
          const m = decodeMessage(frame)
          decoded++
          // Whatever decodes is a complete, well-formed message: it survives another round trip.
          expect(decodeMessage(encodeMessage(m))).toEqual(m)
        } catch (err) {
          if (!(err instanceof ProtocolError)) throw err
        }
      }
    } catch (err) {
      console.error(`protocol fuzz failed with FUZZ_SEED=${seed}`)
      throw err
    }
    expect(decoded).toBeGreaterThan(0)
  })
})

describe('protocol: writeMessage', () => {
  it('writes into an existing encoder (y-protocols style)', () => {
    const enc = encoding.createEncoder()
    writeMessage(enc, { type: 'Synced' })
    expect(encoding.toUint8Array(enc)).toEqual(Uint8Array.of(MessageTag.Synced))
  })
})
