/**
 * Changes a peer only carried, credited to who wrote them. A commit's changes taken in from git are written
 * by the peer that pulled it, a resolution by the peer that chose: named by the CRDT's authors map, history
 * and blame credited the puller with a teammate's commit and the resolver with the value they kept (issue 16,
 * black-box tester). The transaction that takes such a change in also writes a credit (crdt/schema.ts
 * `Credit`): in a git mark (the commit's author, or its sync point's writer) or in a resolution record (the
 * chosen value's writer). It replicates with the change, so every peer reads the same credit here.
 * An `undo` or `restore` writes a revert mark (schema.ts `RevertMark`) crediting its own writer: no carried
 * change, but one that brings values back, which only the undoing peer knew (its peers named the undoer as
 * the writer of every value it brought back).
 */
import type { Doc, Transaction, Map as YMap } from 'yjs'
import { AUTHORS, GIT_MARKS, RESOLVED, revertOf, type Credit } from '../../crdt/schema.js'
import type { By, Via } from './store.js'

export interface Carried {
  via: Extract<Via, 'git' | 'resolve' | 'undo' | 'restore'>
  /** For an undo: the undone change's text hash (16 hex digits), to name that change as this peer keeps it. */
  ofHash?: string
  /** Who wrote it, and when (ms; the newest when several did). */
  by: By
  at: number
  /** Other writers of the same change: the commits of one pull, each its own (gitsteps.ts). */
  more?: By[]
  /** The peer that chose the value, for a resolution. */
  kept?: By
  /** The Yjs client that carried it: not an author of its own (its own edits in the same update aside). */
  client: number
}

/** Defines the maps credits are written in (before any update arrives). */
export function watchCredits(doc: Doc): void {
  doc.getMap(GIT_MARKS)
  doc.getMap(RESOLVED)
}

/** The credit a transaction wrote, if any (the last one: one git ingestion or one resolution per turn). */
export function carriedIn(doc: Doc, tr: Transaction): Carried | null {
  let found: Carried | null = null
  for (const [name, via] of [[GIT_MARKS, 'git'], [RESOLVED, 'resolve']] as const) {
    const map = doc.getMap<unknown>(name)
    const keys = tr.changed.get(map as never)
    if (!keys) continue
    for (const k of keys) {
      if (k === null) continue
      const v = map.get(k)
      if (!Array.isArray(v) || v.length !== 3) continue
      const c = v[2] as Credit
      const client = via === 'resolve' ? (v[0] as number) : writerClient(map, k)
      const kept = via === 'resolve' ? peerOf(doc, client) : null
      const revert = via === 'git' ? revertOf(k, v[0]) : null
      const by: By = [c[0], c[1], c[2]]
      found = revert
        ? { via: revert.via, by, at: c[3] * 1000, ...(revert.ofHash ? { ofHash: revert.ofHash } : {}), client }
        : joinCarried(found, { via, by, at: c[3] * 1000, ...(kept ? { kept } : {}), client })
    }
  }
  return found
}

/**
 * Two credits in one change: a pull's commits in one update (a peer that catches up gets them at once),
 * each crediting its writer, make one version written by all of them, first writer first (taken in one
 * transaction each, each is a version of its own: recorder.ts). A resolution, or a change carried by
 * another client, replaces what came before, as one credit always did.
 */
export function joinCarried(a: Carried | null, b: Carried): Carried {
  if (!a || a.via !== 'git' || b.via !== 'git' || a.client !== b.client) return b
  const all = [a.by, ...(a.more ?? []), b.by, ...(b.more ?? [])].filter((x, i, l) => l.findIndex((y) => y[0] === x[0]) === i)
  return { via: 'git', by: all[0]!, at: Math.max(a.at, b.at), ...(all.length > 1 ? { more: all.slice(1) } : {}), client: a.client }
}

/**
 * A pull's commits arriving in one transaction (a peer catching up on it): the credited git marks one
 * client wrote in `tr`, in the order written (their clocks), when there are two or more; else null.
 */
export function gitStepsIn(doc: Doc, tr: Transaction): { client: number; steps: Array<{ clock: number; carried: Carried }> } | null {
  const map = doc.getMap<unknown>(GIT_MARKS)
  const keys = tr.changed.get(map as never)
  if (!keys || keys.size < 2) return null
  const byClient = new Map<number, Array<{ clock: number; carried: Carried }>>()
  for (const k of keys) {
    const it = k === null ? undefined : map._map.get(k)
    const v = it?.content.getContent()[0]
    if (!it || it.deleted || !Array.isArray(v) || v.length !== 3 || revertOf(k!, v[0])) continue
    if (it.id.clock < (tr.beforeState.get(it.id.client) ?? 0)) continue
    const c = v[2] as Credit
    const list = byClient.get(it.id.client) ?? byClient.set(it.id.client, []).get(it.id.client)!
    list.push({ clock: it.id.clock, carried: { via: 'git', by: [c[0], c[1], c[2]], at: c[3] * 1000, client: it.id.client } })
  }
  const [client, steps] = [...byClient].sort((a, b) => b[1].length - a[1].length)[0] ?? [0, []]
  return steps.length >= 2 ? { client, steps: steps.sort((a, b) => a.clock - b.clock) } : null
}

/** The Yjs client that wrote a map entry (the item's id). */
function writerClient(map: YMap<unknown>, key: string): number {
  return map._map.get(key)?.id.client ?? -1
}

function peerOf(doc: Doc, client: number): By | null {
  const a = doc.getMap<[string, string, 'human' | 'agent']>(AUTHORS).get(String(client))
  return a ? [a[0], a[1], a[2]] : null
}
