/**
 * Conflicts as users see them (`status`, `resolve --list`), and their resolution.
 *
 * A resolution is itself a synced change: the chosen value is written (a normal write that has seen every
 * competing value, so it raises no new conflict) and the conflict's records are marked resolved, which
 * clears the conflict on every peer once the change arrives.
 */
import * as Y from 'yjs'
import { parse } from 'yaml'
import { toAbsolute } from './indent.js'
import { conflictMaps, listRaw, type RawConflict, type RecordValue } from './conflicts.js'
import { gitWriteKey, gitWrites, keptKey, keptWrites } from './writecredits.js'
import { ITEM, type Rules } from './rules.js'
import { kindOf, shortHash, type Credit, type NodeId } from './schema.js'
import { summarize } from './valuesummary.js'
import { MAX_WALK } from './limits.js'
import type { Tree } from './tree.js'
import type { Writer } from './write.js'
import { asAuthor } from './modeltypes.js'

export type Take = number | 'ours' | 'theirs'

export interface ConflictAuthor {
  id: string
  name: string
  kind: 'human' | 'agent'
}

export interface ConflictValue {
  /** The value as YAML would read it (string, number, …); null for "deleted". */
  value: unknown
  /**
   * The text as written in the file; '' for "deleted". For a list, a mapping or a block of text, a short
   * summary of what it holds (`the item as edited: title "Two", status "doing"`): its registers hold only
   * an internal descriptor (`S2`, `M2`), which `resolve --list` and the daemon's lines showed (issue 17).
   */
  raw: string
  deleted?: true
  author: ConflictAuthor
  /** ISO time of the write; null for content enrolled from a file. */
  at: string | null
}

export interface Conflict {
  id: string
  file: string
  kind: 'value' | 'delete'
  path: Array<string | number>
  display: string
  values: ConflictValue[]
  /** 1-based index into `values` of what the file shows now. */
  winner: number
}

const ENROLLED: ConflictAuthor = { id: 'enrollment', name: 'enrolled from the file', kind: 'human' }

export function describeConflicts(file: string, tree: Tree, rules: Rules): Conflict[] {
  const authors = conflictMaps(tree.doc).authors
  const authorOf = (client: number, at: number): ConflictAuthor => {
    const a = authors.get(String(client))
    if (a) return asAuthor(a)
    return at === 0 ? ENROLLED : { id: 'unknown', name: `unknown (client ${client})`, kind: 'human' }
  }
  const kept = keptWrites(tree.doc)
  const git = gitWrites(tree.doc)
  // A value a resolution wrote is its chosen writer's, at the time they wrote it, not the resolver's; one a
  // commit brought, the commit's writer's, not the clone's that took it in.
  const present = (c: RawConflict, v: RecordValue, i: number) => {
    const k = kept.get(`${c.written?.[i] ?? c.node}|${v[2]}|${v[1]}`)
    if (k) return presentValue([v[0], k[3], v[2]], asAuthor(k), tree, c)
    const g = git.get(gitWriteKey(v[2], v[1]))
    return presentValue(v, g ? asAuthor(g) : authorOf(v[2], v[1]), tree, c)
  }
  return listRaw(tree).map((c) => {
    const path = tree.path(c.node)
    return {
      id: conflictId(file, c),
      file,
      kind: c.kind,
      path,
      display: displayPath(tree, c.node, path),
      values: c.values.map((v, i) => present(c, v, i)),
      winner: c.winner + 1,
    }
  })
}

function conflictId(file: string, c: RawConflict): string {
  return shortHash(`${file}\u0000${c.node}\u0000${c.kind}`)
}

function presentValue(v: RecordValue, author: ConflictAuthor, tree: Tree, c: RawConflict): ConflictValue {
  const at = v[1] === 0 ? null : new Date(v[1] * 1000).toISOString()
  if (v[0] === '\u0000deleted') return { value: null, raw: '', deleted: true, author, at }
  const k = kindOf(v[0])
  if (k !== 'scalar' && k !== 'opaque') return { ...summarize(tree, c.node, v[0], c.kind === 'delete'), author, at }
  const raw = k === 'scalar' || k === 'opaque' ? toAbsolute(v[0].slice(1), 0) : v[0]
  let value: unknown = raw
  if (k === 'scalar') {
    try {
      value = parse(raw, { uniqueKeys: false })
    } catch {
      value = raw
    }
  }
  return { value, raw, author, at }
}

/** `todos[id=todo-7].status`: identity values for list items where there is one, else indexes. */
function displayPath(tree: Tree, node: NodeId, path: Array<string | number>): string {
  const rp = tree.rulePath(node)
  let out = ''
  path.forEach((seg, i) => {
    if (rp[i] !== ITEM) {
      out += /^[A-Za-z_][\w-]*$/.test(String(seg)) ? (out ? '.' : '') + seg : `[${JSON.stringify(seg)}]`
    } else if (typeof seg === 'number') out += `[${seg}]`
    else {
      const keys = tree.rules.at(rp.slice(0, i)).identity
      const ids: NodeId[] = []
      for (let cur: NodeId | undefined = node; cur && cur !== 'R' && ids.length < MAX_WALK; cur = tree.placement(cur)?.[0]) ids.unshift(cur)
      const key = keys.find((k) => tree.identityOf(ids[i]!, [k]) === seg) ?? keys[0]
      // Two items share the id (one added while the other was deleted, the deletion contested): which one,
      // by its place — a stale conflict otherwise read as naming the newer item (issue 16 tester).
      const parent = tree.placement(ids[i]!)?.[0]
      const sibs = parent === undefined ? [] : tree.visibleChildren(parent)
      const twin = sibs.some((c) => c !== ids[i] && key !== undefined && tree.identityOf(c, [key]) === seg)
      out += twin ? `[${key}=${seg} #${sibs.indexOf(ids[i]!) + 1}]` : `[${key}=${seg}]`
    }
  })
  return out || '(document)'
}

/** Applies a choice to one conflict of this file. Returns false when no conflict has that id. */
export function resolveConflict(
  file: string,
  tree: Tree,
  w: Writer,
  rules: Rules,
  id: string,
  take: Take,
  me: string,
): boolean {
  const raw = listRaw(tree).find((c) => conflictId(file, c) === id)
  if (!raw) return false
  const shown = describeConflicts(file, tree, rules).find((c) => c.id === id)!
  const index = takeIndex(shown, take, me)
  const chosen = raw.values[index]!
  if (raw.kind === 'delete') {
    if (chosen[0] === '\u0000deleted') w.map.set(raw.node + 'd', [Y.encodeStateVector(tree.doc), w.opts.time])
    else w.map.set(raw.node + 'd', null)
    return true
  }
  // Always a fresh write: a decision made now, later than every value it chose among.
  w.setDesc(raw.node, chosen[0], true)
  const { resolved } = conflictMaps(tree.doc)
  // The chosen value's writer and time go with the record: history and blame name them, not the resolver.
  const a = shown.values[index]!.author
  const at = keptWrites(tree.doc).get(`${raw.node}|${chosen[2]}|${chosen[1]}`)?.[3] ?? chosen[1]
  const credit: Credit | null = a.id === 'enrollment' || a.id === 'unknown' ? null : [a.id, a.name, a.kind, at]
  for (const key of raw.records) resolved.set(key, credit ? [tree.doc.clientID, w.opts.time, credit] : [tree.doc.clientID, w.opts.time])
  // A record of a later race with the value written now names its writer by this entry (keptWrites): the
  // records' marks above are overwritten by a later edit's or a concurrent resolution's.
  if (credit) resolved.set(keptKey(raw.node, tree.doc.clientID, w.opts.time), [tree.doc.clientID, w.opts.time, credit])
  return true
}

export class TakeError extends Error {}

/** The index of the value `take` keeps (`ours`: the latest written on this machine; `theirs`: the latest of another). */
export function takeIndex(c: Conflict, take: Take, me: string): number {
  if (typeof take === 'number') {
    if (!Number.isInteger(take) || take < 1 || take > c.values.length) {
      throw new TakeError(`conflict ${c.id} has ${c.values.length} values: choose 1 to ${c.values.length}`)
    }
    return take - 1
  }
  const mine = (v: ConflictValue) => v.author.id === me
  const idx = c.values.map((v, i) => [v, i] as const)
  const cand = take === 'ours' ? idx.filter(([v]) => mine(v)) : idx.filter(([v]) => !mine(v))
  if (cand.length === 0) {
    throw new TakeError(
      take === 'ours'
        ? `none of the values of conflict ${c.id} was written on this machine: choose one by number`
        : `every value of conflict ${c.id} was written on this machine: choose one by number`,
    )
  }
  return cand[cand.length - 1]![1]
}
