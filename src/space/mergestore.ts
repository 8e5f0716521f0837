/**
 * Conflicts found by the merge driver, kept for `resolve`.
 *
 * The driver merges three texts in scratch documents of its own (`crdt/merge/merge3.ts`); their node ids are not the
 * live CRDT's, so the conflict records cannot simply be moved into it. Instead the merged document is
 * kept in `.ctxsync/merges/` (one per file, the latest merge wins) and `resolve` works on it: it first takes
 * in the file's current text (later edits stay), applies the choice there, and writes the file — an
 * ordinary local edit, which the daemon or the next `sync` takes in and sends to peers.
 */
import fs from 'node:fs/promises'
import path from 'node:path'
import { FileModel, type Author, type Conflict, type Take } from '../crdt/model.js'
import { compileRules, type RuleSpec } from '../crdt/rules.js'
import { CtxError } from '../errors.js'
import { readTextFile, writeFileAtomic } from '../fs/atomic.js'
import type { SpacePaths } from './paths.js'
import { mergeRecordFile, mergesDir } from './mergefile.js'
export { dropMerge } from './mergefile.js'

/**
 * One merged document: the whole file (`whole`), or a region the region merge merged under its root key
 * (`crdt/merge/regionmerge.ts`) — then `text` is that sub-document, found again in the file by its lines.
 */
export interface MergePart {
  whole: boolean
  wrapper: string | null
  text: string
  model: FileModel
}

export interface StoredPart {
  whole: boolean
  wrapper: string | null
  text: string
  /** Base64 Yjs state of the merged document. */
  state: string
}

interface MergeRecord {
  v: 2
  file: string
  at: string
  parts: StoredPart[]
}

export type MergeConflict = Conflict & { source: 'merge' }

const dirOf = mergesDir
const fileOf = mergeRecordFile
/** A part as it is kept: plain data, which can also cross from the merge driver's worker thread. */
export const storePart = (p: MergePart): StoredPart => ({ whole: p.whole, wrapper: p.wrapper, text: p.text, state: Buffer.from(p.model.encodeDiff()).toString('base64') })

export async function saveMerge(paths: SpacePaths, name: string, parts: Array<MergePart | StoredPart>): Promise<void> {
  const rec: MergeRecord = { v: 2, file: name, at: new Date().toISOString(), parts: parts.map((p) => ('model' in p ? storePart(p) : p)) }
  await fs.mkdir(dirOf(paths), { recursive: true })
  await writeFileAtomic(fileOf(paths, name), JSON.stringify(rec) + '\n')
}

async function records(paths: SpacePaths): Promise<Array<{ file: string; rec: MergeRecord }>> {
  const names = await fs.readdir(dirOf(paths)).catch(() => [] as string[])
  const out: Array<{ file: string; rec: MergeRecord }> = []
  for (const n of names.filter((x) => x.endsWith('.json'))) {
    const file = path.join(dirOf(paths), n)
    try {
      const rec = JSON.parse(await fs.readFile(file, 'utf8')) as MergeRecord
      if (rec.v === 2 && Array.isArray(rec.parts)) out.push({ file, rec })
    } catch {
      // unreadable: a later merge of that file replaces it
    }
  }
  return out
}

function open(file: string, part: StoredPart, author: Author, rules: readonly RuleSpec[]): FileModel {
  const m = new FileModel({ name: file, author, rules: compileRules(file, rules) })
  m.load([Buffer.from(part.state, 'base64')])
  m.setBase(m.render())
  return m
}

const SOMEONE: Author = { id: 'merge:resolver', name: 'resolve', kind: 'human' }

export async function mergeConflicts(paths: SpacePaths, rules: readonly RuleSpec[]): Promise<MergeConflict[]> {
  const out: MergeConflict[] = []
  for (const { rec } of await records(paths)) {
    for (const part of rec.parts) {
      const m = open(rec.file, part, SOMEONE, rules)
      out.push(...m.conflicts().map((c) => ({ ...c, source: 'merge' as const })))
      m.destroy()
    }
  }
  return out
}

const body = (p: { wrapper: string | null }, text: string) => (p.wrapper === null ? text : text.slice(p.wrapper.length + 1))

/**
 * Applies `take` to merge conflict `id` and writes the file. Returns the conflict as it was, or null when
 * no merge record has it. Throws when the file no longer holds the merged lines (or does not parse).
 */
export async function resolveMerge(paths: SpacePaths, rules: readonly RuleSpec[], id: string, take: Take, author: Author): Promise<Conflict | null> {
  for (const { file, rec } of await records(paths)) {
    for (const [i, part] of rec.parts.entries()) {
      const m = open(rec.file, part, author, rules)
      try {
        const c = m.conflicts().find((x) => x.id === id)
        if (!c) continue
        const abs = path.join(paths.root, rec.file)
        const now = await readTextFile(abs, { within: paths.root })
        const cur = now.kind === 'text' ? now.text : ''
        // Later edits to the merged lines (by hand, by peers through the daemon) are kept: taken in first.
        if (part.whole && cur !== part.text) m.ingest(cur)
        if (!m.resolve(id, take)) return null
        const r = m.render()
        let next: string
        if (part.whole) next = r.text ?? ''
        else {
          const old = body(part, part.text)
          const at = cur.indexOf(old)
          if (at < 0 || cur.indexOf(old, at + 1) >= 0) {
            throw new CtxError('merge-moved', `${rec.file}: the lines this conflict was merged into have changed since the merge; edit the value by hand`)
          }
          next = cur.slice(0, at) + body(part, r.text ?? '') + cur.slice(at + old.length)
        }
        if (next !== cur) await writeFileAtomic(abs, next, { within: paths.root })
        const parts = [...rec.parts]
        if (m.conflicts().length === 0) parts.splice(i, 1)
        else parts[i] = storePart({ ...part, text: r.text ?? '', model: m })
        if (parts.length === 0) await fs.rm(file, { force: true })
        else await writeFileAtomic(file, JSON.stringify({ ...rec, parts }) + '\n')
        return c
      } finally {
        m.destroy()
      }
    }
  }
  return null
}
