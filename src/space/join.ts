/**
 * Joining a space from an older checkout (issue 13 item 4): content an older state of the space already
 * held is not an edit.
 *
 * A new member clones the repository (often at an older commit, or with notes not fetched) and runs
 * `init --join`, `sync` or `watch`. Its files hold what git committed, and it has no CRDT state. Enrolling
 * that text (a new authorship of every value, `FileModel.enrollment`) would make every value the live
 * context changed since a concurrent overwrite on every peer — conflicts everywhere, and now and then the
 * stale value winning. So, while this machine is *joining*:
 *
 *  - a tracked file with no CRDT state whose path git has in the recent history is *awaiting the join*:
 *    it is not enrolled. Its committed versions (HEAD, the index, the recent commits: `GitView.versions`)
 *    are kept in memory as the candidate bases. Saves made meanwhile stay on disk only.
 *  - when the live state arrives (a peer's update makes the model non-empty), the file is joined: its
 *    base is the checkout's version (the index's or HEAD's, the nearer; the history's only when the
 *    checkout has none) — an old rendering of the live context
 *    (with a sync point, exactly the rendering of the state it names: a sync point records a state only
 *    when the committed text was the CRDT's rendering; without one, a commit made while ctxsync ran is
 *    one too) — and only the member's own changes (base → file) are merged into the live text
 *    (`git merge-file`; where lines collide, the member's changes replayed after the live ones, so
 *    a value both changed keeps the member's later edit) and taken in as its edit, diffed against the
 *    live rendering. No value the clone did not change is written, so none conflicts
 *    and none rolls back. Where lines cannot tell a deletion from an edit (the member deleted what the
 *    live context edited since, or edited what it deleted), the save is a stale save of the checkout's
 *    version instead, with the state that version showed as near as its values tell (`seenWhen`).
 *  - once a first exchange with a peer is complete (`finishJoin`: `sync` when a peer synced, the daemon
 *    on its first `peer-synced`), the space is joined: files no peer had are new to the space and are
 *    enrolled as before (deterministically, so members enrolling the same text agree).
 *
 * "Joining" is a marker file in the state directory that `init` writes when it joins an existing space
 * (the space's `ctxsync.yaml` was there before it) on a machine that had no state for it — and `sync`
 * when it creates this machine's state in a checkout without `init` (CI: open.ts) — and that the
 * first complete exchange removes. The first ever enrollment of a space (`init` creating it) never
 * waits: there is no live state anywhere to wait for. Offline (nobody reachable) the member keeps
 * working on its files; they are merged as above when a peer is first reached, whenever that is. A
 * member that knows no peer will ever have the state (the space's only machine, re-cloned) ends the join
 * by removing `.ctxsync/joining`: the next start enrolls its files as the space's first state.
 *
 * The in-memory entry is rebuilt at every scan from the marker, so a restart (or a crash between taking
 * in the peer's state and writing the file) joins the same way: a document with state but no synced base
 * yet (`baseHash`) while the marker is present is still awaiting its join.
 */
import fs from 'node:fs/promises'
import path from 'node:path'
import { nearest } from './gitbase.js'
import { FileModel, type Author, type Rendered } from '../crdt/model.js'
import { collectIds, heldFor, stateOf } from '../crdt/recent.js'
import { fillDerivedIds } from '../crdt/reannotate.js'
import { ROOT } from '../crdt/schema.js'
import type { Tree } from '../crdt/tree.js'
import { changedSince } from '../crdt/stalesave.js'
import { parses, parseYaml } from '../crdt/parse.js'
import { annotate } from '../crdt/annotate.js'
import { childrenOf, slotsOf, type DocIR, type Node } from '../crdt/ir.js'
import { descOf } from '../crdt/write.js'
import { mergeFileTexts } from '../git/merge-file.js'
import { atMost } from '../net/timers.js'
import { spacePaths } from './paths.js'
import { dropBeforeSpace } from './joinconfig.js'
import { fetchSyncPoints } from './joinnotes.js'
import type { Rules } from '../crdt/rules.js'
import type { TrackedFile } from './trackedfile.js'

export interface JoinBase {
  /** What the checkout holds: the file's versions in the index and in HEAD (the edits were made on them). */
  current: string[]
  /** The file's versions in the recent history, nearest to HEAD first: old renderings too. */
  texts: string[]
  rules: Rules
  /**
   * A checkout older than the space's ctxsync.yaml: the file's texts when the space was set up
   * (`joinconfig.ts` spaceTexts), one of them the live context's first state.
   */
  space?: string[]
}

interface JoiningSpace {
  root: string
  docs(): Iterable<{ model: { isEmpty: boolean } }>
  scan(): Promise<unknown>
  idle(): Promise<readonly unknown[]>
}

const awaiting = new WeakMap<TrackedFile, JoinBase>()

const markerOf = (root: string) => path.join(spacePaths(root).state, 'joining')

/** Is this machine joining the space at `root` (no exchange with a peer completed yet)? */
export async function isJoining(root: string): Promise<boolean> {
  return fs.access(markerOf(root)).then(() => true, () => false)
}

/**
 * `init` joined an existing space on a machine with no state for it. Returns the files of a checkout older
 * than the space that it removed: the space never had them (`dropBeforeSpace`).
 */
export async function startJoining(root: string): Promise<string[]> {
  await fs.mkdir(spacePaths(root).state, { recursive: true })
  await fs.writeFile(markerOf(root), `${new Date().toISOString()}\n`)
  await fetchSyncPoints(root)
  return dropBeforeSpace(root)
}

/** A first exchange with a peer completed: the space is joined. Returns true when it was joining. */
export async function stopJoining(root: string): Promise<boolean> {
  try {
    await fs.rm(markerOf(root))
    return true
  } catch {
    return false
  }
}

export function awaitingJoin(f: TrackedFile): JoinBase | undefined {
  return awaiting.get(f)
}

export function awaitJoin(f: TrackedFile, base: JoinBase): void {
  awaiting.set(f, base)
}

export function joined(f: TrackedFile): void {
  awaiting.delete(f)
}

/**
 * Should `f` wait for the live state instead of being enrolled or re-authored? Only while joining, for a
 * file with no synced base whose model is empty (nothing taken in yet) or holds only what peers sent.
 */
export function mayAwait(f: TrackedFile): boolean {
  return f.state === 'ok' && f.damaged === null && (f.model.isEmpty || (!f.baseHash && !f.writing && !f.keptBase))
}

/**
 * The text to take in when the live state arrived: the member's own changes (from the nearest committed
 * version to `text`) merged into the live text. Null when the member changed nothing (`live` stands).
 */
export async function joinedText(name: string, j: JoinBase, live: string | null, text: string, keep?: JoinRecords): Promise<string | null> {
  // The checkout's version is an old rendering as it stands; anything else is an edit of it. (Not any
  // version of the history: an edit that undoes the last commit's addition equals the commit before it,
  // and is an edit all the same.)
  const from = j.current.length ? j.current : j.texts
  if (from.includes(text)) return null
  const base = nearest(from, text)
  if (base === null) return null
  // The live context no longer has the file (deleted by a peer): only a file the member changed comes back.
  if (live === null) return text
  const byLines = await mergeFileTexts(base, live, text).catch(() => null)
  const merged = byLines !== null && parses(byLines) ? byLines : await rebase(name, j.rules, base, live, text, keep)
  return merged === live ? null : merged
}

/**
 * Where a joining clone's conflicts with the history go (`save`): this clone's merge records (`mergestore.ts`),
 * as a git merge's would, listed by `resolve`. `author` is the member's side (`--take ours`); `at` its write (s).
 */
export interface JoinRecords { save(text: string, model: FileModel): Promise<void>; author: Author; at: number }

/** The other side of a join's record: what the live context holds that the member's commit did not. */
const HISTORY: Author = { id: 'join:history', name: 'the history since your commit', kind: 'human' }

/**
 * The member's changes (base → text) applied after the live ones (base → live), as one peer editing after
 * the other rather than at once: where both changed one value the member's edit, the one made on top of
 * what it saw, is the later and stands, and no other value is touched. (A concurrent merge — `merge3` —
 * could let the live value win and the member's edit vanish without a record.) Applied as a stale save of
 * `base`, so an item the member deleted that the live context edited since stays, as between two live
 * peers (it was deleted along with the live edit: join generator seed 345331).
 */
async function rebase(name: string, rules: Rules, base: string, live: string, text: string, keep?: JoinRecords): Promise<string> {
  // Two writers, the history (base → live) and the member: one, as before, hid that the member's edit brought
  // back a todo git deleted before the space — no record (join-older 600009.2, 779789.1).
  const at = keep?.at ?? 2
  const h = new FileModel({ name, rules, author: HISTORY, now: () => at - 1 })
  const m = new FileModel({ name, rules, author: keep?.author ?? { id: 'join', name: 'join', kind: 'human' }, now: () => at })
  try {
    const start = h.enroll(base)
    const sv = stateOf(h.doc)
    h.ingest(live)
    m.applyRemote(h.encodeDiff(), 'history')
    m.setBase(m.render())
    m.ingestJoin(text, { text: base, ids: m.idsOf(start), sv }, Infinity)
    const out = m.render().text ?? text
    // A value both changed is recorded by the live model's take-in of `out` (ingestOver), naming the live
    // value's writer; only what the live context never held (a todo git deleted before the space) needs this.
    for (const c of m.conflicts()) if (c.kind === 'value') m.resolve(c.id, c.winner)
    if (keep && m.conflicts().length > 0) await keep.save(out, m)
    return out
  } finally {
    h.destroy()
    m.destroy()
  }
}

/**
 * The node ids and state `committed` rendered when the live context grew from its enrollment (the file's
 * first text in the space, enrolled alike by every member: `FileModel.enrollment`). The member's save is
 * then diffed against exactly what it was made from, so a key the live context renamed or an item it
 * deleted since is known as such (a value edited under the old key comes back with a conflict). Null
 * otherwise: the join merges texts (`joinedText`).
 */
function enrolledBase(live: FileModel, rules: Rules, committed: string): { ids: string[]; sv: Map<number, number> } | null {
  const m = new FileModel({ name: live.name, rules, author: { id: 'join', name: 'join', kind: 'human' } })
  try {
    const r = m.enroll(committed)
    const sv = stateOf(m.doc)
    return live.holds(sv) ? { ids: m.idsOf(r), sv } : null
  } catch {
    return null
  } finally {
    m.destroy()
  }
}

/**
 * Where the text merge cannot tell a deletion from an edit — the clone deleted what the live context
 * edited since `committed`, or edited what the live context deleted since — what the live context held
 * when `committed` was its rendering, as near as its values tell (no sync point or enrollment names that
 * state): all it holds now but, from each writer, what it wrote from its first write of a value
 * `committed` does not show (a writer's clock only grows: the rest came later). The clone's save is then
 * a stale save of `committed` that has seen exactly that, as between live peers: the item stays, with its
 * delete conflict. (The text merge deleted the live edit, or brought the item back, without a record:
 * join generator seeds 2 and 42.) Null otherwise, or when a text does not parse.
 */
function seenWhen(m: FileModel, rules: Rules, r: Rendered, committed: string, text: string): { ids: string[]; sv: Map<number, number> } | null {
  const held = r.ir && heldFor(committed, null, r.ir, rules, false, (id) => m.tree.has(id))
  if (!held) return null
  deletedIds(held.ir, m.tree, r.ir!, rules)
  let mine: Map<string, string>
  try {
    mine = descs(annotate(parseYaml(text), held.ir, rules))
  } catch {
    return null
  }
  const was = descs(held.ir)
  const shown = descs(r.ir!)
  // What the live context wrote since: values changed, and nodes added (a tag added to a todo).
  const since = changedSince(m.tree, held.ir, true)
  const up = ancestors(r.ir!)
  const cloneDeleted = (x: string) => was.has(x) && !mine.has(x) && shown.has(x)
  const deletedEdited = [...since.keys()].some((id) => [id, ...(up.get(id) ?? [])].some(cloneDeleted))
  // And what it deleted since inside what the clone deleted (a line of a todo's description).
  const upWas = ancestors(held.ir)
  const gone = [...was.keys()].filter((id) => !shown.has(id))
  const deletedDeleted = gone.filter((id) => [id, ...(upWas.get(id) ?? [])].some(cloneDeleted))
  const editedDeleted = gone.some((id) => mine.has(id) && mine.get(id) !== was.get(id))
  if (!deletedEdited && !deletedDeleted.length && !editedDeleted) return null
  // Not where the live context deleted something still with no id (no node of that value left under its
  // parent: `deletedIds`) in an item the clone left as it was: the stale save would write it again and
  // bring the item back (join generator seeds 600497, 600887 before deletedIds). The text merge keeps
  // that deletion.
  const itemOf = (id: string) => upWas.get(id)?.[1] ?? id
  const touched = new Set([...was].filter(([id, d]) => mine.get(id) !== d).map(([id]) => itemOf(id)))
  if (unnamed(held.ir).some((item) => item === null || !touched.has(item))) return null
  const sv = stateOf(m.doc)
  const cap = (client: number, clock: number) => { if (clock < (sv.get(client) ?? 0)) sv.set(client, clock) }
  for (const b of since.values()) cap(...(b.key.split(':').map(Number) as [number, number]))
  for (const id of deletedDeleted) {
    const d = m.tree.item(id, 'd')
    if (d) cap(d.id.client, d.id.clock)
  }
  return { ids: collectIds(held.ir), sv }
}

/**
 * Ids for what `committed` shows that the live context deleted since and that no key or identity names (a
 * block's line, a tag): the node of that value under the same parent that the live context no longer
 * shows. Without an id the stale save read such a slot as new in the clone's save, wrote it again and
 * brought its todo back, so the join fell back to the text merge, where a todo the live context deleted
 * and the clone edited came back with no record (join generator seeds 600288, 600411: a tag or a line of
 * another todo deleted too); and a line the live context deleted in a todo the clone deleted went unseen,
 * the todo deleted with no record (seed 44).
 */
function deletedIds(ir: DocIR, tree: Tree, live: DocIR, rules: Rules): void {
  const taken = new Set([...slotsOf(ir), ...slotsOf(live)].flatMap((s) => (s.id ? [s.id] : [])))
  const take = (parent: string, desc: string) => {
    const id = tree.rawChildren(parent).find((c) => !taken.has(c) && tree.desc(c) === desc)
    if (id) taken.add(id)
    return id
  }
  const walk = (n: Node, id: string | undefined) => {
    if (n.t === 'block' && id) for (const l of n.lines) l.id ??= take(id, '=' + l.text)
    for (const c of childrenOf(n) ?? []) {
      // Only a value with no children: nothing below it to pair besides.
      if (!c.id && id && !('key' in c) && !childrenOf(c.value) && c.value.t !== 'block') c.id = take(id, descOf(c.value))
      walk(c.value, c.id)
    }
  }
  if (ir.root) walk(ir.root, ROOT)
  fillDerivedIds(ir, (id) => tree.has(id), rules)
}

/** Each node's ancestors' ids, outermost first. */
function ancestors(ir: DocIR): Map<string, string[]> {
  const out = new Map<string, string[]>()
  const walk = (n: Node, up: string[]) => {
    if (n.t === 'block') for (const l of n.lines) if (l.id) out.set(l.id, up)
    for (const c of childrenOf(n) ?? []) {
      if (c.id) out.set(c.id, up)
      walk(c.value, c.id ? [...up, c.id] : up)
    }
  }
  if (ir.root) walk(ir.root, [])
  return out
}

/** For each slot with no node id, the id of the list item it is in (null: none, or the item itself). */
function unnamed(ir: DocIR): Array<string | null> {
  const out: Array<string | null> = []
  const walk = (n: Node, up: string[]) => {
    if (n.t === 'block') for (const l of n.lines) if (!l.id) out.push(up[1] ?? null)
    for (const c of childrenOf(n) ?? []) {
      if (!c.id) out.push(up[1] ?? null)
      walk(c.value, c.id ? [...up, c.id] : [...up, ''])
    }
  }
  if (ir.root) walk(ir.root, [])
  return out
}

/** Each slot's node id and what it holds (as `stalesave.ts` changedSince compares them). */
function descs(ir: DocIR): Map<string, string> {
  const out = new Map<string, string>()
  for (const s of slotsOf(ir)) if (s.id) out.set(s.id, 'value' in s ? descOf(s.value) : '=' + s.text)
  return out
}

/**
 * Takes a joining clone's file `text`, saved at `at` (seconds), into its model `m`, which holds the live
 * state now, rendered as `r` (the base from here on). Its changes were made on its checkout's version:
 * a value the live context changed too is recorded, and the later of the two writes shows. Returns false
 * when the clone changed nothing (the live text stands). Throws like `FileModel.ingest`.
 */
export async function takeJoin(m: FileModel, j: JoinBase, r: Rendered, text: string, at: number, keep?: Omit<JoinRecords, 'at'>): Promise<boolean> {
  const from = j.current.length ? j.current : j.texts
  let committed = nearest(from, text)
  const own = r.text !== null && committed !== null && !from.includes(text)
  let exact = own ? enrolledBase(m, j.rules, committed!) : null
  let save = text
  const onto = own && !exact ? await ontoSpace(m, j, committed!, text) : null
  if (onto) ({ committed, save, exact } = onto)
  const seen = own && !exact ? seenWhen(m, j.rules, r, committed!, text) : null
  const merged = exact || seen ? save : await joinedText(m.name, j, r.text, text, keep && { ...keep, at })
  m.setBase(r)
  if (merged !== null) {
    if (exact) m.ingestJoin(merged, { text: committed!, ...exact }, at)
    else if (seen) m.ingestJoin(merged, { text: committed!, ...seen }, at)
    else if (committed !== null) m.ingestOver(merged, committed, at)
    else m.ingest(merged)
  }
  // Until the live text is written, the file holds `text`: a save landing first was made from it, and read
  // against the live text it deleted what the live context had (test/space/join-race.test.ts).
  if (text !== r.text) m.diskHolds(text)
  return merged !== null
}

/**
 * A checkout older than the space (tester finding 5): its commit is no state of the live context, and
 * items the space never had leave the clone's save unmatched (`seenWhen` gives up, and a todo the live
 * context deleted that the clone edited came back with no record: join generator seed 600018.2). Its
 * changes (commit → file) are moved by lines onto the text the space was set up with, which the live
 * context grew from (its enrollment), and joined from there exactly. Null when no such text is the live
 * context's first state, or the lines collide (a value the history changed before the space: the text
 * merge then decides).
 */
async function ontoSpace(m: FileModel, j: JoinBase, committed: string, text: string): Promise<{ committed: string; save: string; exact: { ids: string[]; sv: Map<number, number> } } | null> {
  for (const first of j.space ?? []) {
    const exact = enrolledBase(m, j.rules, first)
    if (!exact) continue
    const save = await mergeFileTexts(committed, first, text).catch(() => null)
    return save !== null && parses(save) ? { committed: first, save, exact } : null
  }
  return null
}

/** A session waits a while (5 s) for a joining file's write-back before it goes on (space.ts `applyRemote`). */
export const joinWrittenBack = (back: Promise<void>): Promise<void> => atMost(back, 5_000)

/**
 * A first exchange with a peer completed: the space is joined. Files still awaiting with no state had
 * none on that peer: new to the space, enrolled by the scan. Returns true when this ended a join.
 *
 * Not when the exchange brought no state at all: that peer is joining too (new clones meeting before
 * either reached the live context). Ended there, the member enrolled its files as new — a second
 * authorship of every value beside the live one — and when the live state came one of the two won
 * whole, undoing the member's edits (the network-faults ring; test/space/join-fellow.test.ts). The join
 * then ends at a later exchange with a peer that has the state.
 */
export async function finishJoin(space: JoiningSpace): Promise<boolean> {
  if (![...space.docs()].some((d) => !d.model.isEmpty)) return false
  // The marker goes once what arrived is stored and the waiting files are joined: killed before, the next
  // start enrolled the old checkout as new content, a race on every value changed since (`join-killed.test.ts`:
  // 'peer-synced' can come before a join's write-back on a loaded machine). Busy: the next exchange ends it.
  if ((await space.idle()).length) return false
  if (!(await stopJoining(space.root))) return false
  await space.scan()
  await space.idle()
  return true
}
