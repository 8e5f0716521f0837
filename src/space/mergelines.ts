/**
 * A delete-versus-edit conflict the merge driver kept (`mergestore.ts`), resolved on the merged document
 * itself: such a conflict is no value at a path that could be found again in another document. The file's
 * current text is taken into the merged document first (later edits stay), or — for a region merged alone —
 * the merged lines are found again in the file. When neither works any more, the conflict is moot and
 * dropped, with the reason.
 */
import path from 'node:path'
import { FileModel, type Author, type Conflict, type Take } from '../crdt/model.js'
import { compileRules, type RuleSpec } from '../crdt/rules.js'
import { CtxError } from '../errors.js'
import { readTextFile, writeFileAtomic } from '../fs/atomic.js'
import type { SpacePaths } from './paths.js'
import type { MergeRecord, StoredPart } from './mergefile.js'

export function openPart(file: string, part: StoredPart, author: Author, rules: readonly RuleSpec[]): FileModel {
  const m = new FileModel({ name: file, author, rules: compileRules(file, rules) })
  m.load([Buffer.from(part.state, 'base64')])
  m.setBase(m.render())
  return m
}

const body = (p: { wrapper: string | null }, text: string) => (p.wrapper === null ? text : text.slice(p.wrapper.length + 1))

/**
 * Applies `take` to conflict `id` of `rec` and writes the file; the conflict as it was, or null when no part
 * of the record has it. Throws (and the caller forgets it) when it is moot, saying why.
 */
export async function resolveOnLines(paths: SpacePaths, rec: MergeRecord, rules: readonly RuleSpec[], id: string, take: Take, author: Author): Promise<Conflict | null> {
  for (const part of rec.parts) {
    const m = openPart(rec.file, part, author, rules)
    try {
      const c = m.conflicts().find((x) => x.id === id)
      if (!c) continue
      const abs = path.join(paths.root, rec.file)
      const now = await readTextFile(abs, { within: paths.root })
      const cur = now.kind === 'text' ? now.text : ''
      const moot = (why: string) => new CtxError('merge-dropped', `${rec.file}: dropped the merge conflict ${id} (${c.display}): ${why}, so there is nothing left to choose`)
      // Later edits to the merged lines (by hand, by peers through the daemon) are kept: taken in first.
      if (part.whole && cur !== part.text) m.ingest(cur)
      if (!m.resolve(id, take)) throw moot('the entry was changed since')
      const r = m.render()
      let next: string
      if (part.whole) next = r.text ?? ''
      else {
        const old = body(part, part.text)
        const at = cur.indexOf(old)
        if (at < 0 || cur.indexOf(old, at + 1) >= 0) throw moot('the lines it was merged into have changed since')
        next = cur.slice(0, at) + body(part, r.text ?? '') + cur.slice(at + old.length)
      }
      if (next !== cur) await writeFileAtomic(abs, next, { within: paths.root })
      return c
    } finally {
      m.destroy()
    }
  }
  return null
}
