/**
 * Times as people type them for `show`/`diff`/`history --since`: `10m`, `2h`, `3d`, `1w` (ago, `ago`
 * optional), `yesterday 14:00`, `today 9:30`, `14:00` (today), or an ISO date/time. Null: not a time.
 */
const UNIT: Record<string, number> = { s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000, w: 604_800_000 }

export function parseTime(s: string, now: number): number | null {
  const t = s.trim().toLowerCase()
  const rel = /^(\d+(?:\.\d+)?)\s*(s|m|h|d|w)(?:\s+ago)?$/.exec(t)
  if (rel) return now - Number(rel[1]) * UNIT[rel[2]!]!
  if (t === 'now') return now
  const day = /^(yesterday|today)(?:\s+(\d{1,2}):(\d{2}))?$/.exec(t) ?? /^()(\d{1,2}):(\d{2})$/.exec(t)
  if (day) {
    const d = new Date(now)
    if (day[1] === 'yesterday') d.setDate(d.getDate() - 1)
    if (day[2] !== undefined) d.setHours(Number(day[2]), Number(day[3]), 0, 0)
    else if (day[1] === 'yesterday') d.setHours(23, 59, 59, 999)
    return d.getTime()
  }
  if (!/^\d{4}-\d{2}-\d{2}/.test(t)) return null
  const ms = Date.parse(s.trim())
  return Number.isNaN(ms) ? null : ms
}

/** Local date and time as `status`/`log` print them (`2026-12-06 16:13:44`), never the locale's `12/6/2026, 4:13:44 PM`. */
export function localTime(t: number): string {
  const d = new Date(t)
  const p = (n: number) => String(n).padStart(2, '0')
  return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())} ${p(d.getHours())}:${p(d.getMinutes())}:${p(d.getSeconds())}`
}

/** `12s ago`, `5m ago`, `3h ago` while recent (as status and log say it); the local date and time after a day. */
export function whenText(iso: string, now: number): string {
  const t = Date.parse(iso)
  const d = now - t
  if (d < 0) return localTime(t)
  if (d < 60_000) return `${Math.round(d / 1000)}s ago`
  if (d < 3_600_000) return `${Math.round(d / 60_000)}m ago`
  if (d < 86_400_000) return `${Math.round(d / 3_600_000)}h ago`
  return localTime(t)
}
