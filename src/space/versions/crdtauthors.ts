/**
 * Who wrote a field, from the CRDT: blame's answer where this machine's versions cannot give one. A clone
 * that joins a space takes in the whole file as one version — named after every peer whose edits it held
 * (`b, a` on every field) or after no one (`?`): the fields were set before it joined. The sidecar knows
 * better: each value's register was written by one Yjs client, and the authors map (`a`) names its peer;
 * the value carries its time. Read-only: the sidecar is loaded as `status` reads it (a torn tail is no
 * corruption), with or without a daemon.
 */
import type { Item, Map as YMap } from 'yjs'
import { parse } from 'yaml'
import { FileDocStore } from '../../fs/sidecar.js'
import { asDocName } from '../../ids.js'
import { FileModel } from '../../crdt/model.js'
import { compileRules } from '../../crdt/rules.js'
import { AUTHORS, GIT_MARKS, revertOf, type Credit, type NodeId, type Value } from '../../crdt/schema.js'
import { keptWrites } from '../../crdt/writecredits.js'
import { recordsByNode } from '../../crdt/heads.js'
import { nodeAtPath, writerAt } from '../../crdt/merge/place.js'
import { readTeamConfig } from '../config.js'
import { spacePaths } from '../paths.js'
import { asAuthor } from '../../crdt/modeltypes.js'
export interface Writer { author: { id: string; name: string; kind: 'human' | 'agent' }; at: number | null; kept?: { id: string; name: string; kind: 'human' | 'agent' } }

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

/**
 * The writer of each of `paths` in `doc`'s CRDT (paths it cannot place, or whose writer is unnamed, are left out).
 * `among`: for a path whose version names several writers, their ids; a value a pull's commit brought is
 * then its commit's writer, when that is one of them (`gitWriter`).
 */
export async function crdtWriters(root: string, doc: string, paths: string[], among?: ReadonlyMap<string, readonly string[]>, past?: ReadonlyMap<string, readonly string[]>): Promise<Map<string, Writer>> {
  const out = new Map<string, Writer>()
  if (paths.length === 0) return out
  const sp = spacePaths(root)
  const rules = compileRules(doc, (await readTeamConfig(sp.config).catch(() => null))?.rules ?? [])
  const store = new FileDocStore({ dir: sp.docs })
  const model = new FileModel({ name: doc, author: { id: 'blame', name: 'blame', kind: 'human' }, rules })
  try {
    const d = await store.load(asDocName(doc)).catch(() => null)
    if (!d) return out
    // Overwritten values keep their content (as the sidecar's log has it, until a compaction): the value an
    // undo brought back is found by its own earlier write (`earlierWriter`).
    model.doc.gc = false
    model.load(d.updates)
    if (!model.exists()) return out
    const kept = keptWrites(model.doc)
    const authors = model.doc.getMap<[string, string, string]>(AUTHORS)
    for (const p of paths) {
      const kp = keyPath(p)
      const node = kp && nodeAtPath(model.tree, kp)
      const desc = node ? model.tree.desc(node) : undefined
      // A value a resolution wrote: the register's writer is the resolver, the value its chosen writer's.
      const item = node ? model.tree.item(node, 'v') : undefined
      const k = item && kept.get(`${node}|${item.id.client}|${model.tree.value(node!)?.[1]}`)
      if (k) {
        const r = authors.get(String(item.id.client))
        out.set(p, { author: asAuthor(k), at: k[3] > 0 ? k[3] * 1000 : null, ...(r ? { kept: asAuthor(r) } : {}) })
        continue
      }
      const g = node && among?.get(p) ? gitWriter(model, model.tree.item(node, 'v'), among.get(p)!) : null
      if (g) {
        out.set(p, g)
        continue
      }
      const e = node && past?.get(p) ? earlierWriter(model, node, past.get(p)!, kept) : null
      if (e) {
        out.set(p, e)
        continue
      }
      const w = desc === undefined ? null : writerAt(model, kp!, desc)
      if (w) out.set(p, { author: w.author, at: w.at > 0 ? w.at * 1000 : null })
    }
    return out
  } finally {
    model.destroy()
    await store.close().catch(() => undefined)
  }
}

/**
 * The commit's writer for a value a pull brought. Each commit's values are written with its git mark in one
 * transaction (`ingestAsGit`), the mark last: the value's mark is the first one its client wrote after it. A
 * peer that catches up on a pull gets all its commits in one update and keeps one version naming every
 * writer (recorder.ts): blame gave each field all of them. Only a writer among `ids` is taken (the version's
 * own authors), so a value this client typed before some later pull is never given to that pull's commit.
 */
function gitWriter(model: FileModel, item: Item | undefined, ids: readonly string[]): Writer | null {
  if (!item) return null
  let first: [string, Item] | null = null
  for (const [k, it] of (model.doc.getMap(GIT_MARKS) as YMap<unknown>)._map) {
    if (it.deleted || it.id.client !== item.id.client || it.id.clock <= item.id.clock) continue
    if (!first || it.id.clock < first[1].id.clock) first = [k, it]
  }
  const v = first?.[1].content.getContent()[0]
  // A value an undo or restore wrote is followed by its revert mark (schema.ts), not a commit's.
  const c = Array.isArray(v) && v.length === 3 && !revertOf(first![0], v[0]) ? (v[2] as Credit) : null
  if (!c || !ids.includes(c[0])) return null
  // The commit's values carry its time (`ingestAsGit` stamps them with the mark's): a save taken in just before
  // the pull, in the same turn, is this client's too and followed by the same mark, but stamped with its own.
  const own = item.content.getContent()[0] as Value | undefined
  if (Array.isArray(own) && typeof own[1] === 'number' && own[1] !== v[1]) return null
  return { author: asAuthor(c), at: c[3] > 0 ? c[3] * 1000 : null }
}

/**
 * Who wrote a value before it was brought back, when the register's writer now is one of `ids` (the peers who
 * wrote the field since its value was first written: the truncation's, the undo's). The register's earlier
 * writes, newest first (a map key's item links to the one it replaced): the newest that wrote this very
 * value, with its time, while the sidecar holds overwritten content; else, with the content compacted away,
 * the newest written by someone not among `ids` (time unknown). That fallback alone credited the undoer when
 * the value's writer had written the field since: bob's value, brought back by ann's undo of bob's later
 * change, was ann's on a clone whose first version named both (black-box tester stop 30, finding 9).
 */
function earlierWriter(model: FileModel, node: NodeId, ids: readonly string[], kept: ReadonlyMap<string, Credit>): Writer | null {
  const item = model.tree.item(node, 'v')
  const desc = model.tree.desc(node)
  const authors = model.doc.getMap<[string, string, string]>(AUTHORS)
  const peer = (client: number) => authors.get(String(client))
  const now = item && peer(item.id.client)
  if (!item || !now || !ids.includes(now[0])) return null
  const alias = recordsByNode(model.doc, new Set([node])).get(node)?.alias
  for (let it = item.left; it; it = it.left) {
    const arr = (it.content as unknown as { arr?: unknown[] }).arr
    for (let k = (arr?.length ?? 0) - 1; k >= 0; k--) {
      const v = arr![k] as Value
      if (!Array.isArray(v) || v[0] !== desc) continue
      const at = typeof v[1] === 'number' && v[1] > 0 ? v[1] * 1000 : null
      const k2 = kept.get(`${node}|${it.id.client}|${v[1]}`)
      if (k2) return { author: asAuthor(k2), at: k2[3] > 0 ? k2[3] * 1000 : at }
      const a = peer(alias?.get(`${it.id.client}:${it.id.clock + k}`)?.[1][2] ?? it.id.client)
      if (a) return { author: asAuthor(a), at }
    }
  }
  for (let it = item.left; it; it = it.left) {
    const a = peer(it.id.client)
    if (a && !ids.includes(a[0])) return { author: asAuthor(a), at: null }
  }
  return null
}

/**
 * The fields reached through an alias (`other: *base`, `<<: *base`) in `text`: each alias's path (as
 * fields.ts names paths) with its anchor's. The CRDT keeps an alias as the alias, so it cannot say who wrote
 * a field under one: that is its anchored field's writer (black-box tester stop 32, finding 8a). The yaml
 * package gives an alias the anchored collection's very object, so its second place is the alias.
 */
export function aliasesOf(text: string | null): Array<[alias: string, anchor: string]> {
  if (text === null || !text.includes('*')) return []
  let data: unknown
  try {
    data = parse(text, { uniqueKeys: false, maxAliasCount: 100, logLevel: 'error' })
  } catch {
    return []
  }
  const seen = new Map<object, string>()
  const out: Array<[string, string]> = []
  const key = (p: string, k: string) => (/^[A-Za-z_][\w-]*$/.test(k) ? (p ? `${p}.${k}` : k) : `${p}[${JSON.stringify(k)}]`)
  const item = (p: string, x: unknown, i: number) => {
    const id = x && typeof x === 'object' && !Array.isArray(x) ? ['id', 'name'].find((k) => ['string', 'number'].includes(typeof (x as Record<string, unknown>)[k])) : undefined
    return id ? `${p}[${id}=${String((x as Record<string, unknown>)[id])}]` : `${p}[${i}]`
  }
  const walk = (v: unknown, p: string) => {
    if (!v || typeof v !== 'object' || v instanceof Date) return
    const first = seen.get(v)
    if (first !== undefined) return void out.push([p, first])
    seen.set(v, p)
    if (Array.isArray(v)) v.forEach((x, i) => walk(x, item(p, x, i)))
    else for (const [k, x] of Object.entries(v as Record<string, unknown>)) walk(x, key(p, k))
  }
  walk(data, '')
  return out
}

/** `p` read through `aliases` to the anchored field it shows (null: under no alias). */
export function anchoredPath(p: string, aliases: ReadonlyArray<[string, string]>): string | null {
  for (const [a, t] of aliases) {
    if (p === a || (p.startsWith(a) && (p[a.length] === '.' || p[a.length] === '['))) return anchoredPath(t + p.slice(a.length), aliases) ?? t + p.slice(a.length)
  }
  return null
}
