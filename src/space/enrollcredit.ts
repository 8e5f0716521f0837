/**
 * Who a file's enrollment credits when git committed its text (issue 16). A file new to the space that
 * git brought — a teammate's commit, a checkout's files at `init` — is enrolled alike by every member
 * that takes it in (`FileModel.enrollment`), and each named itself the author of that enrollment: blame
 * credited every value to whichever member's entry won, though the commit's author wrote them. When the
 * text enrolled is HEAD's version, the credit is its writer's — the last commit that changed it: its sync
 * point's writer, else its git author, as for a pull's steps (`gitsteps.ts` creditsOf) — the same on every
 * member. A text that is not HEAD's (an edit, a file not committed) is this machine's, as before.
 */
import path from 'node:path'
import type { Credit } from '../crdt/schema.js'
import type { FileContext, GitContext } from './context.js'
import { creditsOf } from './gitsteps.js'

/** The writer of `text` at `name` when it is HEAD's version there; undefined otherwise (or without git). */
export async function committedCredit(cx: FileContext, name: string, text: string): Promise<Credit | undefined> {
  const repo = 'gitRepo' in cx ? await (cx as GitContext).gitRepo().catch(() => null) : null
  if (!repo) return undefined
  const gitPath = path.relative(repo.root, path.join(cx.root, name)).split(path.sep).join('/')
  const spec = `HEAD:${gitPath}`
  const oid = (await repo.resolveMany([spec]).catch(() => null))?.get(spec)
  if (!oid || oid !== repo.blobId(text)) return undefined
  const commit = (await repo.tryRaw(['log', '-1', '--format=%H', 'HEAD', '--', gitPath]))?.trim()
  return commit ? (await creditsOf(repo, gitPath, [commit]).catch(() => null))?.get(commit) : undefined
}
