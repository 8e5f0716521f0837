/**
 * Whether the live context of this clone already holds both sides git merges (the merge driver's question).
 *
 * A commit made before a resolution and merged after it (a pull, a merge, an autostash's pop) meets a side
 * the live context already superseded: the CRDT has both versions' values and decided between them — the
 * conflict was listed, resolved, and the resolution synced. The merge of the two texts finds that same
 * conflict again; kept as a record for `resolve`, it was listed anew under the same id on this clone and,
 * taken into the live context, re-opened on every peer with the stashed value credited to this peer (black-
 * box tester, stop 25). When both sides are known — as in `gitbase.ts`: a text this clone's file held (its
 * meta's `seen`), one a peer took in from git (a git mark), or one a sync point in git's notes records with a
 * state this CRDT covers — the merge's conflicts are history: nothing is kept, and the daemon writes the
 * live context back over the merged text (the merged text is known content when it is one of the sides).
 *
 * The merged text is then the live context's own (`liveRendering`): the merge of the texts kept a side the
 * live context had superseded (an item one side deleted and the other edited stays with the edit), and was
 * neither side — the daemon, which writes back over known content only, read the autostash's pop over it as
 * an edit and brought the item back on every peer (black-box tester, stop 29, finding 4); committed, the
 * merge gave it back to anyone who pulled it with plain git.
 */
import * as Y from 'yjs'
import { FileDocStore } from '../fs/sidecar.js'
import { asDocName, sha256hex } from '../ids.js'
import { GIT_MARKS } from '../crdt/schema.js'
import { NOTES_REF, REMOTE_NOTES_PREFIX, parseNote } from '../git/notes.js'
import type { Repo } from '../git/repo.js'
import { readMeta } from './filemeta.js'
import { FileModel } from '../crdt/model.js'
import type { Rules } from '../crdt/rules.js'

const NOTES_MAX = 400

/** Each of `texts`: does this clone's live context of `name` hold it already? */
export async function liveHolds(docsDir: string, name: string, texts: readonly string[], git: { repo: Repo; path: string } | null): Promise<boolean[]> {
  const store = new FileDocStore({ dir: docsDir })
  const doc = new Y.Doc()
  try {
    const d = await store.load(asDocName(name)).catch(() => null)
    if (!d) return texts.map(() => false)
    const seen = new Set(readMeta(d.meta).meta.seen)
    for (const u of d.updates) Y.applyUpdate(doc, u)
    const marks = doc.getMap(GIT_MARKS)
    const out = texts.map((t) => {
      const h = sha256hex(t).slice(0, 16)
      return seen.has(h) || marks.has(h)
    })
    if (out.every(Boolean) || !git) return out
    const points = await notedBlobs(git.repo, git.path)
    const sv = Y.decodeStateVector(Y.encodeStateVector(doc))
    const covered = (b64: string) => {
      try {
        for (const [client, clock] of Y.decodeStateVector(Buffer.from(b64, 'base64'))) if (clock > (sv.get(client) ?? 0)) return false
        return true
      } catch {
        return false
      }
    }
    return out.map((k, i) => k || (points.get(git.repo.blobId(texts[i]!)) ?? []).some(covered))
  } finally {
    doc.destroy()
    await store.close().catch(() => undefined)
  }
}

/**
 * The live context's text of `name` as this clone's sidecar holds it (what the daemon writes into the file),
 * or null: no document, the file deleted there, or a state still waiting for updates it depends on.
 */
export async function liveRendering(docsDir: string, name: string, rules: Rules): Promise<string | null> {
  const store = new FileDocStore({ dir: docsDir })
  const live = new FileModel({ name, author: { id: 'merge:live', name: 'live', kind: 'human' }, rules })
  try {
    const d = await store.load(asDocName(name)).catch(() => null)
    if (!d) return null
    live.load(d.updates)
    const r = live.render()
    return r.complete ? r.text : null
  } finally {
    live.destroy()
    await store.close().catch(() => undefined)
  }
}

/** Blob id of `gitPath` → the state vectors sync points recorded for it (this clone's notes and the fetched ones). */
async function notedBlobs(repo: Repo, gitPath: string): Promise<Map<string, string[]>> {
  const out = new Map<string, string[]>()
  const refs = ((await repo.tryRaw(['for-each-ref', '--format=%(refname)', NOTES_REF, REMOTE_NOTES_PREFIX])) ?? '').split('\n').map((s) => s.trim()).filter(Boolean)
  const notes = new Set<string>()
  for (const ref of refs) {
    for (const line of ((await repo.tryRaw(['notes', `--ref=${ref}`, 'list'])) ?? '').split('\n')) {
      const note = line.trim().split(/\s+/)[0]
      if (note) notes.add(note)
      if (notes.size >= NOTES_MAX) break
    }
  }
  for (const text of (await repo.readBlobs([...notes])).values()) {
    for (const p of parseNote(text)) {
      const f = p.files[gitPath]
      if (f?.b && f.sv) out.set(f.b, [...(out.get(f.b) ?? []), f.sv])
    }
  }
  return out
}
