/**
 * Text from other machines, made safe to show. Peer names, hosts, URLs, presence paths and error reasons
 * come from whoever connects — a stranger with a wrong secret included — and reach a terminal (`status`,
 * `peers`) or a log (`watch`). Raw, an ESC sequence recolours or clears the screen, a newline forges a log
 * line of its own, and a bidi override makes a name or path read as something else.
 *
 * `visible` replaces every C0 and C1 control character (newline, tab and ESC included), DEL, the Unicode
 * bidi controls and the characters that look like nothing or like a plain space with a visible escape
 * (`\x1b`, `\n`, `\u202e`, `\u200b`); a backslash stays as it is. The result holds
 * one line and no control characters. A leaf module: `output.ts` and the daemon's log both use it.
 */

// C0 controls, DEL, C1 controls; bidi marks, embeddings, overrides and isolates; line/paragraph separators;
// characters that show as nothing or as a plain space (zero-width, soft hyphen, fillers, unusual spaces), with
// which one name passes for another ("alice\u200b" or "alice\u00a0" looks like "alice").
const UNSAFE = /[\u0000-\u001f\u007f-\u00a0\u00ad\u034f\u061c\u115f\u1160\u17b4\u17b5\u180e\u2000-\u200c\u200e\u200f\u2028-\u202f\u205f-\u2064\u2066-\u2069\u2800\u3000\u3164\ufeff\uffa0]/g

const NAMED: Record<string, string> = { '\n': '\\n', '\r': '\\r', '\t': '\\t' }

function escape(c: string): string {
  const named = NAMED[c]
  if (named) return named
  const code = c.charCodeAt(0)
  return code <= 0xff ? `\\x${code.toString(16).padStart(2, '0')}` : `\\u${code.toString(16).padStart(4, '0')}`
}

/** `s` with control and bidi characters replaced by visible escapes; null and undefined pass through. */
export function visible<T extends string | null | undefined>(s: T): T {
  if (typeof s !== 'string') return s
  UNSAFE.lastIndex = 0
  return (UNSAFE.test(s) ? s.replace(UNSAFE, escape) : s) as T
}

/** Like `visible`, but keeps line breaks (`\n`): for multi-line text such as a conflicting value or an error. */
export function visibleLines(s: string): string {
  return s.split('\n').map((l) => visible(l)).join('\n')
}

/**
 * A copy of `v` with `visible` applied to every string in it (object keys included): a printer given data
 * from peers cleans it all at once instead of field by field, so a field added later is not missed.
 */
export function visibleDeep<T>(v: T): T {
  if (typeof v === 'string') return visible(v) as T
  if (Array.isArray(v)) return v.map((x) => visibleDeep(x)) as T
  if (v !== null && typeof v === 'object' && Object.getPrototypeOf(v) === Object.prototype) {
    return Object.fromEntries(Object.entries(v).map(([k, x]) => [visible(k), visibleDeep(x)])) as T
  }
  return v
}
