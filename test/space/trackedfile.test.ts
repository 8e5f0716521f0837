/**
 * TrackedFile transitions, table-driven and pure (no disk, no store): each row starts from a file in a
 * given state, makes one transition, and checks the state that results, what the method asks to persist
 * ('now' / 'soon' / null) and the meta it would persist, in the JSON field names sidecars use today.
 */
import { describe, expect, test } from 'vitest'
import { FileModel } from '../../src/crdt/model.js'
import { asDocName, sha256hex } from '../../src/ids.js'
import { encodeStateVector, parseStateVector } from '../../src/net/statevector.js'
import { TrackedFile, type Persist } from '../../src/space/trackedfile.js'

const NAME = asDocName('.rhema/todos.yaml')
const TEXT = 'todos:\n  - id: t1\n    title: one\n'
const OTHER = 'todos:\n  - id: t1\n    title: two\n'
const H = sha256hex(TEXT)
const H2 = sha256hex(OTHER)
const short = (h: string) => h.slice(0, 16)

/** A file enrolled from TEXT, known on disk, meta as after a normal sync. */
function synced(): TrackedFile {
  const m = new FileModel({ name: NAME, author: { id: 'p1', name: 'a', kind: 'human' } })
  m.enroll(TEXT)
  const f = new TrackedFile(NAME, m)
  f.restore({ baseHash: H, seen: [short(H)] })
  f.sawOnDisk(H)
  return f
}

function fresh(): TrackedFile {
  return new TrackedFile(NAME, new FileModel({ name: NAME, author: { id: 'p1', name: 'a', kind: 'human' } }))
}

interface Row {
  name: string
  from: () => TrackedFile
  act: (f: TrackedFile) => unknown
  persist?: Persist | boolean | null
  state?: TrackedFile['state']
  disk?: TrackedFile['disk']
  /** Fields of the persisted meta (undefined: must be absent). */
  meta?: Record<string, unknown>
  check?: (f: TrackedFile) => void
}

const rows: Row[] = [
  { name: 'a save taken in: in step, base = the file, nothing kept', from: () => heldFile(), act: (f) => (f.sawOnDisk(H2), f.tookIn(), f.finishedWrite(), f.noteSeen(H2)), state: 'ok', disk: { kind: 'file', hash: H2 }, meta: { baseHash: H2, baseText: undefined, baseIds: undefined, writing: undefined }, check: (f) => expect(f.hasSeen(H2)).toBe(true) },
  { name: 'tookIn says it was held', from: () => heldFile(), act: (f) => f.tookIn(), persist: true, state: 'ok' },
  { name: 'tookIn of a file in step says it was not', from: synced, act: (f) => f.tookIn(), persist: false, state: 'ok' },
  { name: 'held: the base text is kept while the model may move ahead', from: synced, act: (f) => f.held({ line: 2, col: 3, message: 'bad' }), persist: true, state: 'held', meta: { baseHash: H, baseText: TEXT } },
  { name: 'held again with the same problem is no news', from: heldFile, act: (f) => f.held({ line: 2, col: 3, message: 'bad' }), persist: false, state: 'held' },
  { name: 'refused (a YAML feature not modelled)', from: synced, act: (f) => f.refused('anchors'), state: 'refused', check: (f) => expect(f.problem?.message).toBe('anchors') },
  { name: 'unreadable: binary', from: synced, act: (f) => f.unreadable('binary'), state: 'unreadable', check: (f) => expect(f.problem?.message).toMatch(/UTF-8/) },
  { name: 'unreadable: a link is refused', from: synced, act: (f) => f.unreadable('symlink'), state: 'refused' },
  { name: 'damaged: refused for good, said once', from: synced, act: (f) => (f.damagedState('too deep'), f.damagedState('too deep')), persist: null, state: 'refused', check: (f) => expect(f.damaged).toBe('too deep') },
  { name: 'a peer update on a file in step keeps the base first, persisted now', from: synced, act: (f) => f.keepBaseBeforeRemote(), persist: 'now', meta: { baseText: TEXT } },
  { name: 'a peer update while the kept base waits for its write: written now, before the update', from: () => kept(synced()), act: (f) => f.keepBaseBeforeRemote(), persist: 'now' },
  // cb2c98c (crash-join.test.ts): at a start, before the file's reconcile, the rendering is the file's text when it
  // is the last synced one; kept, a kill before the write-back leaves the next start a base for an offline edit.
  { name: 'a peer update before the disk is known keeps the rendering when it is the last synced text, persisted now', from: () => unknownDisk(), act: (f) => f.keepBaseBeforeRemote(), persist: 'now', meta: { baseText: TEXT } },
  { name: 'a peer update before the disk is known keeps nothing when the rendering is not the last synced text', from: () => (() => { const g = unknownDisk(); g.restore({ baseHash: H2, seen: [short(H2)] }); return g })(), act: (f) => f.keepBaseBeforeRemote(), persist: null, meta: { baseText: undefined } },
  { name: 'started a write: its hash and text persisted now', from: synced, act: (f) => f.startedWrite(OTHER, ['t1'], null), persist: 'now', meta: { writing: H2, writingText: OTHER, writingIds: ['t1'] } },
  { name: 'started a write over a known text: that text is kept too', from: synced, act: (f) => f.startedWrite(OTHER, ['t1'], { text: TEXT, ids: ['t0'] }), persist: 'now', meta: { writing: H2, writingText: OTHER, writingIds: ['t1'], baseText: TEXT } },
  { name: 'aborted a write (a save landed first)', from: () => writingFile(), act: (f) => f.abortedWrite(), persist: 'soon', meta: { writing: undefined, writingText: undefined } },
  { name: 'wrote then finished: base = what we wrote, nothing kept', from: () => writingFile(), act: (f) => (f.wrote(H2), f.finishedWrite()), persist: 'soon', disk: { kind: 'file', hash: H2 }, meta: { baseHash: H2, baseText: undefined, writing: undefined, writingText: undefined }, check: (f) => expect(f.hasSeen(H2)).toBe(true) },
  { name: 'removed by us (the model deleted the file)', from: synced, act: (f) => f.removed(), persist: 'soon', disk: { kind: 'absent' }, meta: { baseHash: undefined } },
  { name: 'deleted on disk: the model deletes it', from: synced, act: (f) => f.deletedOnDisk(), persist: 'soon', disk: { kind: 'absent' }, meta: { baseHash: undefined }, check: (f) => expect(f.model.exists()).toBe(false) },
  { name: 'deleted on disk while damaged: the model keeps it', from: () => damaged(synced()), act: (f) => f.deletedOnDisk(), persist: null, disk: { kind: 'absent' }, check: (f) => expect(f.model.exists()).toBe(true) },
  { name: 'deleted while away', from: synced, act: (f) => f.deletedWhileAway(), persist: 'soon', disk: { kind: 'absent' }, meta: { baseHash: undefined }, check: (f) => expect(f.model.exists()).toBe(false) },
  { name: 'settled from git on a text', from: () => writingFile(), act: (f) => f.recordSettledBase(H2), persist: 'soon', meta: { baseHash: H2, writing: undefined }, check: (f) => expect(f.hasSeen(H2)).toBe(true) },
  { name: 'settled from git on a deletion', from: synced, act: (f) => f.recordSettledBase(null), persist: 'soon', meta: { baseHash: undefined } },
  { name: 'the file is the rendering: base noted', from: unknownDisk, act: (f) => f.matchesRendering(f.model.render(), H2), persist: 'soon', disk: { kind: 'file', hash: H2 }, meta: { baseHash: H2 } },
  { name: 'the file is the rendering and meta knew it: nothing to write', from: synced, act: (f) => f.matchesRendering(f.model.render(), H), persist: null },
  { name: 'seen: newest first, no repeats', from: synced, act: (f) => (f.noteSeen(H2), f.noteSeen(H), f.noteSeen(H)), meta: { seen: [short(H), short(H2)] } },
  { name: 'seen: at most 64', from: fresh, act: (f) => { for (let i = 0; i < 70; i++) f.noteSeen(sha256hex(String(i))) }, check: (f) => expect((f.persisted().seen as string[]).length).toBe(64) },
  { name: 'seen merged from a branch', from: synced, act: (f) => f.mergeSeen(['abc', short(H)]), persist: 'soon', meta: { seen: [short(H), 'abc'] } },
  { name: 'io failed: said the first time only', from: synced, act: (f) => (f.ioFailed('EIO'), f.ioFailed('EIO')), persist: false, check: (f) => expect(f.ioError).toBe('EIO') },
  { name: 'io recovered', from: () => { const f = synced(); f.ioFailed('EIO'); return f }, act: (f) => f.ioRecovered(), persist: true, check: (f) => expect(f.ioError).toBeNull() },
]

function heldFile(): TrackedFile {
  const f = synced()
  f.held({ line: 2, col: 3, message: 'bad' })
  return f
}
function kept(f: TrackedFile): TrackedFile {
  f.keepBaseBeforeRemote()
  return f
}
function writingFile(): TrackedFile {
  const f = synced()
  f.startedWrite(OTHER, ['t1'], null)
  return f
}
function unknownDisk(): TrackedFile {
  const f = synced()
  const g = new TrackedFile(NAME, f.model)
  g.restore(f.persisted())
  return g
}
function damaged(f: TrackedFile): TrackedFile {
  f.damagedState('too deep')
  return f
}

describe('TrackedFile transitions', () => {
  for (const r of rows) {
    test(r.name, () => {
      const f = r.from()
      const out = r.act(f)
      if ('persist' in r) expect(out).toBe(r.persist)
      if (r.state) expect(f.state).toBe(r.state)
      if (r.disk) expect(f.disk).toEqual(r.disk)
      if (r.meta) {
        const m = f.snapshotMeta()
        for (const [k, v] of Object.entries(r.meta)) {
          if (v === undefined) expect(m).not.toHaveProperty(k)
          else expect(m[k]).toEqual(v)
        }
      }
      r.check?.(f)
    })
  }
})

describe('TrackedFile meta at the store boundary', () => {
  test("today's sidecar meta loads unchanged and persists in the same field names", () => {
    const acked = Buffer.from(encodeStateVector(new Map([[7, 3]]))).toString('base64')
    const today = {
      baseHash: H, baseText: TEXT, baseIds: ['t1'], writing: H2, writingText: OTHER, writingIds: ['t1'],
      seen: [short(H), short(H2)], ackedSV: acked, somethingNewer: { kept: true },
    }
    const f = fresh()
    f.restore(structuredClone(today))
    expect(f.baseHash).toBe(H)
    expect(f.keptBase).toEqual({ text: TEXT, ids: ['t1'] })
    expect(f.writing).toEqual({ hash: H2, text: OTHER, ids: ['t1'] })
    expect(f.hasSeen(H2)).toBe(true)
    expect(f.persisted()).toEqual(today)
    expect(f.dirty).toBe(false)
  })

  test('an empty meta (a document never synced) persists as an empty object', () => {
    const f = fresh()
    f.restore({})
    expect(f.persisted()).toEqual({})
  })

  test('a damaged ackedSV costs only a pending', () => {
    const f = synced()
    f.restore({ ackedSV: '////' })
    expect(f.pending).toBe(true)
  })

  test('kill points: what each step persisted is what the next start sees', () => {
    // Dropping the process between two steps leaves the meta of the last persist: restoring it into a new
    // TrackedFile (a restart) must recognise our own write and keep the base an offline edit diffs against.
    const f = synced()
    f.keepBaseBeforeRemote()
    const afterKeep = f.persisted()
    f.startedWrite(OTHER, ['t1'], null)
    const afterStart = f.persisted()
    f.wrote(H2)
    f.finishedWrite()
    const afterFinish = f.persisted()
    const restart = (meta: Record<string, unknown>) => {
      const g = fresh()
      g.restore(meta)
      return g
    }
    expect(restart(afterKeep).keptBase?.text).toBe(TEXT)
    expect(restart(afterKeep).writing).toBeNull()
    expect(restart(afterStart).writing).toMatchObject({ hash: H2, text: OTHER, ids: ['t1'] })
    expect(restart(afterStart).keptBase?.text).toBe(TEXT)
    expect(restart(afterFinish).writing).toBeNull()
    expect(restart(afterFinish).keptBase).toBeNull()
    expect(restart(afterFinish).baseHash).toBe(H2)
  })
})

describe('TrackedFile: a save being taken in', () => {
  test('a restart counts it as taken in only once its operations landed', () => {
    const f = synced()
    f.takingIn(OTHER, H2)
    const marked = f.persisted()
    const restart = () => {
      const g = fresh()
      g.model.load([f.model.encodeDiff()])
      g.restore(marked)
      return g
    }
    // Killed before the save's operations were stored: an edit still to take in, against the kept base.
    expect(restart().tookInBeforeDeath(H2)).toBe(false)
    expect(restart().restartBases().certain).toBeNull()
    f.model.ingest(OTHER)
    // Killed after: the file holds a save the model holds; it is the base of anything edited on it.
    expect(restart().tookInBeforeDeath(H2)).toBe(true)
    expect(restart().restartBases().certain).toEqual({ text: OTHER, ids: null })
    f.finishedWrite()
    expect(f.persisted().takingIn).toBeUndefined()
  })
})

describe('TrackedFile acknowledgements', () => {
  test('pending until a peer holds the local state; a claim beyond it counts only up to what we hold', () => {
    const f = synced()
    expect(f.pending).toBe(true)
    const own = parseStateVector(f.model.stateVector())
    const claim = new Map([...own].map(([c, k]) => [c, k + 1000]))
    claim.set(424242, 5)
    expect(f.notedRemoteState(claim)).toBe(true)
    expect(f.pending).toBe(false)
    expect(f.notedRemoteState(claim)).toBe(false)
    // Clamped: a client we never saw is not stored, and our clock is not overstated.
    expect(parseStateVector(Buffer.from(f.persisted().ackedSV as string, 'base64'))).toEqual(own)
    f.model.ingest(OTHER)
    expect(f.pending).toBe(true)
  })

  test('a fresh checkout enrolling a file peers hold is not pending: its creator credit is no edit', () => {
    // relay e2e 'tokens: CI in a fresh checkout': a read-only reader enrolled the committed file, which the
    // space already held, and the live model's credit of the enrollment (FileModel.enroll) kept it pending:
    // sync exited 5, 'local changes to 1 file(s) … stay pending', with nothing edited.
    const live = (id: string) => new FileModel({ name: NAME, author: { id, name: id, kind: 'human' }, live: true })
    const space = live('a')
    space.enroll(TEXT)
    const reader = new TrackedFile(NAME, live('reader'))
    reader.model.enroll(TEXT)
    expect(reader.pending).toBe(true)
    reader.notedRemoteState(parseStateVector(space.stateVector()))
    expect(reader.pending).toBe(false)
    // A change of its own is pending still, a deletion only too (its author entry under its own client).
    reader.model.ingest(OTHER)
    expect(reader.pending).toBe(true)
    reader.notedRemoteState(parseStateVector(reader.model.stateVector()))
    expect(reader.pending).toBe(false)
    reader.model.ingest('todos: []\n')
    expect(reader.pending).toBe(true)
    // A new file's enrollment itself is pending (peers lack it), credit and all.
    const creator = new TrackedFile(NAME, live('c'))
    creator.model.enroll(OTHER)
    expect(creator.pending).toBe(true)
  })
})
