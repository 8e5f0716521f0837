/**
 * What an autostash held, for the daemon that takes in the file git merged it into.
 *
 * `git pull` over uncommitted live context (autostash: stash, fast-forward or merge, apply) leaves the merge
 * of the stash into what came. The daemon, paused meanwhile, took that merge in as an edit made from HEAD's
 * new version: every uncommitted value came back as this clone's fresh save. Where the live context had
 * moved on during the pull — `ctxsync resolve` run at the same moment, or a peer's change the daemon held
 * while git worked — the stashed older value overwrote it on every peer, a resolved conflict came back as
 * one "you changed at once" (black-box tester, stop 30, finding 2).
 *
 * The merge driver, asked to apply an autostash, notes here which blob the stash held and the text it
 * wrote; the daemon, finding that very text on disk, knows what the stash held: the file's own last text
 * (nothing of the person's to take in: the pull brought only what came) or an edit the daemon had not taken
 * in yet (taken in as a save of its own, against the texts the file held, before what came).
 */
import fs from 'node:fs/promises'
import path from 'node:path'
import { writeFileAtomic } from '../fs/atomic.js'
import { sha256hex } from '../ids.js'
import type { Repo } from '../git/repo.js'
import type { SpacePaths } from './paths.js'

interface Note {
  /** sha256 of the bytes the driver wrote. */
  merged: string
  /** The stash's blob of the file. */
  stash: string
  at: number
}

const KEPT = 50
/** A note older than this is no pull's still under way. */
const FRESH_MS = 10 * 60_000

const noteFile = (paths: SpacePaths): string => path.join(paths.state, 'autostash-applied.json')

async function readNotes(paths: SpacePaths): Promise<Record<string, Note>> {
  try {
    const v = JSON.parse(await fs.readFile(noteFile(paths), 'utf8')) as Record<string, Note>
    return v && typeof v === 'object' ? v : {}
  } catch {
    return {}
  }
}

/**
 * The blob an autostash being applied holds at `gitPath`, when `text` is it (the side the driver got is the
 * stash's); null otherwise — not an autostash apply (a plain `git stash pop` is the stash hold's, `stashhold.ts`).
 */
export async function autostashSide(repo: Repo, gitPath: string, text: string): Promise<string | null> {
  const refs = ['MERGE_AUTOSTASH', path.join('rebase-merge', 'autostash'), path.join('rebase-apply', 'autostash')]
  const oids = (await Promise.all(refs.map((f) => fs.readFile(path.join(repo.gitDir, f), 'utf8').then((t) => t.trim(), () => ''))))
    .filter((o) => /^[0-9a-f]{40,64}$/.test(o))
  if (oids.length === 0) return null
  const blob = repo.blobId(text)
  const held = await repo.resolveMany(oids.map((o) => `${o}:${gitPath}`))
  return [...held.values()].includes(blob) ? blob : null
}

/** The driver wrote `merged` for `name`, applying an autostash that held blob `stash`. */
export async function noteAutostash(paths: SpacePaths, name: string, merged: string, stash: string): Promise<void> {
  const all = { ...(await readNotes(paths)), [name]: { merged: sha256hex(Buffer.from(merged, 'utf8')), stash, at: Date.now() } }
  const kept = Object.entries(all).sort((a, b) => a[1].at - b[1].at).slice(-KEPT)
  await writeFileAtomic(noteFile(paths), JSON.stringify(Object.fromEntries(kept)) + '\n', { mode: 0o600 })
}

/**
 * What the autostash held, when the file (`hash`: its bytes' sha256) is still what the driver wrote applying
 * it; the note is used up either way.
 */
export async function stashedText(paths: SpacePaths, repo: Repo, name: string, hash: string): Promise<string | null> {
  const notes = await readNotes(paths)
  const n = notes[name]
  if (!n) return null
  delete notes[name]
  await writeFileAtomic(noteFile(paths), JSON.stringify(notes) + '\n', { mode: 0o600 }).catch(() => undefined)
  if (n.merged !== hash || Date.now() - n.at > FRESH_MS) return null
  return repo.readBlob(n.stash)
}
