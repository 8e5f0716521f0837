/**
 * Who wrote each side of a merge the driver is asked to make, and when: the conflict records it keeps must
 * name the people whose values met, not the branch being merged ("origin/main"), and not the merge's time.
 *
 * Git hands the driver three temporary files and no commits, so each side is found by its content: the blob
 * of the side's text is looked for in the commits the operation is combining — HEAD; the merged heads
 * (`GITHEAD_<oid>` in the environment of `git merge`/`pull`); the commit a rebase is replaying (the last line
 * of `rebase-merge/done`); `CHERRY_PICK_HEAD`/`REVERT_HEAD` — and in the autostash or stash being applied
 * (`MERGE_AUTOSTASH`, `rebase-merge/autostash`, `refs/stash`), which is this clone's own uncommitted work.
 * The side's author is then the author of the last commit that changed the file there, with the peer id of
 * that commit's sync point when one holds the same content (`notes.ts`), and its time the commit's author
 * time (which amend and rebase keep).
 */
import fs from 'node:fs'
import path from 'node:path'
import { NOTES_REF, parseNote } from './notes.js'
import type { Repo } from './repo.js'

export interface SideSource {
  /** The last commit that changed the file on that side (the stash commit for a stash). */
  commit: string
  /** The commit's author name. */
  name: string
  /** The sync point's peer id, else `git:<author email>`. */
  id: string
  /** Seconds since the epoch: the commit's author time. */
  time: number
  /** The side is this clone's own uncommitted work, put aside by (auto)stash. */
  stash: boolean
}

interface Candidate {
  rev: string
  stash: boolean
}

const readRef = (file: string): string | null => {
  try {
    const t = fs.readFileSync(file, 'utf8').trim()
    return /^[0-9a-f]{40,64}$/.test(t) ? t : null
  } catch {
    return null
  }
}

/** The commits this merge is combining, in the order they are tried: git's markers first, then stashes. */
function candidates(gitDir: string, env: Record<string, string | undefined>): Candidate[] {
  const out: Candidate[] = [{ rev: 'HEAD', stash: false }]
  for (const k of Object.keys(env)) {
    const m = /^GITHEAD_([0-9a-f]{40,64})$/.exec(k)
    if (m) out.push({ rev: m[1]!, stash: false })
  }
  try {
    const done = fs.readFileSync(path.join(gitDir, 'rebase-merge', 'done'), 'utf8').trim().split('\n').at(-1) ?? ''
    const m = /^\S+\s+([0-9a-f]{7,64})\b/.exec(done)
    if (m) out.push({ rev: m[1]!, stash: false })
  } catch { /* not rebasing */ }
  for (const f of ['CHERRY_PICK_HEAD', 'REVERT_HEAD', 'MERGE_HEAD']) {
    const oid = readRef(path.join(gitDir, f))
    if (oid) out.push({ rev: oid, stash: false })
  }
  for (const f of ['MERGE_AUTOSTASH', path.join('rebase-merge', 'autostash'), path.join('rebase-apply', 'autostash')]) {
    const oid = readRef(path.join(gitDir, f))
    if (oid) out.push({ rev: oid, stash: true })
  }
  out.push({ rev: 'refs/stash', stash: true })
  return out
}

/**
 * The source of each text (`texts[i]`) at `gitPath`: null where no commit of the operation holds it (a
 * side git built itself, such as a virtual merge base).
 */
export async function sideSources(repo: Repo, gitPath: string, texts: readonly string[], env: Record<string, string | undefined> = process.env): Promise<Array<SideSource | null>> {
  const cands = candidates(repo.gitDir, env)
  const specs = cands.map((c) => `${c.rev}:${gitPath}`)
  const blobs = await repo.resolveMany(specs)
  const found = new Map<string, Promise<SideSource | null>>()
  return Promise.all(texts.map((text, i) => {
    const want = repo.blobId(text)
    // Ours is HEAD's when HEAD holds it; theirs is looked for among the others first (both may hold it).
    const order = i === 0 ? cands : [...cands.slice(1), cands[0]!]
    const c = order.find((x) => blobs.get(`${x.rev}:${gitPath}`) === want)
    if (!c) return null
    const key = `${c.rev}\0${want}`
    if (!found.has(key)) found.set(key, describe(repo, c, gitPath, want))
    return found.get(key)!
  }))
}

async function describe(repo: Repo, c: Candidate, gitPath: string, blob: string): Promise<SideSource | null> {
  // A stash is one commit of this clone's work; elsewhere, the commit that last changed the file.
  const args = c.stash ? ['show', '-s', '--format=%H%x00%an%x00%ae%x00%at', c.rev] : ['log', '-1', '--format=%H%x00%an%x00%ae%x00%at', c.rev, '--', gitPath]
  const r = (await repo.tryRaw(args))?.trim()
  if (!r) return null
  const [commit, name, email, at] = r.split('\0')
  const side: SideSource = { commit: commit!, name: name ?? '', id: `git:${email ?? ''}`, time: Number(at), stash: c.stash }
  if (c.stash) return side
  const point = parseNote((await repo.tryRaw(['notes', `--ref=${NOTES_REF}`, 'show', commit!])) ?? '').reverse().find((p) => p.files[gitPath]?.b === blob)
  // The peer that recorded the commit's state: the same id its live edits carry.
  if (point) side.id = point.peer
  return side
}
