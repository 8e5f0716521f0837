/**
 * Who wrote a field, from the CRDT: blame's answer where this machine's versions cannot give one. A clone
 * that joins a space takes in the whole file as one version — named after every peer whose edits it held
 * (`b, a` on every field) or after no one (`?`): the fields were set before it joined. The sidecar knows
 * better: each value's register was written by one Yjs client, and the authors map (`a`) names its peer;
 * the value carries its time. Read-only: the sidecar is loaded as `status` reads it (a torn tail is no
 * corruption), with or without a daemon.
 */
import { FileDocStore } from '../../fs/sidecar.js'
import { asDocName } from '../../ids.js'
import { FileModel } from '../../crdt/model.js'
import { compileRules } from '../../crdt/rules.js'
import { nodeAtPath, writerAt } from '../../crdt/merge/place.js'
import { readTeamConfig } from '../config.js'
import { spacePaths } from '../paths.js'
export interface Writer { author: { id: string; name: string; kind: 'human' | 'agent' }; at: number | null }

/**
 * A blame path (`todos[id=t2].status`, `scope["odd key"]`, `tags[2]`: fields.ts) as the key path the CRDT
 * tree names (`['todos', 't2', 'status']`); null when it cannot be read back.
 */
export function keyPath(p: string): Array<string | number> | null {
  const out: Array<string | number> = []
  for (let i = 0; i < p.length; ) {
    if (p[i] === '.') i++
    else if (p.startsWith('["', i)) {
      let j = i + 2
      while (j < p.length && p[j] !== '"') j += p[j] === '\\' ? 2 : 1
      try {
        out.push(JSON.parse(p.slice(i + 1, j + 1)) as string)
      } catch {
        return null
      }
      i = j + 2
    } else if (p[i] === '[') {
      const close = p.indexOf(']', i)
      if (close < 0) return null
      const inner = p.slice(i + 1, close)
      const ident = /^(?:id|name)=(.*)$/s.exec(inner)
      if (ident) out.push(ident[1]!)
      else if (/^\d+$/.test(inner)) out.push(Number(inner))
      else return null
      i = close + 1
    } else {
      const m = /^[A-Za-z_][\w-]*/.exec(p.slice(i))
      if (!m) return null
      out.push(m[0])
      i += m[0].length
    }
  }
  return out
}

/** The writer of each of `paths` in `doc`'s CRDT (paths it cannot place, or whose writer is unnamed, are left out). */
export async function crdtWriters(root: string, doc: string, paths: string[]): Promise<Map<string, Writer>> {
  const out = new Map<string, Writer>()
  if (paths.length === 0) return out
  const sp = spacePaths(root)
  const rules = compileRules(doc, (await readTeamConfig(sp.config).catch(() => null))?.rules ?? [])
  const store = new FileDocStore({ dir: sp.docs })
  const model = new FileModel({ name: doc, author: { id: 'blame', name: 'blame', kind: 'human' }, rules })
  try {
    const d = await store.load(asDocName(doc)).catch(() => null)
    if (!d) return out
    model.load(d.updates)
    if (!model.exists()) return out
    for (const p of paths) {
      const kp = keyPath(p)
      const node = kp && nodeAtPath(model.tree, kp)
      const desc = node ? model.tree.desc(node) : undefined
      const w = desc === undefined ? null : writerAt(model, kp!, desc)
      if (w) out.set(p, { author: w.author, at: w.at > 0 ? w.at * 1000 : null })
    }
    return out
  } finally {
    model.destroy()
    await store.close().catch(() => undefined)
  }
}
