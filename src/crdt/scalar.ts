/** Scalar helpers shared by the model, the rules and the diff. */

/** The string a scalar token denotes, for identity matching (quotes removed, escapes resolved). */
export function scalarText(raw: string): string {
  const r = raw.trim()
  if (r.length >= 2 && r[0] === '"' && r[r.length - 1] === '"') {
    try {
      return JSON.parse(r.replace(/\n\s*/g, ' ')) as string
    } catch {
      return r.slice(1, -1)
    }
  }
  if (r.length >= 2 && r[0] === "'" && r[r.length - 1] === "'") return r.slice(1, -1).replace(/''/g, "'")
  return r.replace(/\s*\n\s*/g, ' ')
}
