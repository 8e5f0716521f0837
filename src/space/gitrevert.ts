/**
 * What a revert of files (`git checkout -- FILE`, `git restore FILE`) took back, said as `ctxsync restore`
 * says it: it is the user's edit and rolls every peer back (README), but the daemon said only "took in git's
 * revert … synced" — not how much, whose, nor how to take it back (black-box tester). Read from the history
 * once the take-in is recorded: the revert is the file's last version, the one before it what it replaced.
 */
import { allVersions, current, diffOf } from './versions/query.js'
import { versionsDir } from './versions/recorder.js'
import type { VersionBook } from './versions/recorder.js'

/** `: N field(s) changed back (last set by …); \`ctxsync undo ID\` takes it back`, or '' when not known. */
export async function revertDetail(root: string, state: string, book: VersionBook | null, name: string): Promise<string> {
  await book?.flushed()
  const dir = versionsDir(state)
  const vs = await allVersions(dir, [name])
  const v = vs.at(-1)
  const p = vs.at(-2)
  if (!v || !p || v.text !== (await current(root, name).catch(() => undefined))) return ''
  // From the revert to the text before it, with who had last set each field then (not the revert's author).
  const d = await diffOf(root, dir, name, v.id, p.id).catch(() => null)
  if (!d) return ''
  const names = [...new Set(d.changes.flatMap((c) => c.authors.map((a) => a.name)))]
  return `: ${d.changes.length} field(s) changed back${names.length ? ` (last set by ${names.join(', ')})` : ''}; \`ctxsync undo ${v.id}\` takes it back`
}
