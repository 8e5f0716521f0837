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
import { parse } from 'yaml'
import type { MergeEntry } from '../crdt/merge/place.js'
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
