/**
 * Was a merge driver's conflict a real one? The driver sees two sides of git's history, not who had seen
 * what: a value one person wrote live over another's (bob took over mate's todo after mate's value had
 * reached him), then committed and pulled with `--rebase`, meets the other as "both changed it", and git
 * operations that only replay the live context (a pull from an old commit, `git switch -m` back and forth)
 * do the same (black-box tester, stop 25). The live context knows better: every value it held is in this
 * clone's history (`versions/`). When it had held every value of the conflict at that place before the
 * merge, the later one was written after the other was seen (or, written concurrently, the live CRDT
 * recorded that race itself): the merge adds no conflict. A value that never reached the live context (a
 * teammate's offline commit, an edit made while no daemon ran) keeps the record.
 */
import path from 'node:path'
import { parse, stringify } from 'yaml'
import type { MergeEntry } from '../crdt/merge/place.js'
import type { Conflict } from '../crdt/present.js'
import type { Repo } from '../git/repo.js'
import { keyPath } from './versions/crdtauthors.js'
import { flatten } from './versions/fields.js'
import { readVersionsOf } from './versions/store.js'

/** A value as `flatten` names it (JSON of the parsed scalar); null for what it cannot compare (blocks, collections). */
function flatValue(desc: string): string | null {
  if (!desc.startsWith('=')) return null
  try {
    const v: unknown = parse(desc.slice(1))
    if (v !== null && typeof v === 'object' && !(v instanceof Date)) return null
    return v instanceof Date ? v.toISOString() : JSON.stringify(v ?? null)
  } catch {
    return null
  }
}

/**
 * The values each place (JSON of its key path) showed in `doc`'s history before `before` (ms), or null
 * when no history is kept (then every record stands).
 */
export async function heldBefore(state: string, doc: string, before: number): Promise<Map<string, Set<string>> | null> {
  const versions = await readVersionsOf(path.join(state, 'versions'), doc).catch(() => [])
  const out = new Map<string, Set<string>>()
  for (const v of versions) {
    if (v.t > before || v.text === null) continue
    for (const [p, value] of flatten(v.text).leaves) {
      const k = keyPath(p)
      if (!k) continue
      const key = JSON.stringify(k)
      let s = out.get(key)
      if (!s) out.set(key, (s = new Set()))
      s.add(value)
    }
  }
  return out.size ? out : null
}

/** Every value of `e` was held at its place by the live context before the merge: no race, only a later edit. */
export function seenInOrder(held: Map<string, Set<string>> | null, e: MergeEntry): boolean {
  const at = held?.get(JSON.stringify(e.path))
  if (!at) return false
  return e.values.every((v) => {
    const f = flatValue(v.desc)
    return f !== null && at.has(f)
  })
}

/**
 * Was the merge made at `at` (ms) by `git checkout -m` / `git switch -m`? Such a merge carries the
 * uncommitted live context over to another commit: its sides are an older (or newer) commit and the live
 * context itself, no two people's writes, and it credited them to 'ours'/'theirs' (black-box tester, stop
 * 25, finding 4: `switch -m` to an old commit and back listed three values of one note, none edited). The
 * command is the reflog entry git wrote when it was done: the first one not older than the merge.
 */
export async function madeByCheckout(repo: Pick<Repo, 'tryRaw'> | null, at: number): Promise<boolean> {
  if (!repo || !Number.isFinite(at)) return false
  const out = await repo.tryRaw(['reflog', '-n', '20', '--date=unix', '--format=%gd%x00%gs', 'HEAD'])
  let made: string | null = null
  for (const line of (out ?? '').split('\n')) {
    const [sel, subject] = line.split('\0')
    const t = Number(/@\{(\d+)\}/.exec(sel ?? '')?.[1])
    if (!Number.isFinite(t) || subject === undefined) continue
    // Reflog times are whole seconds: an entry of the merge's own second may be its command's, or the one
    // before it — a commit, say (`git commit; git switch -m …`), which never runs the merge driver.
    if (t * 1000 + 999 < at) break
    if (!/^(commit|reset)\b/.test(subject)) made = subject
  }
  return made?.startsWith('checkout:') ?? false
}

/**
 * Is git running this merge driver for `git checkout -m` / `git switch -m`, now? Git tells a driver nothing
 * of its command (no GITHEAD_*, no GIT_REFLOG_ACTION, as for a stash apply), and the reflog `madeByCheckout`
 * reads is written only after. But every other command that merges a file — merge, pull, a rebase's pick,
 * cherry-pick, revert, am, stash and autostash apply — merges into HEAD: "ours" is HEAD's version. A checkout
 * -m merges the uncommitted changes into the commit it switches to from HEAD's version, and moves HEAD only
 * once the files are written: the base is HEAD's version and "ours" another (checked with git 2.39).
 */
export async function checkoutMerging(repo: Pick<Repo, 'resolveMany' | 'blobId'>, gitPath: string, base: string, ours: string): Promise<boolean> {
  const spec = `HEAD:${gitPath}`
  const head = (await repo.resolveMany([spec])).get(spec) ?? null
  return head !== null && head === repo.blobId(base) && head !== repo.blobId(ours)
}

/** The leaves under the item at `at` in `text` (path below it → value), or null when the item is absent. */
function itemLeaves(text: string | null, at: ReadonlyArray<string | number>): Map<string, string> | null {
  if (text === null) return null
  const flat = flatten(text)
  const want = JSON.stringify(at)
  const under = (p: string): Array<string | number> | null => {
    const k = keyPath(p)
    return k && k.length >= at.length && JSON.stringify(k.slice(0, at.length)) === want ? k.slice(at.length) : null
  }
  if (![...flat.nodes].some((n) => under(n)?.length === 0)) return null
  const out = new Map<string, string>()
  for (const [p, v] of flat.leaves) {
    const rest = under(p)
    if (rest) out.set(JSON.stringify(rest), v)
  }
  return out
}

/** The item's leaves as `flatten` names them, from its parsed value (a delete conflict's edited side). */
function valueLeaves(value: unknown): Map<string, string> {
  const out = new Map<string, string>()
  for (const [p, v] of flatten(stringify({ x: value })).leaves) {
    const k = keyPath(p)
    if (k && k[0] === 'x') out.set(JSON.stringify(k.slice(1)), v)
  }
  return out
}

const sameLeaves = (a: Map<string, string>, b: Map<string, string>): boolean => a.size === b.size && [...a].every(([k, v]) => b.get(k) === v)

/**
 * The delete-versus-edit records of a merge that the live context had already ordered, as `seenInOrder`
 * does for values: before the merge (`before`, ms) this clone's history held the item as the edit left it
 * and, at some point, the item gone after it had been there — the deletion was made after the edit was seen,
 * or the item added again with it after the deletion. Kept otherwise (an edit or a deletion that never
 * reached the live context: a teammate's offline commit). A record that was listed on the merging clone only,
 * and for good, when one side's *version* was never held, though both its values were.
 */
export async function deletesInOrder(state: string, doc: string, before: number, deletes: readonly Conflict[]): Promise<Set<string>> {
  const out = new Set<string>()
  if (deletes.length === 0) return out
  const versions = (await readVersionsOf(path.join(state, 'versions'), doc).catch(() => [])).filter((v) => v.t <= before).sort((a, b) => a.t - b.t)
  for (const c of deletes) {
    const edit = c.values.find((v) => !v.deleted)
    if (!edit || edit.value === undefined) continue
    const want = valueLeaves(edit.value)
    let present = false
    let editSeen = false
    let goneAfter = false
    for (const v of versions) {
      const it = itemLeaves(v.text, c.path)
      if (it) {
        present = true
        if (sameLeaves(it, want)) editSeen = true
      } else if (present) goneAfter = true
    }
    if (editSeen && goneAfter) out.add(c.id)
  }
  return out
}
