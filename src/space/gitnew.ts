/**
 * Content git brought that the live context never held (a teammate's commits pulled, a commit checked out):
 * taken in as git content, each commit the pull brought as its own author's (`gitsteps.ts`), then what HEAD's
 * version adds over them, merged into the live context (`gitingest.ts` decides when a file's version is new).
 */
import { ingestAsGit } from '../crdt/merge/gitreplay.js'
import { logger } from '../debuglog.js'
import { sha256hex } from '../ids.js'
import type { GitContext } from './context.js'
import { GitView, mergeClean, mergeTexts, nearest } from './gitbase.js'
import { supersededSplit } from './gitsupersede.js'
import type { TrackedFile } from './trackedfile.js'

const log = logger('space:git')

export async function ingestNew(cx: GitContext, f: TrackedFile, view: GitView, text: string, live: string | null): Promise<void> {
  const known = await view.frontier(f, f.name)
  const frontier = known.flatMap((x) => (x.text === null ? [] : [x.text]))
  // A known commit's version is the base; the file's last text only when none is known. That text holds what
  // was uncommitted, which the commit never had: as the base, HEAD's version read as taking it back (`git pull
  // --rebase --autostash` over an uncommitted value: the value lost, git schedule generator seed 2018).
  const before = f.model.baseText ?? live
  const base = nearest(frontier.length ? frontier : before !== null ? [before] : [], text) ?? live ?? ''
  const rules = cx.rulesFor(f.name)
  // Each commit the pull brought first, as its author's (gitsteps.ts); HEAD's version then brings what is
  // left (a merge's resolution, or nothing), as HEAD's commit's author's.
  // What of the steps (HEAD's own change too) the live context had superseded moves HEAD's merge base past it.
  let past = base
  if (live !== null) {
    // HEAD's change as of when it was made: a rebase re-commits this clone's own commit now, and by that time
    // a value set live since it was committed read as older than it (pull --rebase --autostash, seed 2018).
    const head = view.head?.parents.length === 1 ? { base: await view.textAt(view.head.parents[0]!, f.name), text, time: view.head.authorTime, credit: null } : null
    for (const s of [...(await view.steps(f.name, known.map((x) => x.commit))).map((x) => ({ ...x, time: x.credit[3] })), ...(head ? [head] : [])]) {
      const now = f.model.render().text ?? ''
      let merged = await mergeClean(s.base ?? '', now, s.text)
      const split = merged === null && s.base !== null ? await supersededSplit(f.model, s.base, s.text, now, s.time) : null
      if (split) {
        past = (await mergeClean(s.base!, past, split.old)) ?? past
        merged = await mergeClean(s.base!, now, split.clean)
      }
      if (s.credit === null || merged === null) continue // HEAD's own change: the merge below
      // Taken in (or already held): known now, so HEAD's merge is based past it. Based before it, a field the
      // step and HEAD's commit both changed (a teammate's two commits of one value) read as changed on both
      // sides, and the step's older value stayed over HEAD's (git schedule generator, seed 2012).
      past = (await mergeClean(s.base ?? '', past, s.text)) ?? past
      if (merged === now) continue
      ingestAsGit(f.model, {
        name: f.name, rules, author: cx.author, merged, base: s.base ?? '', text: s.text,
        time: s.credit[3], mark: sha256hex(s.text), by: cx.peerId, credit: s.credit,
      })
    }
    live = f.model.render().text ?? live
  }
  const merged = live === null ? text : await mergeTexts(rules, f.name, past, live, text)
  const time = view.head?.time ?? Math.floor(Date.now() / 1000)
  // History and blame credit the commit's writer on every peer, not this peer that pulled it (credits.ts).
  const credit = (await view.lastWriter(f.name)) ?? undefined
  log('%s: new content from git (base %s…, %d frontier)', f.name, sha256hex(base).slice(0, 8), frontier.length)
  ingestAsGit(f.model, {
    name: f.name, rules, author: cx.author,
    merged, base, text, time, mark: sha256hex(text), by: cx.peerId, credit,
  })
}
