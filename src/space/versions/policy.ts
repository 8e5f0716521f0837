/**
 * Which versions are kept: a staggered policy, as backup tools have it — every version while recent, then
 * one per hour, then one per day — and a size budget per document. Configured in `ctxsync.yaml`:
 *
 *   history:
 *     all: 1d          # keep every version this long
 *     hourly: 30d      # then the last version of each hour this long
 *     daily: 365d      # then the last of each day this long ('forever' keeps them all)
 *     max-size: 8MiB   # per file's log, compressed; the oldest go first
 *
 * A version dropped gives its authors to the next one kept, so blame still names everyone who touched the
 * fields it shows (less precisely: the change is merged with the next one kept).
 */
import fs from 'node:fs/promises'
import type { Version } from './store.js'

export interface Policy {
  allMs: number
  hourlyMs: number
  dailyMs: number
  maxBytes: number
}

const HOUR = 3_600_000
const DAY = 24 * HOUR
export const DEFAULT_POLICY: Policy = { allMs: DAY, hourlyMs: 30 * DAY, dailyMs: Infinity, maxBytes: 8 * 1024 * 1024 }

const UNITS: Record<string, number> = { s: 1000, m: 60_000, h: HOUR, d: DAY, w: 7 * DAY }

// A negative number (YAML reads `-1` as one) is neither: taken, it kept no time at all, or a budget below
// zero dropped every version but the newest.
export function parseDuration(s: unknown): number | null {
  if (typeof s === 'number') return s >= 0 ? s * DAY : null
  if (typeof s !== 'string') return null
  if (s === 'forever' || s === 'never') return Infinity
  const m = /^(\d+(?:\.\d+)?)\s*([smhdw])$/.exec(s.trim())
  return m ? Number(m[1]) * UNITS[m[2]!]! : null
}

function parseSize(s: unknown): number | null {
  if (typeof s === 'number') return s >= 0 ? s : null
  if (typeof s !== 'string') return null
  const m = /^(\d+(?:\.\d+)?)\s*(B|KiB|MiB|GiB|KB|MB|GB)?$/i.exec(s.trim())
  if (!m) return null
  const mult: Record<string, number> = { b: 1, kib: 1024, kb: 1000, mib: 1 << 20, mb: 1e6, gib: 1 << 30, gb: 1e9 }
  return Math.round(Number(m[1]) * (mult[(m[2] ?? 'b').toLowerCase()] ?? 1))
}

/** The policy `ctxsync.yaml` names (`history:`), the default for anything it does not say or says wrong. */
export async function readPolicy(configFile: string, warn: (m: string) => void = () => {}): Promise<Policy> {
  const { parse } = await import('yaml')
  let h: Record<string, unknown> | null = null
  try {
    const doc = parse(await fs.readFile(configFile, 'utf8')) as Record<string, unknown> | null
    h = doc && typeof doc.history === 'object' ? (doc.history as Record<string, unknown>) : null
  } catch {
    return DEFAULT_POLICY
  }
  if (!h) return DEFAULT_POLICY
  const p = { ...DEFAULT_POLICY }
  const set = (key: string, field: keyof Policy, read: (v: unknown) => number | null) => {
    if (h![key] === undefined) return
    const v = read(h![key])
    if (v === null) warn(`ctxsync.yaml: history.${key}: cannot read ${JSON.stringify(h![key])}; using the default`)
    else p[field] = v
  }
  set('all', 'allMs', parseDuration)
  set('hourly', 'hourlyMs', parseDuration)
  set('daily', 'dailyMs', parseDuration)
  set('max-size', 'maxBytes', parseSize)
  return p
}

/**
 * The versions kept at `now` (oldest first). The newest is always kept; within an hour (a day) bucket the
 * last version stands for it.
 */
export function thin(versions: Version[], now: number, p: Policy): Version[] {
  const kept: Version[] = []
  let carry: Version['by'] = []
  for (let i = 0; i < versions.length; i++) {
    const v = versions[i]!
    const next = versions[i + 1]
    const age = now - v.t
    let keep = true
    if (next && age > p.allMs) {
      const unit = age > p.allMs + p.hourlyMs ? DAY : HOUR
      keep = Math.floor(v.t / unit) !== Math.floor(next.t / unit)
      if (age > p.allMs + p.hourlyMs + p.dailyMs) keep = false
    }
    if (!keep) {
      carry = mergeBy(carry, v.by)
      continue
    }
    kept.push(carry.length ? { ...v, by: mergeBy(carry, v.by) } : v)
    carry = []
  }
  return kept
}

function mergeBy(a: Version['by'], b: Version['by']): Version['by'] {
  const out = [...a]
  for (const x of b) if (!out.some((y) => y[0] === x[0])) out.push(x)
  return out
}

/** Drops the oldest versions until the estimate of the log fits the budget (the newest always stays). */
export function fitBudget(versions: Version[], bytes: number, maxBytes: number): Version[] {
  if (bytes <= maxBytes || versions.length <= 1) return versions
  const drop = Math.min(versions.length - 1, Math.ceil(versions.length * (1 - maxBytes / bytes)))
  return versions.slice(drop)
}
