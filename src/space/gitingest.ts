/**
 * After git rewrote files (checkout, merge, pull, rebase, reset, stash): git operations are not edits.
 *
 * For each tracked file whose content changed, decide what git's version is:
 *  - a local edit after all (it is neither HEAD's nor the index's version): taken in as usual;
 *  - content the CRDT already holds (an older branch, a commit made while ctxsync ran): no operations —
 *    the file is rewritten to the live context (`branches: shared`: switching branches never rolls back
 *    the team's context; git then shows the file modified where the branch is behind);
 *  - new content (committed where ctxsync did not run): taken in *once*.
 *
 * "Once" across machines is the hard part. Two peers that pull the same commit and each take in the new
 * text as a local edit would create different operations — and list items without identity, or
 * block-scalar lines, would then appear twice. So new git content is taken in deterministically:
 *
 *  1. Both peers diff against the same base (the nearest known version, see `gitbase.ts`) and merge the
 *     commit's changes into their live text (`git merge-file`, which takes a change both sides made once;
 *     the CRDT merge when lines collide), so a change the live context already has is not made again.
 *  2. The merged text is ingested into a scratch copy of the document whose Yjs client id is derived from
 *     (file, base, new text): node ids of new items without identity come from that id and a counter, so
 *     every peer derives the *same* ids and the same values (stamped with the commit's time).
 *  3. The scratch copy's register writes are replayed onto the live document under this peer's own client
 *     id (never the derived one: two peers sharing a client id with different histories would corrupt
 *     Yjs), together with a git mark for the text, in one transaction.
 *
 * Peers that take it in concurrently write identical registers (one node, one value: nothing doubles); a
 * peer that receives another's ingestion first finds the mark and takes in nothing.
 */
import path from 'node:path'
import { RefusedFileError, YamlSyntaxError } from '../crdt/model.js'
import { compileRules } from '../crdt/rules.js'
import { parses } from '../crdt/parse.js'
import { readTextFile } from '../fs/atomic.js'
import { mergeFileTexts } from '../git/merge-file.js'
import { listTracked, forEachLimited } from '../fs/globs.js'
import { asDocName, sha256hex, type DocName } from '../ids.js'
import { logger } from '../log.js'
import type { DocEntry } from './entry.js'
import { enrollOrIngest, reconcile, writeBack, type ReconcileResult } from './files.js'
import { GitView, nearest } from './gitbase.js'
import { merge3 } from '../crdt/merge/merge3.js'
import { noteSeen } from './seen.js'
import { ingestAsGit } from '../crdt/merge/gitreplay.js'
import type { Space } from './space.js'

const log = logger('space:git')

export interface GitReport {
  /** Files whose git content was already known: rewritten to the live context. */
  kept: string[]
  /** Files whose new git content was taken in. */
  ingested: string[]
  /** Files that changed by a local edit during the git operation. */
  edited: string[]
}

/** Reconciles every tracked file after a git operation. Without a repository: a plain scan. */
export async function reconcileAfterGit(space: Space): Promise<GitReport> {
  const report: GitReport = { kept: [], ingested: [], edited: [] }
  const listing = await listTracked(space.root, space.config.track)
  const names = new Set<DocName>([...listing.files.map(asDocName), ...space.entries.keys()])
  const view = lazyView(space)
  await forEachLimited([...names], 4, async (name) => {
    const what = await space.serial(name, () => takeIn(space, space.entry(name), view))
    if (what === 'kept') report.kept.push(name)
    else if (what === 'from-git') report.ingested.push(name)
    else if (what === 'ingested' || what === 'deleted') report.edited.push(name)
  })
  space.emit('summary')
  return report
}

export type ViewGetter = () => Promise<GitView | null>

/** The repository's view, loaded on first need: when no file changed, a reconcile runs no git at all. */
export function lazyView(space: Space): ViewGetter {
  let p: Promise<GitView | null> | null = null
  return () => (p ??= space.gitRepo().then((repo) => (repo ? GitView.load(repo, space.root, space.match) : null)))
}

/**
 * The decision for one file; `reconcile` (files.ts) for everything that is not git's doing. Also used by
 * every scan, so that content git brought while no daemon ran is taken in the same way.
 */
export type TakeInResult = ReconcileResult | 'kept' | 'from-git'

export async function takeIn(space: Space, e: DocEntry, getView: ViewGetter): Promise<TakeInResult> {
  const plain = () => reconcile(space, e)
  const read = await readTextFile(path.join(space.root, e.name), { within: space.root })
  if (read.kind === 'unreadable' || e.model.isEmpty || e.state !== 'ok') return plain()
  const text = read.kind === 'text' ? read.text : null
  const hash = read.kind === 'text' ? read.hash : null
  if (hash === e.diskHash) return null
  const live = e.model.render()
  if (text !== null && live.text === text) return plain() // nothing to decide: reconcile notes it
  if (text === null && !e.model.exists()) return plain()
  const view = await getView()
  // Git started again while we looked (a commit, then at once a checkout): what we read may be half of
  // its work, and writing the live context now would land under its feet. The next idle decides.
  if (space.gitBusy) return null
  if (!view || !view.fromGit(e.name, text)) return plain()
  try {
    const known = text === null ? await deletionKnown(e, view) : await view.knownHead(e, e.name, text)
    if (space.gitBusy) return null
    if (known) {
      e.diskHash = hash
      await writeBack(space, e)
      settle(e, e.diskHash ?? null)
      return 'kept'
    }
    if (text === null) {
      e.diskHash = null
      e.model.deleteFile()
      settle(e, null)
      return 'from-git'
    }
    await ingestNew(space, e, view, text, live.text)
    e.diskHash = hash
    noteSeen(e, hash)
    await writeBack(space, e)
    settle(e, e.diskHash ?? null)
    return 'from-git'
  } catch (err) {
    if (!(err instanceof YamlSyntaxError) && !(err instanceof RefusedFileError)) throw err
    // Git's version does not parse: the usual path holds the file with the parser's reason.
    if (text !== null && hash !== null) await enrollOrIngest(space, e, text, hash)
    return null
  }
}

function settle(e: DocEntry, hash: string | null): void {
  e.meta.baseHash = hash ?? undefined
  delete e.meta.writing
  noteSeen(e, hash)
  e.saveMeta()
}

/** Git removed the file: known when no known version on the way back had it. */
async function deletionKnown(e: DocEntry, view: GitView): Promise<boolean> {
  const f = await view.frontier(e, e.name)
  return f.length === 0 || f.every((x) => x.text === null)
}

async function ingestNew(space: Space, e: DocEntry, view: GitView, text: string, live: string | null): Promise<void> {
  const frontier = (await view.frontier(e, e.name)).flatMap((f) => (f.text === null ? [] : [f.text]))
  const before = e.model.baseText ?? live
  const base = nearest([...frontier, ...(before !== null ? [before] : [])], text) ?? live ?? ''
  const merged = live === null ? text : await mergeTexts(space, e.name, base, live, text)
  const time = view.head?.time ?? Math.floor(Date.now() / 1000)
  log('%s: new content from git (base %s…, %d frontier)', e.name, sha256hex(base).slice(0, 8), frontier.length)
  ingestAsGit(e.model, {
    name: e.name, rules: compileRules(e.name, space.config.rules), author: space.author,
    merged, base, text, time, mark: sha256hex(text), by: space.identity.id,
  })
}

/**
 * The live text with the commit's changes (base → text) merged in. `git merge-file` first: it takes a
 * change made on both sides once, which is exactly "content the CRDT already holds makes no new
 * operations". When lines collide, the CRDT merge decides (it never leaves markers).
 */
export async function mergeTexts(space: Space, name: string, base: string, live: string, text: string): Promise<string> {
  if (base === text || live === text) return live
  if (base === live) return text
  const byGit = await gitMergeFile(base, live, text).catch(() => null)
  if (byGit !== null && parses(byGit)) return byGit
  const r = merge3(base, live, text, { name, rules: compileRules(name, space.config.rules) })
  r.model.destroy()
  return r.text ?? text
}

async function gitMergeFile(base: string, ours: string, theirs: string): Promise<string | null> {
  return mergeFileTexts(base, ours, theirs)
}
