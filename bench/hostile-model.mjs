/**
 * A hostile *member*: well-formed Yjs updates in the model's own schema (src/crdt/schema.ts) with random
 * and adversarial values — what a peer holding the secret (or a compromised relay) can send once the
 * wire checks of bench/hostile-wire.mjs are passed. Shared by the in-process test
 * (test/crdt/hostile-model.test.ts), the e2e test (test/e2e/hostile-model.test.ts) and the long run
 * (bench/fuzz-model.mjs), so all three send the same kinds of updates.
 *
 * A case starts from a real peer's document (the victim's state, e.g. an enrolled fixture): the attacker
 * clones it under its own Yjs client and writes registers, so its updates extend the victim's items the
 * way a real peer's do (overwrites carry origins, not keys). Each case says what a correct receiver does:
 * `refuse` (the guard must say no), `accept` (an honest-looking write, which must apply and render), or
 * `either` (within the limits or not depending on the draw; only boundedness is checked).
 *
 * Only yjs is imported: the harness passes nothing but a Y.Doc in, so this runs against src/ and dist/.
 */
import * as Y from 'yjs'

const B64 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_'
const MAX_DEPTH = 300
const MAX_INDENT = 4096

/** A node id of the schema's form (10 url-safe base64 characters). */
export function randomId(rand) {
  let s = ''
  for (let i = 0; i < 10; i++) s += B64[Math.floor(rand() * 64)]
  return s
}

const pick = (rand, xs) => xs[Math.floor(rand() * xs.length)]
const int = (rand, lo, hi) => lo + Math.floor(rand() * (hi - lo + 1))

/** The victim's nodes: id → descriptor (undefined for nodes without a value). */
function nodesOf(doc) {
  const n = doc.getMap('n')
  const out = []
  for (const key of n.keys()) if (key.endsWith('o') && key.length === 11) out.push({ id: key.slice(0, -1), desc: n.get(key.slice(0, -1) + 'v')?.[0], o: n.get(key) })
  return out
}

/** A clone of `victim` written to by client `client`; `write(n, doc)` makes the attack. */
function attack(victim, client, write) {
  const doc = new Y.Doc()
  doc.clientID = client
  Y.applyUpdate(doc, Y.encodeStateAsUpdate(victim))
  doc.transact(() => write(doc.getMap('n'), doc))
  const update = Y.encodeStateAsUpdate(doc, Y.encodeStateVector(victim))
  doc.destroy()
  return update
}

const BAD_INDENTS = ['200000000', String(MAX_INDENT + 1), '-' + (MAX_INDENT + 1), '1e21', 'NaN', 'Infinity', '0x10', ' 3', '', '9'.repeat(400), '2.5']
const WRONG = () => [5, -1, 1.5, NaN, Infinity, true, null, {}, { a: 1 }, [], [1, 2, 3, 4], ['x'], new Uint8Array([1, 2]), [[['deep']]], 'x']

/**
 * The kinds of cases, each `(rand, ctx) => { kind, expect, updates }`. `ctx`: the victim doc, its nodes
 * and a fresh client id. `updates` are applied in order (a later one may build on an earlier accepted one).
 */
export const KINDS = {
  indent(rand, { doc, nodes, client }) {
    const coll = nodes.filter((x) => x.desc && /^[MS]/.test(x.desc))
    const target = coll.length ? pick(rand, coll).id : 'R'
    const bad = rand() < 0.8
    const n = bad ? pick(rand, BAD_INDENTS) : String(int(rand, 0, 8))
    return { kind: 'indent', expect: bad ? 'refuse' : 'accept', updates: [attack(doc, client, (m) => m.set(target + 'v', [pick(rand, ['M', 'S']) + n, 1]))] }
  },
  blockIndent(rand, { doc, nodes, client }) {
    const x = pick(rand, nodes)
    const bad = rand() < 0.8
    const n = bad ? pick(rand, BAD_INDENTS) : String(int(rand, 1, 8))
    const header = pick(rand, ['|\n', '>-\n', ':', '|2\n'])
    return { kind: 'block-indent', expect: bad ? 'refuse' : 'either', updates: [attack(doc, client, (m) => m.set(x.id + 'v', ['|' + n + ':' + header, 1]))] }
  },
  cycle(rand, { doc, nodes, client }) {
    const k = int(rand, 2, 6)
    const ids = Array.from({ length: k }, () => randomId(rand))
    return {
      kind: 'cycle',
      expect: 'refuse',
      updates: [attack(doc, client, (m) => ids.forEach((id, i) => {
        m.set(id + 'o', [ids[(i + 1) % k], 'a' + i, 'k' + i])
        if (rand() < 0.7) m.set(id + 'v', [pick(rand, ['M2', 'S0', '=x', '[]']), 1])
      }))],
    }
  },
  selfParent(rand, { doc, client }) {
    const id = randomId(rand)
    return { kind: 'self-parent', expect: 'refuse', updates: [attack(doc, client, (m) => { m.set(id + 'o', [id, 'a0']); m.set(id + 'v', ['=x', 1]) })] }
  },
  /** A cycle made in two steps: an orphan chain first (harmless), then the placement that closes it. */
  cycleTwoSteps(rand, { doc, nodes, client }) {
    const a = randomId(rand)
    const b = randomId(rand)
    const first = attack(doc, client, (m) => { m.set(a + 'o', [b, 'a0', 'x']); m.set(a + 'v', ['M2', 1]) })
    const d2 = new Y.Doc()
    Y.applyUpdate(d2, Y.encodeStateAsUpdate(doc))
    Y.applyUpdate(d2, first)
    const second = attack(d2, client + 1, (m) => { m.set(b + 'o', [a, 'a0', 'y']); m.set(b + 'v', ['M2', 1]) })
    d2.destroy()
    return { kind: 'cycle-two-steps', expect: 'refuse-last', updates: [first, second] }
  },
  deepChain(rand, { doc, nodes, client, scale }) {
    const len = rand() < 0.5 ? int(rand, MAX_DEPTH - 10, MAX_DEPTH + 10) : int(rand, 1, Math.max(MAX_DEPTH + 20, Math.ceil(3000 * scale)))
    const top = pick(rand, [...nodes.map((x) => x.id), 'R'])
    const bad = len > MAX_DEPTH - 12
    return {
      kind: 'deep-chain',
      expect: bad ? 'either' : 'accept',
      updates: [attack(doc, client, (m) => {
        let parent = top
        for (let i = 0; i < len; i++) {
          const id = randomId(rand)
          m.set(id + 'o', [parent, 'a0', 'k'])
          m.set(id + 'v', [pick(rand, ['M2', 'S0', '[', '{']), 1])
          parent = id
        }
      })],
    }
  },
  move(rand, { doc, nodes, client }) {
    const x = pick(rand, nodes)
    const to = pick(rand, [...nodes.map((y) => y.id).filter((y) => y !== x.o[0]), randomId(rand)])
    return { kind: 'move', expect: 'refuse', updates: [attack(doc, client, (m) => m.set(x.id + 'o', [to, x.o[1], ...(x.o.length > 2 ? [x.o[2]] : [])]))] }
  },
  orphan(rand, { doc, client }) {
    const id = randomId(rand)
    return { kind: 'orphan', expect: 'accept', updates: [attack(doc, client, (m) => { m.set(id + 'o', [randomId(rand), 'a0', 'k']); m.set(id + 'v', ['=1', 1]) })] }
  },
  wrongType(rand, { doc, nodes, client }) {
    const x = pick(rand, nodes)
    const attr = pick(rand, ['o', 'v', 'k', 'h', 's', 't', 'd'])
    let v = pick(rand, WRONG())
    // A few of these are right for some attributes (null is a revived tombstone; a string a syntax register).
    const fine = (attr === 'd' && v === null) || (typeof v === 'string' && 'khst'.includes(attr))
    return { kind: 'wrong-type', expect: fine ? 'accept' : 'refuse', updates: [attack(doc, client, (m) => m.set(x.id + attr, v))] }
  },
  badNumber(rand, { doc, nodes, client }) {
    const x = pick(rand, nodes)
    const counter = rand() < 0.5
    // A counter must be a safe integer; a time any finite number.
    const v = counter ? pick(rand, [NaN, Infinity, -Infinity, 1.5, 2 ** 60, '7']) : pick(rand, [NaN, Infinity, -Infinity, '7', null])
    return {
      kind: 'bad-number',
      expect: 'refuse',
      updates: [attack(doc, client, (m) => (counter ? m.set(x.id + '+' + client, v) : m.set(x.id + 'v', [x.desc ?? '=1', v])))],
    }
  },
  giantString(rand, { doc, nodes, client, scale }) {
    const x = pick(rand, nodes)
    const over = rand() < 0.3 * scale
    const size = over ? 16 * 1024 * 1024 + 1 : int(rand, 1, Math.ceil(256 * 1024 * scale))
    const attr = pick(rand, ['h', 't', 's', 'v'])
    const s = (attr === 'h' ? '#' : '') + 'x'.repeat(size)
    return { kind: 'giant-string', expect: over ? 'refuse' : 'either', updates: [attack(doc, client, (m) => m.set(x.id + attr, attr === 'v' ? ['=' + s, 1] : s))] }
  },
  giantKey(rand, { doc, nodes, client }) {
    const parent = pick(rand, nodes.filter((x) => x.desc?.[0] === 'M').map((x) => x.id).concat('R'))
    const id = randomId(rand)
    return { kind: 'giant-key', expect: 'refuse', updates: [attack(doc, client, (m) => { m.set(id + 'o', [parent, 'a0', 'k'.repeat(64 * 1024 + 1)]); m.set(id + 'v', ['=1', 1]) })] }
  },
  manyNodes(rand, { doc, nodes, client, scale }) {
    const seqs = nodes.filter((x) => x.desc?.[0] === 'S')
    const parent = seqs.length ? pick(rand, seqs).id : 'R'
    const count = int(rand, 1, Math.ceil((rand() < 0.1 ? 20000 : 500) * scale))
    return {
      kind: 'many-nodes',
      expect: 'accept',
      updates: [attack(doc, client, (m) => {
        for (let i = 0; i < count; i++) {
          const id = randomId(rand)
          m.set(id + 'o', [parent, 'b' + String(i).padStart(6, '0')])
          m.set(id + 'v', ['=n' + i, 1])
        }
      })],
    }
  },
  nestedType(rand, { doc, nodes, client }) {
    const x = pick(rand, nodes)
    const make = pick(rand, [() => new Y.Map(), () => new Y.Array(), () => new Y.Text('x'), () => new Y.Doc(), () => new Uint8Array(8)])
    return { kind: 'nested-type', expect: 'refuse', updates: [attack(doc, client, (m) => m.set(x.id + pick(rand, ['v', 'o', 'h']), make()))] }
  },
  otherRoot(rand, { doc, client }) {
    const which = int(rand, 0, 2)
    return {
      kind: 'other-root',
      expect: 'refuse',
      updates: [attack(doc, client, (_m, d) => {
        if (which === 0) d.getMap('zz').set('Rv', ['=x', 1])
        else if (which === 1) d.getArray('q').insert(0, [1, 2, 3])
        else d.getText('t').insert(0, 'hello')
      })],
    }
  },
  /** A list insertion into the node map itself: the doc is built fresh so 'n' can be an array there. */
  listInMap(rand, { doc, client }) {
    const d = new Y.Doc()
    d.clientID = client
    d.getArray('n').insert(0, [['=x', 1], 'y'])
    const update = Y.encodeStateAsUpdate(d)
    d.destroy()
    return { kind: 'list-in-map', expect: 'refuse', updates: [update] }
  },
  badKey(rand, { doc, nodes, client }) {
    const key = pick(rand, ['Ro', 'Rq', 'zzz', '', 'ABCDEFGHIJKo', 'ABCDEFGHIo', pick(rand, nodes).id + 'x', 'R+1.5', 'R+-3', 'ABCDEFGH!Jo', 'x'.repeat(70000)])
    return { kind: 'bad-key', expect: 'refuse', updates: [attack(doc, client, (m) => m.set(key, key.endsWith('o') ? ['R', 'a0'] : ['=x', 1]))] }
  },
  badDesc(rand, { doc, nodes, client }) {
    const x = pick(rand, nodes)
    const d = pick(rand, ['Z', '~x', '', 'Mabc', 'S-', '|', '|3', 'M', '|:|\n'])
    return { kind: 'bad-desc', expect: 'refuse', updates: [attack(doc, client, (m) => m.set(x.id + 'v', [d, 1]))] }
  },
  tombstone(rand, { doc, nodes, client }) {
    const x = pick(rand, nodes)
    const v = pick(rand, [[new Uint8Array([0xff, 0xff, 0xff]), 1], [new Uint8Array(70000), 1], [Y.encodeStateVector(doc), NaN], [Y.encodeStateVector(doc)], ['sv', 1]])
    return { kind: 'tombstone', expect: 'refuse', updates: [attack(doc, client, (m) => m.set(x.id + 'd', v))] }
  },
  sideMaps(rand, { doc, client }) {
    const which = pick(rand, ['c', 'x', 'a'])
    const v = pick(rand, WRONG())
    return { kind: 'side-maps', expect: 'refuse', updates: [attack(doc, client, (_m, d) => d.getMap(which).set(which === 'a' ? String(client) : 'R|1:0|2:0', v))] }
  },
  /** The same register overwritten many times in one update, the last value bad: an origin chain. */
  overwriteChain(rand, { doc, nodes, client, scale }) {
    const x = pick(rand, nodes.filter((y) => y.desc?.[0] === 'M' || y.desc?.[0] === 'S').concat(nodes[0]))
    const times = int(rand, 2, Math.ceil(2000 * scale))
    return {
      kind: 'overwrite-chain',
      expect: 'refuse',
      updates: [attack(doc, client, (m) => {
        for (let i = 0; i < times; i++) m.set(x.id + 'v', ['M' + (i % 8), 1])
        m.set(x.id + 'v', ['M200000000', 1])
      })],
    }
  },
  /** Honest-looking edits: a value changed, a key added, registers deleted, a node tombstoned. */
  benign(rand, { doc, nodes, client }) {
    const x = pick(rand, nodes)
    const what = int(rand, 0, 3)
    return {
      kind: 'benign',
      expect: 'accept',
      updates: [attack(doc, client, (m) => {
        if (what === 0) m.set(x.id + 'v', ['="changed ' + int(rand, 0, 1e6) + '"', 1700000000])
        else if (what === 1) m.delete(x.id + pick(rand, ['h', 't', 's', 'k']))
        else if (what === 2) m.set(x.id + 'd', [Y.encodeStateVector(doc), 1700000000])
        else {
          const id = randomId(rand)
          const maps = nodes.filter((y) => y.desc?.[0] === 'M')
          m.set(id + 'o', [maps.length ? pick(rand, maps).id : 'R', 'zz', 'new' + int(rand, 0, 99)])
          m.set(id + 'v', ['=1', 1700000000])
        }
      })],
    }
  },
}

/**
 * One seeded case against `victim` (a Y.Doc in the model's schema). `scale` (0–1] shrinks the large
 * cases (node counts, chain lengths, string sizes) for quick runs; the benchmark uses 1.
 */
export function makeCase(seed, victim, kind, scale = 1) {
  let s = seed >>> 0
  const rand = () => {
    s = (s + 0x6d2b79f5) >>> 0
    let t = s
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
  const names = Object.keys(KINDS)
  const k = kind ?? names[Math.floor(rand() * names.length)]
  const ctx = { doc: victim, nodes: nodesOf(victim), client: 1_000_000 + Math.floor(rand() * 1e9), scale }
  return { seed, ...KINDS[k](rand, ctx) }
}

/** The three findings of issue 12 as bytes: each a valid update of the size the attacker reported. */
export function findings(victim) {
  const nodes = nodesOf(victim)
  const seq = nodes.find((x) => x.desc?.[0] === 'S') ?? nodes.find((x) => x.desc?.[0] === 'M')
  return {
    /** ~50 bytes: a collection's indentation set to 200,000,000. */
    hugeIndent: attack(victim, 424242, (m) => m.set(seq.id + 'v', ['S200000000', 1])),
    /** Two new nodes, each the other's parent (the 143-byte update that spun every daemon). */
    mutualParents: attack(victim, 424243, (m) => {
      m.set('AAAAAAAAAAo', ['BBBBBBBBBB', 'a0', 'x'])
      m.set('BBBBBBBBBBo', ['AAAAAAAAAA', 'a0', 'y'])
      m.set('AAAAAAAAAAv', ['M2', 1])
      m.set('BBBBBBBBBBv', ['M2', 1])
    }),
    /** A node placed under itself, with a value (the ~100-byte variant that ended in a fatal V8 error). */
    selfParent: attack(victim, 424244, (m) => {
      m.set('CCCCCCCCCCo', ['CCCCCCCCCC', 'a0', 'z'])
      m.set('CCCCCCCCCCv', ['=1', 1])
    }),
  }
}
