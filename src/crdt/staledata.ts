/**
 * A stale save told by its data, where its lines cannot tell it (`recent.ts` reads a save's base from its
 * lines). An agent that read the file, then rewrote it whole through a YAML library (PyYAML `safe_dump`:
 * keys sorted, indentation and quoting its own) after a peer's change arrived, wrote a text that shares no
 * line with either: read as made from the newest text, the peer's value it re-dumped from its read was taken
 * as its edit, overwrote the peer's on every clone with no record, and history listed two changes by the
 * agent where it made one (issue 16, black-box tester).
 *
 * Such a save was made from an older text when, at the fields the peers changed since that text, it holds
 * that text's value (an item the peers added, it lacks) — it shows none of their changes — but at no more
 * of them than that its own third value (finding 4a, stop 30), and it is not that text's data exactly (a save
 * with no edit of its own is taken as meant, the header rule of `recent.ts`). A save that holds any of the
 * peers' values, or a third value at most of their fields, was made from the newest
 * text. Only for rewrites (many more lines changed than values): an editor's save is told by its lines.
 */
import { diffLines } from 'diff'
import { parse } from 'yaml'
import { TextMemo } from './textmemo.js'

type Leaves = Map<string, string>

// Every save of a rewrite compares the ring's texts again: each parsed once while it stays in a ring.
const parsed = new TextMemo<Leaves | null>(2 << 20)

/** The data of `text` by field path (items by `id` or `name`, else by place); null when it does not parse. */
function leaves(text: string): Leaves | null {
  const hit = parsed.get(text)
  return hit !== undefined ? hit : parsed.set(text, readLeaves(text))
}

function readLeaves(text: string): Leaves | null {
  let data: unknown
  try {
    // As a library loads it (aliases and merge keys resolved): a dump of a file with `<<: *base` writes the
    // merged keys out, and compared unresolved they differed everywhere (black-box tester stop 30, finding 4).
    data = parse(text, { uniqueKeys: false, maxAliasCount: 100, merge: true, logLevel: 'error' })
  } catch {
    return null
  }
  const out: Leaves = new Map()
  const walk = (v: unknown, p: string): void => {
    if (Array.isArray(v)) {
      if (v.length === 0) out.set(p, '[]')
      v.forEach((x, i) => {
        const o = x && typeof x === 'object' && !Array.isArray(x) ? (x as Record<string, unknown>) : null
        const ident = o && (['id', 'name'] as const).find((k) => typeof o[k] === 'string' || typeof o[k] === 'number')
        walk(x, ident ? `${p}[${ident}=${String(o![ident])}]` : `${p}[${i}]`)
      })
    } else if (v && typeof v === 'object' && !(v instanceof Date)) {
      const entries = Object.entries(v as Record<string, unknown>)
      if (entries.length === 0) out.set(p, '{}')
      for (const [k, x] of entries) walk(x, `${p}.${JSON.stringify(k)}`)
    } else out.set(p, v instanceof Date ? v.toISOString() : JSON.stringify(v ?? null))
  }
  walk(data, '')
  return out
}

/**
 * Lines that differ between `from` and `to` (removed plus added). A rewrite by a library differs from the
 * text it was made from in many more lines than the values it changed; an editor's save, in about as many.
 */
function linesChanged(from: string, to: string): number {
  let n = 0
  for (const c of diffLines(from, to)) if (c.added || c.removed) n += c.count ?? 1
  return n
}

/**
 * The older text `text` was made from, when its data says so (the header's rule): one of the texts before
 * the last one we wrote into the file (`ours`: peers' changes came in through it), not used as a stale
 * base before. Null when the save is one of the texts, or no older text fits (or it is no rewrite of it).
 */
export function staleByData<H extends { text: string; ours: boolean; used?: boolean }>(list: readonly H[], text: string): H | null {
  const newest = list.at(-1)
  let lastOurs = list.length - 1
  while (lastOurs >= 0 && !list[lastOurs]!.ours) lastOurs--
  if (!newest || lastOurs <= 0 || list.some((h) => h.text === text)) return null
  const [save, now] = [leaves(text), leaves(newest.text)]
  if (!save || !now) return null
  for (let i = lastOurs - 1; i >= 0; i--) {
    const h = list[i]!
    // The agent's own stale dump, only our writes since (the merge of it written back, peers' updates): its next dump, made from a read before that
    // write landed (each save re-reads the file), is its dump plus one more change, in its format — no rewrite of
    // it by lines, and a used-up base (recent.ts's rule for a person re-removing a peer's change). Read from our
    // merge, the peer's value it carried over undid theirs on every clone, credited to the agent (retest stop 32,
    // N1). A save of that text exactly is still the deliberate re-save (recent.ts), so a re-removal still goes through.
    const carried = h.used && !h.ours && list.slice(i + 1).every((x) => x.ours)
    const then = h.used && !carried ? null : leaves(h.text)
    if (!then) continue
    // Where the peers changed a field, the save holds that text's value (it shows none of their changes), or,
    // at no more such fields than that, a third value: its own edit of a field a peer changed too (finding 4a: an
    // agent's stale dump that set one of the ten statuses bob had changed was read as made from the newest,
    // and bob's nine others were rolled back on every peer).
    let peers = 0
    let same = 0
    let fits = true
    for (const p of new Set([...then.keys(), ...now.keys()])) {
      if (then.get(p) === now.get(p)) continue
      // Past a used-up base only a value the peers changed: an item they added that the save lacks is the person's
      // deliberate removal saved again with another edit (recent.ts's rule: it goes through on the second save).
      if (carried && !(then.has(p) && now.has(p))) fits = false
      peers++
      if (save.get(p) === then.get(p)) same++
      else if (save.get(p) === now.get(p)) fits = false
    }
    if (same === 0 || same * 2 < peers) fits = false
    const own = [...new Set([...then.keys(), ...save.keys()])].filter((p) => then.get(p) !== save.get(p)).length
    if (peers > 0 && fits && own > 0 && (carried || linesChanged(h.text, text) > 2 * own)) return h
  }
  return null
}
