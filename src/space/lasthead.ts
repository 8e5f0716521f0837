/**
 * The commit HEAD was at when this clone's live context last took in what git had written: kept in the
 * state directory by whatever took it in (the git watch after each command, a daemon's or a one-shot's start
 * scan), so that the next start knows what git did while no ctxsync ran.
 *
 * Without it a `git pull` made while the daemon was stopped — over uncommitted live context, so with git's
 * autostash: the file is then neither the commit's text nor the live one — was read at the next start as
 * this clone's own edit: a teammate's commit credited to the puller and, where a peer had changed the same
 * value live since, the committed older value won on every peer (black-box tester, issue 16). Known, the
 * start scan takes the files in as after a live pull (`gitingest.ts`, a move from that commit): the
 * commit's values as git content, its author's, at its time; only what the disk holds over them as the edit.
 */
import fsp from 'node:fs/promises'
import path from 'node:path'
import { writeFileAtomic } from '../fs/atomic.js'
import type { Repo } from '../git/repo.js'
import type { GitIntent } from './gitintent.js'

const file = (state: string) => path.join(state, 'last-head')

/** Notes `head` as taken in (best effort: without it the next start only knows less). */
export async function noteHead(state: string, head: string | null): Promise<void> {
  if (!head) return
  const was = await fsp.readFile(file(state), 'utf8').catch(() => null)
  if (was?.trim() === head) return
  await writeFileAtomic(file(state), head + '\n', { mode: 0o600 }).catch(() => undefined)
}

/**
 * What git did while no ctxsync ran, as the git watch would have classified it: a move from the commit last
 * taken in (a checkout when HEAD's last reflog entry says so); undefined when HEAD is where it was, or
 * nothing was noted (a clone's first start: the start scan's own rules).
 */
export async function sinceLastRun(repo: Repo | null, state: string): Promise<GitIntent | undefined> {
  if (!repo) return undefined
  const last = (await fsp.readFile(file(state), 'utf8').catch(() => ''))?.trim()
  const head = await repo.head()
  if (!last || !head || last === head) return undefined
  const move = (await repo.tryRaw(['reflog', '-1', '--format=%gs', 'HEAD']))?.trim() ?? ''
  return { kind: 'move', from: last, ...(move.startsWith('checkout:') ? { checkout: true } : {}) }
}
