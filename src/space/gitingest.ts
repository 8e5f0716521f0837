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
import { gitBusyMarkers } from '../git/activity.js'
import { readTextFile } from '../fs/atomic.js'
import { listTracked, forEachLimited } from '../fs/globs.js'
import { asDocName, sha256hex, type DocName } from '../ids.js'
import { logger } from '../debuglog.js'
import type { DocTurn, GitContext, Notify } from './context.js'
import { reconcile, takeInRevert, takeInSave, unlessDamaged, writeBack, type ReconcileResult } from './reconcile.js'
import { GitView, mergeClean, mergeTexts } from './gitbase.js'
import { ingestNew } from './gitnew.js'
import type { GitIntent } from './gitintent.js'
import { writtenSinceHeadMoved } from './awayrevert.js'
import { adoptMerges } from './mergeadopt.js'
import { stashedText } from './mergestash.js'
import { spacePaths } from './paths.js'

export { mergeTexts }
import type { TrackedFile } from './trackedfile.js'
import { awaitJoin, awaitingJoin, isJoining, joined, mayAwait } from './join.js'
import { olderThanSpace, spaceTexts } from './joinconfig.js'

const log = logger('space:git')

export interface GitReport {
  /** Files whose git content was already known: rewritten to the live context. */
  kept: string[]
  /** Files whose new git content was taken in. */
  ingested: string[]
  /** Files that changed by a local edit during the git operation. */
  edited: string[]
  /** Files the live context had deleted that the operation brought back (`brought`): taken in as git left them. */
  revived: string[]
  /** Files a revert (`gitintent.ts`) rewrote to git's version: taken in as the user's edit. */
  reverted: string[]
  /** Files deleted on this machine (rm, `git rm`): a deletion like any other, said by the space's `deleted-here`. */
  deleted: string[]
  /** Files whose take-in changed the document (what the space's `took-in` says outside git). */
  tookIn: string[]
}

/**
 * Reconciles every tracked file after a git operation. Without a repository: a plain scan. `intent`: what
 * the command meant (`gitintent.ts`); a revert's content is the user's edit, never kept out.
 */
export async function reconcileAfterGit(cx: GitContext, intent: GitIntent = { kind: 'move' }): Promise<GitReport> {
  const report: GitReport = { kept: [], ingested: [], edited: [], revived: [], reverted: [], deleted: [], tookIn: [] }
  const listing = await listTracked(cx.root, cx.track)
  // A file git rewrote is said once, by the report (gitreport.ts): the plain take-in's "your edit taken in"
  // came first, for a pull's merge and for a revert alike (black-box tester). The report says other edits.
  const tookIn = new Set<DocName>()
  const notify: Notify = (event, ...args) => (event === 'took-in' ? void tookIn.add(args[0] as DocName) : cx.notify(event, ...args))
  await takeInAll({ ...cx, notify }, listing.files, { concurrency: 4, guarded: false, intent }, (name, what) => {
    if (what === 'kept') report.kept.push(name)
    else if (what === 'from-git') report.ingested.push(name)
    else if (what === 'revived') report.revived.push(name)
    else if (what === 'reverted') report.reverted.push(name)
    else if (what === 'deleted') report.deleted.push(name)
    else if (what === 'ingested') report.edited.push(name)
  })
  report.tookIn = [...tookIn]
  cx.notify('summary')
  return report
}

/**
 * Takes in every file listed and every document known, `concurrency` at a time, each as a turn of its
 * worker; `sort` files each result. `guarded`: a document found damaged is held (markDamaged) instead of
 * failing the whole run. Returns the names it went through.
 */
export async function takeInAll(cx: GitContext, listed: string[], o: { concurrency: number; guarded: boolean; intent?: GitIntent }, sort: (name: DocName, what: TakeInResult | null) => void): Promise<DocName[]> {
  const names = [...new Set<DocName>([...listed.map(asDocName), ...cx.docNames()])]
  const view = lazyView(cx)
  const take = (d: DocTurn) => takeIn(cx, d, view, o.intent)
  await forEachLimited(names, o.concurrency, async (name) => {
    const what = await cx.turn(name, (d) => (o.guarded ? unlessDamaged(cx, d.file, null, () => take(d)) : take(d)))
    sort(name, what)
  })
  // What the merge driver recorded here becomes the live context's (mergeadopt.ts), once it is taken in.
  await adoptMerges(cx)
  return names
}

export type ViewGetter = () => Promise<GitView | null>

/** The repository's view, loaded on first need: when no file changed, a reconcile runs no git at all. */
export function lazyView(cx: GitContext): ViewGetter {
  let p: Promise<GitView | null> | null = null
  return () => (p ??= cx.gitRepo().then((repo) => (repo ? GitView.load(repo, cx.root, cx.match) : null)))
}

/**
 * The decision for one file; `reconcile` (reconcile.ts) for everything that is not git's doing. Also used
 * by every scan, so that content git brought while no daemon ran is taken in the same way.
 */
export type TakeInResult = ReconcileResult | 'kept' | 'from-git' | 'revived' | 'reverted'

export async function takeIn(cx: GitContext, d: DocTurn, getView: ViewGetter, intent?: GitIntent): Promise<TakeInResult> {
  const f = d.file
  const plain = () => reconcile(cx, d)
  const read = await readTextFile(path.join(cx.root, f.name), { within: cx.root })
  // Joining from a checkout: git's versions are old renderings of the live context, not edits (join.ts).
  if (read.kind === 'text') await joinGate(cx, f, getView)
  // As a commit from before ctxsync.yaml holds it, a file the space never had is not new to it (finding 5);
  // seen on disk, so that the watcher's report of git's write is no save either (reconcile.ts takeText).
  if (read.kind === 'text' && f.model.isEmpty && !awaitingJoin(f) && (await pastSpace(getView, cx.root, f.name, read.text))) {
    f.sawOnDisk(read.hash)
    return null
  }
  if (read.kind === 'unreadable' || f.model.isEmpty || f.state !== 'ok' || awaitingJoin(f)) return plain()
  const text = read.kind === 'text' ? read.text : null
  const hash = read.kind === 'text' ? read.hash : null
  if (f.diskIs(hash)) return null
  const live = f.model.render()
  if (text !== null && live.text === text) return plain() // nothing to decide: reconcile notes it
  const bases = intent?.kind === 'move' ? intent.bases?.get(f.name) : undefined
  if (bases && text !== null && hash !== null) {
    // A stash popped over edits taken in while it held the file: made from those texts (stashhold.ts).
    f.model.recall(bases.map((t) => ({ text: t, ids: null })), live)
    return (await takeInSave(cx, d, text, hash)) ? 'ingested' : null
  }
  if (text === null && !f.model.exists()) return plain()
  // Gone while HEAD stayed put (rm, `git rm`, seen after a `git status` paused the daemon): the person's
  // deletion, not git's revert (it was said as one: black-box tester).
  if (text === null && intent?.kind === 'revert') return plain()
  const view = await getView()
  // Git started again while we looked (a commit, then at once a checkout): what we read may be half of
  // its work, and writing the live context now would land under its feet. The next idle decides.
  if (cx.gitPaused()) return null
  if (!view) return plain()
  // What git's version of the file is: the disk's text, or, after `git checkout -m` / `git switch -m`, the
  // commit's (git merged the uncommitted changes, the live context already taken in, into it: a text that is
  // neither git's nor an edit). One rule for every checkout: the commit's version decides. Known, the live
  // context is written back; new, it is taken in as git content, merged into the live context (what -m
  // does), once on every peer. Taken in as the user's edit instead, an older commit's values rolled the
  // team back and a newer one's went out as this user's (black-box tester, issue 15).
  let theirs = text
  // A pull (merge, fast-forward, rebase) over uncommitted changes: git's autostash put them aside and merged them
  // back into what came. Taken in whole as an edit, the teammate's values were credited to this clone
  // (issue 16): the commit's version is taken in as git content, then what the disk holds over it as the edit.
  let overGit = false
  // After a checkout, what git left when the disk holds more: the rest is the person's edit (gitbase.ts checkedOut).
  let checkoutLeft: string | null = null
  if (!view.fromGit(f.name, text)) {
    // Read while git works again (a reconcile after a commit, overtaken by `git checkout -m`, which writes
    // the old commit's files first): not an edit, the next idle decides.
    if (cx.gitPaused() || (await gitAtWork(cx))) return null
    if (text === null || intent?.kind !== 'move') return plain()
    // A checkout that left this file alone (`git switch -c x`, or between commits that agree on it): the
    // change is the person's, made right after it (an agent's `git switch -c x && edit`); read as git's
    // merge, the live context was written over it and the edit was lost (black-box tester, stop 31).
    if (intent.checkout && (await view.untouched(f.name, intent.from))) return plain()
    overGit = !intent.checkout && (await view.movedOn(f.name, intent.from))
    if (!intent.checkout && !overGit) return plain()
    theirs = await view.headText(f.name)
    if (theirs === null) return plain()
    if (intent.checkout) checkoutLeft = await view.checkedOut(f.name, intent.from, f.model.baseText ?? live.text, theirs, text)
  }
  // HEAD stayed where it was and git wrote its own version: the user threw their changes away (`git
  // restore`, `git checkout -- FILE`). That is an edit, and the peers get it like any other.
  // Only HEAD's version or what the index held before counts (gitintent.ts: a command seen half done).
  // Taken in as written on purpose (takeInRevert): diffed against the file's last text, however many saves ago
  // the file last held git's version.
  if (intent?.kind === 'revert' && text !== null && hash !== null && view.revertedTo(f.name, text, intent.staged)) return (await takeInRevert(cx, d, text, hash)) ? 'reverted' : null
  // No git command seen (a start, a scan): git's version written after HEAD last moved is a revert made while
  // no daemon ran (awayrevert.ts); kept out as known content, the live context undid it. Not when the file is
  // what this daemon last wrote or took in (the base hash, or the write under way, both kept in meta): its own write of a text that happened to be git's (peers' edits
  // back to it), then killed or stopped before the peers' next changes reached the file, read as a revert —
  // and every change since was undone on every peer (CI, e2e crash, seed 964718: an item ticker A added lost).
  if (!intent && read.kind === 'text' && hash !== null && hash !== f.baseHash && hash !== f.writing?.hash && view.fromGit(f.name, read.text) && (await writtenSinceHeadMoved(view.repo, read.mtimeMs))) return (await takeInRevert(cx, d, read.text, hash)) ? 'reverted' : null
  try {
    // A commit from before ctxsync.yaml was committed holds older renderings only (tester finding 5).
    const known = (theirs === null ? await deletionKnown(f, view) : await view.knownHead(f, f.name, theirs)) || (await olderThanSpace(view.repo, cx.root))
    if (cx.gitPaused()) return null
    // Removed here, then a pull changed it (`rm f && git pull`: git's autostash cannot merge a deletion with
    // a change, leaves git's version and keeps the deletion in the stash). Whatever git left on disk once
    // the user is done with that stash is what git and this clone agree on: writing the deletion again
    // removed a file git shows as present (black-box tester). An older version on disk after a checkout
    // back in time is still kept out: the move was not forward.
    if (known && theirs !== null && !f.model.exists() && intent?.kind === 'move' && (await view.brought(f.name, intent.from))) {
      return (await plain()) === null ? null : 'revived'
    }
    // What the autostash held, when the driver noted it (mergestash.ts): the edit over git is that text's, not
    // the merge's — diffed from HEAD's version, the merge re-made every uncommitted value as a fresh save, and
    // one the live context changed during the pull (a `resolve`, a peer's edit held meanwhile) was undone.
    const stashed = overGit ? await stashEdit(cx, d, view, hash!) : false
    // A commit of this clone's own (known) with a save after it: the save is the edit, as before.
    if (known && overGit && !stashed) return plain()
    if (known) {
      if (checkoutLeft !== null) await editOverGit(cx, d, checkoutLeft, text!, hash!, view)
      return await keepLive(cx, d, hash)
    }
    if (theirs === null) {
      f.sawAbsent()
      f.model.deleteFile()
      f.recordSettledBase(null)
      return 'from-git'
    }
    await ingestNew(cx, f, view, theirs, live.text)
    if (overGit && !stashed) await editOverGit(cx, d, (await autostashed(view, f.name, intent, f.model.baseText ?? live.text, theirs)) ?? theirs, text!, hash!)
    else if (checkoutLeft !== null) await editOverGit(cx, d, checkoutLeft, text!, hash!, view)
    f.sawOnDisk(hash!)
    f.noteSeen(hash)
    await writeBack(cx, d)
    f.recordSettledBase(f.diskHash)
    return 'from-git'
  } catch (err) {
    if (!(err instanceof YamlSyntaxError) && !(err instanceof RefusedFileError)) throw err
    // Git's version does not parse: the usual path holds the file with the parser's reason.
    if (text !== null && hash !== null) await takeInSave(cx, d, text, hash)
    return null
  }
}

/**
 * Git holds its lock (or is mid-merge, mid-rebase…) right now. `git checkout -m` writes the commit's files
 * before merging the local changes into them: a watcher event for that first write can arrive before the
 * lock's own event pauses the daemon, and taking the file in then synced the old commit's values to every
 * peer (black-box tester). The git watch reconciles it once git is done.
 */
export async function gitAtWork(cx: GitContext): Promise<boolean> {
  const repo = await cx.gitRepo()
  return repo !== null && gitBusyMarkers(repo.gitDir).length > 0
}

/**
 * A person saved a file while `git stash` holds its live context (gitwatch.ts): the save was made from
 * `head` (git's version, which the stash left on disk), so it is diffed against that text and the stashed
 * changes stay in the live context; it is synced, but the file is left as the person wrote it (written,
 * the merge would bring the stash's changes back and `git stash pop` refuse over them). `first`: the first
 * save since the stash (later ones are diffed against the one before). Returns the text taken in.
 */
export async function takeInUnderStash(cx: GitContext, name: DocName, head: string, first: boolean): Promise<string | null> {
  return cx.turn(name, async (d) => {
    const read = await readTextFile(path.join(cx.root, name), { within: cx.root })
    if (read.kind !== 'text') return null
    if (d.file.diskIs(read.hash)) return read.text
    if (first) d.file.model.diskHolds(head)
    await takeInSave(cx, d, read.text, read.hash, false)
    return read.text
  })
}

/**
 * While this machine is joining, a file with no synced state whose path git has in the recent history
 * waits for the live state (join.ts); once joined, one that no peer had is enrolled as usual.
 */
async function joinGate(cx: GitContext, f: TrackedFile, getView: ViewGetter): Promise<void> {
  if (!mayAwait(f)) return
  if (!(await isJoining(cx.root))) {
    // The join is over: a file still without state had none anywhere, so it is new to the space.
    if (f.model.isEmpty) return void joined(f)
    // One whose peer state arrived keeps its entry until its write-back joins it — also in the next life:
    // killed after the first exchange stored the state and ended the join but before the file was joined,
    // a start without the entry took the checkout's text in as an edit made from nothing (the crash test:
    // an old value came back as a race, an item added since was deleted; `join-killed.test.ts`). Not a file
    // deleted here (no synced base either): git bringing it back is git's, not a join (git-ops › rm, then pull).
    if (!f.model.exists()) return
  }
  if (awaitingJoin(f)) return
  const view = await getView()
  if (!view) return
  const texts = await view.versions(f.name)
  if (texts.length === 0) return
  // The checkout's own base: the newest version others had (HEAD's, unless the member committed since).
  awaitJoin(f, { current: texts.slice(0, 1), texts, rules: cx.rulesFor(f.name), space: await spaceTexts(view.repo, cx.root, f.name) })
}

async function pastSpace(getView: ViewGetter, root: string, name: string, text: string): Promise<boolean> {
  const view = await getView()
  return view !== null && view.fromGit(name, text) && (await olderThanSpace(view.repo, root))
}

/** Git's text is known: the file is rewritten to the live context, nothing taken in. */
async function keepLive(cx: GitContext, d: DocTurn, hash: string | null): Promise<'kept'> {
  sawOnDisk(d.file, hash)
  await writeBack(cx, d)
  d.file.recordSettledBase(d.file.diskHash)
  return 'kept'
}

function sawOnDisk(f: TrackedFile, hash: string | null): void {
  if (hash === null) f.sawAbsent()
  else f.sawOnDisk(hash)
}

/**
 * What the disk holds over git's version `head` (the uncommitted changes git's autostash merged back), taken
 * in as a save made from `head`: changes the live context already has are not made again, one it lacks (a
 * save just before the pull, not taken in yet) is this clone's edit.
 */
async function editOverGit(cx: GitContext, d: DocTurn, head: string, text: string, hash: string, view?: GitView): Promise<void> {
  if (text === head) return
  // After a checkout (`view`): made on the live context the person had seen (gitbase.ts personalEdit).
  const mine = view ? await view.personalEdit(head, d.file.model.render().text, text) : null
  if (mine !== null) return void (await takeInSave(cx, d, mine, sha256hex(mine), false))
  d.file.model.diskHolds(head)
  await takeInSave(cx, d, text, hash, false)
}

/**
 * What git left after a pull over uncommitted changes: the file as it was before (`before`: the changes since
 * `from`) merged into the commit's version, as the autostash's apply did — the text a save made right after the
 * pull was made from (when the disk no longer holds it, no other note says so). Diffed against the commit's
 * version instead, that save undid the person's own uncommitted value and recorded it as a race with
 * themselves ('you changed it at once': black-box tester stop 31, finding 9). Null when it cannot be told.
 */
async function autostashed(view: GitView, name: string, intent: GitIntent | undefined, before: string | null, theirs: string): Promise<string | null> {
  const from = intent?.kind === 'move' ? intent.from : null
  const old = from ? await view.textAt(from, name) : null
  return old === null || before === null ? null : mergeClean(old, before, theirs)
}

/**
 * The autostash's own text, when the driver noted what it held and the disk still holds its merge: nothing
 * to take in when it is the text the file held before git ran (the daemon's last, no save of the person's
 * pending); otherwise the person's save made just before the pull, taken in as a save of its own, before
 * what came. False: no note, so what the disk holds over git's version is taken in as before.
 */
async function stashEdit(cx: GitContext, d: DocTurn, view: GitView, hash: string): Promise<boolean> {
  const stashed = await stashedText(spacePaths(cx.root), view.repo, d.file.name, hash).catch(() => null)
  if (stashed === null) return false
  const h = sha256hex(Buffer.from(stashed, 'utf8'))
  log('%s: the autostash held %s', d.file.name, d.file.diskIs(h) ? 'the file\'s last text' : 'a save not taken in yet')
  if (!d.file.diskIs(h)) await takeInSave(cx, d, stashed, h, false)
  return true
}

/** Git removed the file: known when no known version on the way back had it. */
async function deletionKnown(f: TrackedFile, view: GitView): Promise<boolean> {
  const fr = await view.frontier(f, f.name)
  return fr.length === 0 || fr.every((x) => x.text === null)
}
