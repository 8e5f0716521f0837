/**
 * A tracked file's meta as the sidecar keeps it (`TrackedFile` is its one owner; this is only its shape and
 * its JSON field names). The names of earlier versions are kept (`baseHash`, `baseText`, `baseIds`,
 * `writing`, `writingText`, `writingIds`, `seen`, `ackedSV`), so sidecars written by them load unchanged;
 * new: `writingSeq`, `takingIn`, `history`, `baseSV`. Fields it does not know are carried as they were (`extra`).
 */
import type { DocMeta } from '../fs/StorageAdapterInterface.js'
import { encodeStateVector, parseStateVector, type StateVector } from '../net/statevector.js'

/** A text the file held (or is being given), with the node ids of its rendering when kept. */
export interface TextMark {
  hash?: string
  text?: string
  ids?: string[]
  /**
   * The document's state vector when the file held `text` (base64), kept with a held file's text: a save
   * after a restart is then known to be made from a text older than the peers' changes, and what it
   * overwrites of theirs is recorded (black-box tester: a held file's value won unrecorded once it parsed).
   */
  sv?: string
}

export interface FileMeta {
  /** The file's last synced text: its hash, and while the model is ahead of the file the text itself. */
  base: TextMark
  /** A write under way: the hash and text being written, their node ids, and when it started (`seq`). */
  writing?: TextMark & { hash: string; seq?: number }
  /**
   * A save about to be taken in: its hash, and our client's clock before (persisted before the save's
   * operations, cleared once its turn is done). Operations beyond that clock after a restart mean the save
   * was taken in: the file holding it is what we left, not an edit to take in again.
   */
  takingIn?: { hash: string; text: string; client: number; clock: number; seq: number }
  /** Texts the file held before its last synced one, newest first (`FileModel.olderTexts`). */
  history?: string[]
  /** Short hashes of texts this CRDT rendered into the file or took in from it, newest first. */
  seen: string[]
  /** What peers are known to hold (pending = local operations beyond it). */
  acked: StateVector
}

/** The meta a sidecar held, and the fields this version does not know. */
export function readMeta(raw: DocMeta): { meta: FileMeta; extra: Record<string, unknown> } {
  const { baseHash, baseText, baseIds, baseSV, writing, writingText, writingIds, writingSeq, takingIn, history, seen, ackedSV, ...extra } = raw
  const str = (v: unknown) => (typeof v === 'string' ? v : undefined)
  const ids = (v: unknown) => (Array.isArray(v) ? v.filter((x): x is string => typeof x === 'string') : undefined)
  const num = (v: unknown) => (typeof v === 'number' && Number.isSafeInteger(v) ? v : undefined)
  let acked: StateVector = new Map()
  try {
    if (typeof ackedSV === 'string') acked = parseStateVector(Buffer.from(ackedSV, 'base64'))
  } catch {
    // A damaged acked vector only costs a "pending" until peers acknowledge again.
  }
  const meta: FileMeta = {
    base: dropUndefined({ hash: str(baseHash), text: str(baseText), ids: ids(baseIds), sv: str(baseSV) }),
    ...(typeof writing === 'string' ? { writing: dropUndefined({ hash: writing, text: str(writingText), ids: ids(writingIds), seq: num(writingSeq) }) } : {}),
    ...(isTakingIn(takingIn) ? { takingIn } : {}),
    ...(ids(history)?.length ? { history: ids(history) } : {}),
    seen: ids(seen) ?? [],
    acked,
  }
  return { meta, extra }
}

/** The meta to persist, in today's field names. */
export function writeMeta(m: FileMeta, extra: Record<string, unknown>): DocMeta {
  return dropUndefined({
    ...extra,
    baseHash: m.base.hash,
    baseText: m.base.text,
    baseIds: m.base.ids,
    baseSV: m.base.sv,
    writing: m.writing?.hash,
    writingText: m.writing?.text,
    writingIds: m.writing?.ids,
    writingSeq: m.writing?.seq,
    takingIn: m.takingIn,
    history: m.history?.length ? m.history : undefined,
    seen: m.seen.length ? m.seen : undefined,
    ackedSV: m.acked.size ? Buffer.from(encodeStateVector(m.acked)).toString('base64') : undefined,
  })
}

/** A state vector as meta keeps it (`TextMark.sv`), and back (nothing when absent or damaged). */
export const svText = (sv: StateVector | undefined): string | undefined => (sv ? Buffer.from(encodeStateVector(sv)).toString('base64') : undefined)
export function svOf(text: string | undefined): { sv?: StateVector } {
  try {
    return text ? { sv: parseStateVector(Buffer.from(text, 'base64')) } : {}
  } catch {
    return {} // a damaged one only costs the record of an overwrite
  }
}

function isTakingIn(v: unknown): v is NonNullable<FileMeta['takingIn']> {
  const t = v as Record<string, unknown> | null
  return typeof t === 'object' && t !== null && typeof t.hash === 'string' && typeof t.text === 'string' &&
    [t.client, t.clock, t.seq].every((n) => typeof n === 'number' && Number.isSafeInteger(n))
}

export function dropUndefined<T extends object>(o: T): T {
  for (const k of Object.keys(o) as Array<keyof T>) if (o[k] === undefined) delete o[k]
  return o
}
