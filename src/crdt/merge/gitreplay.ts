/**
 * Taking in text that arrived through git so that every peer doing it makes the *same* changes (the
 * design is explained in `space/gitingest.ts`): ingest into a scratch copy whose Yjs client id is derived from
 * (file, base, new text) — node ids of new items without identity derive from it — then replay the
 * scratch copy's register writes onto the live document under the live document's own client id,
 * together with the git mark of the new text, in one transaction.
 *
 * Pure (models in, models out): the unit tests drive it directly.
 */
import { FileModel, type Author } from '../model.js'
import type { Rules } from '../rules.js'
import type { Credit } from '../schema.js'
import { derivedClientId } from './clientid.js'

/** The scratch copy's Yjs client id: the same on every peer for the same file, base and new text. */
export function gitClientId(name: string, base: string, text: string): number {
  return derivedClientId('ctxsync-git', name, base, text)
}

export interface GitIngest {
  name: string
  rules: Rules
  author: Author
  /** The text to reach: the live text with the commit's changes merged in. */
  merged: string
  /** The base and the commit's text, which name the change (and so the derived client id). */
  base: string
  text: string
  /** The commit's time (unix seconds): values are stamped alike on every peer. */
  time: number
  /** Key of the git mark (a hash of `text`) and who sets it. */
  mark: string
  by: string
  /** Who wrote the commit's changes (schema.ts `Credit`), carried with the mark to every peer. */
  credit?: Credit
}

/** Applies `g` to `live`. Throws YamlSyntaxError / RefusedFileError when `merged` cannot be taken in. */
export function ingestAsGit(live: FileModel, g: GitIngest): void {
  const scratch = new FileModel({ name: g.name, author: g.author, rules: g.rules, clientId: gitClientId(g.name, g.base, g.text), now: () => g.time })
  try {
    scratch.load([live.encodeDiff()])
    scratch.setBase(scratch.render())
    const changed = new Set<string>()
    scratch.tree.map.observe((ev) => ev.keysChanged.forEach((k) => changed.add(k)))
    scratch.ingest(g.merged)
    const src = scratch.tree.map
    const dst = live.tree.map
    // Never the derived client id on the live document: two peers writing under one client id from
    // different histories would give Yjs two different operations with the same id.
    live.local(() => {
      let wrote = false
      for (const k of changed) {
        const v = src.get(k)
        if (v === undefined ? !dst.has(k) : sameValue(dst.get(k), v)) continue
        if (v === undefined) dst.delete(k)
        else dst.set(k, structuredClone(v))
        wrote = true
      }
      // A credit only where the commit changed something here: a merge whose sides' commits were taken in
      // first (space/gitsteps.ts) credits its author only with what it made itself (issue 16).
      live.markFromGit(g.mark, g.by, g.time, wrote ? g.credit : undefined)
    })
  } finally {
    scratch.destroy()
  }
}

function sameValue(a: unknown, b: unknown): boolean {
  if (a === b) return true
  if (a instanceof Uint8Array && b instanceof Uint8Array) return a.length === b.length && a.every((x, i) => x === b[i])
  if (Array.isArray(a) && Array.isArray(b)) return a.length === b.length && a.every((x, i) => sameValue(x, b[i]))
  return false
}
