/**
 * What `restore` and `undo` leave for the recorder: the text they are about to write (its hash), what wrote
 * it and which change it undid. The write itself goes the way of any save (the daemon's watcher, or a scan
 * here), so the version it becomes is recorded there; the intent only names it. One per document, used
 * once, ignored after INTENT_TTL_MS (an edit that never landed).
 */
import fs from 'node:fs/promises'
import path from 'node:path'
import type { Via } from './store.js'

const INTENT_TTL_MS = 5 * 60_000

/** `ofHash`: the undone change's text hash (16 hex digits), carried to peers in the revert mark (schema.ts). */
export interface Intent { h: string; via: Via; of?: string; ofHash?: string; at: number }

const intentFile = (dir: string, doc: string) => path.join(dir, 'intents', encodeURIComponent(doc) + '.json')

export async function leaveIntent(dir: string, doc: string, intent: Intent): Promise<void> {
  const f = intentFile(dir, doc)
  await fs.mkdir(path.dirname(f), { recursive: true, mode: 0o700 })
  await fs.writeFile(f, JSON.stringify(intent))
}

/** The intent naming the text with hash `h` of `doc`, if one does (left for the recorder to take). */
export async function intentFor(dir: string, doc: string, h: string): Promise<Intent | null> {
  try {
    const i = JSON.parse(await fs.readFile(intentFile(dir, doc), 'utf8')) as Intent
    return i.h !== '' && h.startsWith(i.h) ? i : null
  } catch {
    return null
  }
}

/** The intent for `doc` if it names the text with hash `h` (then it is used up). */
export async function takeIntent(dir: string, doc: string, h: string): Promise<Intent | null> {
  const f = intentFile(dir, doc)
  let i: Intent
  try {
    i = JSON.parse(await fs.readFile(f, 'utf8')) as Intent
  } catch {
    return null
  }
  if (i.h !== h) {
    if (Date.now() - i.at > INTENT_TTL_MS) await fs.rm(f, { force: true })
    return null
  }
  await fs.rm(f, { force: true })
  return i
}
