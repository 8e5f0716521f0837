/**
 * A seeded generator of real-world text edits to YAML context files (issue 13 item 2): what people do in an
 * editor and agents do with string replacement — comments and blank lines anywhere, quoting changed both
 * ways, keys renamed and reordered, fields and list items deleted, duplicated, reordered and added, values
 * edited, and every kind change (plain scalar ↔ block scalar of each header ↔ flow/block sequence ↔ mapping
 * ↔ empty), re-indentation, final newline, unicode. Edits are made on lines, not through a YAML library, so
 * they keep everything around them byte for byte, as an editor does. An edit that does not apply to the
 * text returns null; whether the result parses is the caller's check (invalid YAML is held, not taken in).
 *
 * `stacked` applies one to three edits before the text is saved, because people save after several.
 */
import type { Rng } from '../helpers/random.js'

export type Edit = (lines: string[], r: Rng) => string[] | null

const pick = <T>(a: readonly T[], r: Rng): T => a[Math.floor(r() * a.length)]!
const int = (r: Rng, n: number) => Math.floor(r() * n)
const ind = (s: string) => s.match(/^\s*/)![0]
const indentOf = (s: string) => ind(s).length
const WORDS = ['alpha', 'retry later', 'ship it', 'needs review', 'café au lait', 'naïve approach', '🚀 launch', 'done', 'v2', 'Q1']

/** `key: value` lines whose value is a one-line scalar (plain or quoted), with an optional `- ` and comment. */
const SCALAR = /^(\s*)(- )?([\w.-]+): (?![|>[{&*!#]|$)(.*?)(\s+#.*)?$/
/** `key:` lines opening a nested block (mapping, sequence) or an empty value. */
const OPENER = /^(\s*)(- )?([\w.-]+):\s*(#.*)?$/
const BLOCK_HEADER = /^(\s*)(- )?([\w.-]+): ([|>][-+]?)\s*(#.*)?$/
const FLOW_SEQ = /^(\s*)(- )?([\w.-]+): \[(.*)\]\s*$/

const where = (l: string[], re: RegExp) => l.map((x, i) => (re.test(x) ? i : -1)).filter((i) => i >= 0)

/** The index after the block that starts on line `i` (lines indented deeper than `col`, blanks inside). */
function blockEnd(l: string[], i: number, col: number): number {
  let j = i + 1
  while (j < l.length && (l[j]!.trim() === '' || indentOf(l[j]!) > col)) j++
  while (j > i + 1 && l[j - 1]!.trim() === '') j-- // trailing blank lines belong to what follows
  return j
}

/** Column of the key on a line (after `- ` when the line starts a list item). */
const keyCol = (s: string) => indentOf(s) + (/^\s*- /.test(s) ? 2 : 0)

function scalarAt(l: string[], r: Rng): { i: number; m: RegExpMatchArray } | null {
  const idx = where(l, SCALAR)
  if (!idx.length) return null
  const i = pick(idx, r)
  return { i, m: l[i]!.match(SCALAR)! }
}

const head = (m: RegExpMatchArray) => `${m[1]}${m[2] ?? ''}${m[3]}:`
const bare = (v: string) => v.replace(/^"(.*)"$/, '$1').replace(/^'(.*)'$/, '$1')
const replaceBlock = (l: string[], i: number, end: number, repl: string[]) => [...l.slice(0, i), ...repl, ...l.slice(end)]

export const EDITS: Record<string, Edit> = {
  comment: (l, r) => { const i = int(r, l.length + 1); return [...l.slice(0, i), `${ind(l[i] ?? '')}# note ${i}`, ...l.slice(i)] },
  blank: (l, r) => { const i = int(r, l.length + 1); return [...l.slice(0, i), '', ...l.slice(i)] },
  removeBlank: (l, r) => { const idx = where(l, /^\s*$/); if (!idx.length) return null; const i = pick(idx, r); return [...l.slice(0, i), ...l.slice(i + 1)] },
  trailingComment: (l, r) => { const s = scalarAt(l, r); if (!s || s.m[5]) return null; const c = [...l]; c[s.i] += pick(['  # why', ' # TODO: check', '   # 🚧'], r); return c },
  quoteDouble: (l, r) => { const s = scalarAt(l, r); if (!s || /^["']/.test(s.m[4]!)) return null; const c = [...l]; c[s.i] = `${head(s.m)} ${JSON.stringify(s.m[4])}${s.m[5] ?? ''}`; return c },
  quoteSingle: (l, r) => { const s = scalarAt(l, r); if (!s || /^["']/.test(s.m[4]!)) return null; const c = [...l]; c[s.i] = `${head(s.m)} '${s.m[4]!.replace(/'/g, "''")}'${s.m[5] ?? ''}`; return c },
  unquote: (l, r) => { const s = scalarAt(l, r); if (!s || !/^(["'])[A-Za-z][\w .-]*\1$/.test(s.m[4]!)) return null; const c = [...l]; c[s.i] = `${head(s.m)} ${bare(s.m[4]!)}${s.m[5] ?? ''}`; return c },
  rename: (l, r) => { const idx = where(l, /^\s*(- )?[a-z_]+:/); if (!idx.length) return null; const i = pick(idx, r); const c = [...l]; c[i] = c[i]!.replace(/^(\s*(?:- )?)([a-z_]+):/, `$1$2_${pick(['v2', 'old', 'renamed'], r)}:`); return c },
  deleteField: (l, r) => { const idx = where(l, /^\s+[\w-]+:/); if (!idx.length) return null; const i = pick(idx, r); return replaceBlock(l, i, blockEnd(l, i, indentOf(l[i]!)), []) },
  editValue: (l, r) => { const s = scalarAt(l, r); if (!s) return null; const v = s.m[4]!; const w = pick(WORDS, r); const nv = /^"/.test(v) ? v.replace(/"$/, ` ${w}"`) : /^'/.test(v) ? v.replace(/'$/, ` ${w}'`) : /^[A-Za-z]/.test(v) && !/[:#]/.test(w) ? `${v} ${w}` : JSON.stringify(`${bare(v)} ${w}`); const c = [...l]; c[s.i] = `${head(s.m)} ${nv}${s.m[5] ?? ''}`; return c },
  retype: (l, r) => { const s = scalarAt(l, r); if (!s) return null; const c = [...l]; c[s.i] = `${head(s.m)} ${pick(['42', 'true', 'null', '~', '2026-12-06', '3.5', '"007"', 'no'], r)}${s.m[5] ?? ''}`; return c },
  unicode: (l, r) => { const s = scalarAt(l, r); if (!s) return null; const c = [...l]; c[s.i] = `${head(s.m)} ${JSON.stringify(pick(['größer', '日本語のメモ', 'emoji 🎉 ok', 'tab\there', 'a "quoted" word'], r))}`; return c },
  toBlockScalar: (l, r) => {
    const s = scalarAt(l, r); if (!s) return null
    const col = keyCol(l[s.i]!); const pad = ' '.repeat(col + 2)
    return replaceBlock(l, s.i, s.i + 1, [`${head(s.m)} ${pick(['|', '>', '|-', '>-', '|+'], r)}`, `${pad}${bare(s.m[4]!)}`, `${pad}and a second line`, ...(r() < 0.3 ? ['', `${pad}after a blank line`] : [])])
  },
  emptyToBlockScalar: (l, r) => { const idx = where(l, OPENER).filter((i) => blockEnd(l, i, keyCol(l[i]!)) === i + 1); if (!idx.length) return null; const i = pick(idx, r); const pad = ' '.repeat(keyCol(l[i]!) + 2); return replaceBlock(l, i, i + 1, [l[i]!.replace(/:\s*(#.*)?$/, ': |'), `${pad}first line`, `${pad}second line`]) },
  blockHeader: (l, r) => { const idx = where(l, BLOCK_HEADER); if (!idx.length) return null; const i = pick(idx, r); const c = [...l]; c[i] = c[i]!.replace(/: [|>][-+]?/, ': ' + pick(['|', '>', '|-', '>-', '|+', '>+'], r)); return c },
  blockAddLine: (l, r) => { const idx = where(l, BLOCK_HEADER); if (!idx.length) return null; const i = pick(idx, r); const end = blockEnd(l, i, keyCol(l[i]!)); if (end === i + 1) return null; const at = i + 1 + int(r, end - i - 1) + 1; return [...l.slice(0, at), `${ind(l[i + 1]!)}${pick(WORDS, r)} added`, ...l.slice(at)] },
  blockToPlain: (l, r) => { const idx = where(l, BLOCK_HEADER); if (!idx.length) return null; const i = pick(idx, r); const m = l[i]!.match(BLOCK_HEADER)!; const end = blockEnd(l, i, keyCol(l[i]!)); const body = l.slice(i + 1, end).map((x) => x.trim()).filter(Boolean).join(' '); return replaceBlock(l, i, end, [`${head(m)} ${JSON.stringify(body || 'x')}`]) },
  toFlowSeq: (l, r) => { const s = scalarAt(l, r); if (!s) return null; const c = [...l]; c[s.i] = `${head(s.m)} [${bare(s.m[4]!).replace(/[,[\]{}#:]/g, '')}, second]`; return c },
  toBlockSeq: (l, r) => { const s = scalarAt(l, r); if (!s) return null; const pad = ' '.repeat(keyCol(l[s.i]!) + (r() < 0.5 ? 2 : 0)); return replaceBlock(l, s.i, s.i + 1, [head(s.m), `${pad}- ${s.m[4]}`, `${pad}- another`]) },
  flowToBlock: (l, r) => { const idx = where(l, FLOW_SEQ); if (!idx.length) return null; const i = pick(idx, r); const m = l[i]!.match(FLOW_SEQ)!; const items = m[4]!.split(',').map((x) => x.trim()).filter(Boolean); const pad = ' '.repeat(keyCol(l[i]!) + 2); return replaceBlock(l, i, i + 1, items.length ? [head(m), ...items.map((x) => `${pad}- ${x}`)] : [`${head(m)} []`]) },
  blockToFlow: (l, r) => {
    const idx = where(l, OPENER).filter((i) => /^\s*- [^:#'"[{]+$/.test(l[i + 1] ?? '')); if (!idx.length) return null
    const i = pick(idx, r); const col = indentOf(l[i + 1]!); let e = i + 1
    while (e < l.length && indentOf(l[e]!) === col && /^\s*- [^:#'"[{]+$/.test(l[e]!)) e++
    if (e < l.length && l[e]!.trim() !== '' && indentOf(l[e]!) > keyCol(l[i]!)) return null
    return replaceBlock(l, i, e, [`${l[i]!.replace(/:\s*(#.*)?$/, '')}: [${l.slice(i + 1, e).map((x) => x.replace(/^\s*- /, '').trim()).join(', ')}]`])
  },
  toMapping: (l, r) => { const s = scalarAt(l, r); if (!s) return null; const pad = ' '.repeat(keyCol(l[s.i]!) + 2); return replaceBlock(l, s.i, s.i + 1, [head(s.m), `${pad}value: ${s.m[4]}`, `${pad}since: 2026-12-06`]) },
  toFlowMap: (l, r) => { const s = scalarAt(l, r); if (!s) return null; const c = [...l]; c[s.i] = `${head(s.m)} {value: ${JSON.stringify(bare(s.m[4]!))}, n: 1}`; return c },
  toEmpty: (l, r) => { const idx = where(l, /^\s*(- )?[\w.-]+:/); if (!idx.length) return null; const i = pick(idx, r); const end = blockEnd(l, i, keyCol(l[i]!)); return replaceBlock(l, i, end, [l[i]!.replace(/^(\s*(?:- )?[\w.-]+):.*$/, pick(['$1:', '$1: ""', '$1: []', '$1: {}', '$1: ~'], r))]) },
  emptyToValue: (l, r) => { const idx = where(l, /^\s*(- )?[\w.-]+:\s*(""|\[\]|\{\}|~)?\s*$/).filter((i) => blockEnd(l, i, keyCol(l[i]!)) === i + 1); if (!idx.length) return null; const i = pick(idx, r); const c = [...l]; c[i] = c[i]!.replace(/:\s*.*$/, `: ${pick(['filled in', '"quoted now"', '[a, b]', '7'], r)}`); return c },
  dupItem: (l, r) => { const idx = where(l, /^\s*- /); if (!idx.length) return null; const i = pick(idx, r); const e = blockEnd(l, i, indentOf(l[i]!)); return [...l.slice(0, e), ...l.slice(i, e), ...l.slice(e)] },
  deleteItem: (l, r) => { const idx = where(l, /^\s*- /); if (!idx.length) return null; const i = pick(idx, r); return replaceBlock(l, i, blockEnd(l, i, indentOf(l[i]!)), []) },
  newItem: (l, r) => { const idx = where(l, /^\s*- [\w-]+: /); if (!idx.length) return null; const i = pick(idx, r); const e = blockEnd(l, i, indentOf(l[i]!)); const copy = l.slice(i, e).map((x, k) => (k === 0 ? x.replace(/: .*$/, `: NEW-${int(r, 1000)}`) : x)); return [...l.slice(0, e), ...copy, ...l.slice(e)] },
  swapItems: (l, r) => {
    const idx = where(l, /^\s*- /); if (idx.length < 2) return null
    const a = pick(idx, r); const col = indentOf(l[a]!); const ae = blockEnd(l, a, col)
    let b = ae; while (b < l.length && l[b]!.trim() === '') b++
    if (b >= l.length || indentOf(l[b]!) !== col || !/^\s*- /.test(l[b]!)) return null
    const be = blockEnd(l, b, col)
    return [...l.slice(0, a), ...l.slice(b, be), ...l.slice(ae, b), ...l.slice(a, ae), ...l.slice(be)]
  },
  swapKeys: (l, r) => { const idx = where(l, /^\s*[\w-]+: \S/).filter((i) => l[i + 1] !== undefined && /^\s*[\w-]+: \S/.test(l[i + 1]!) && indentOf(l[i]!) === indentOf(l[i + 1]!)); if (!idx.length) return null; const i = pick(idx, r); const c = [...l]; [c[i], c[i + 1]] = [c[i + 1]!, c[i]!]; return c },
  addField: (l, r) => { const idx = where(l, /^\s*(- )?[\w-]+: \S/); if (!idx.length) return null; const i = pick(idx, r); const col = keyCol(l[i]!); const e = blockEnd(l, i, col); return [...l.slice(0, e), `${' '.repeat(col)}${pick(['owner', 'due', 'reviewed_by', 'extra'], r)}: ${pick(WORDS.slice(0, 4), r)}`, ...l.slice(e)] },
  reindentSeq: (l, r) => {
    const idx = where(l, OPENER).filter((i) => l[i + 1] !== undefined && /^\s*- /.test(l[i + 1]!)); if (!idx.length) return null
    const i = pick(idx, r); const kc = keyCol(l[i]!); const sc = indentOf(l[i + 1]!)
    const delta = sc > kc ? -(sc - kc) : 2
    let e = i + 1; while (e < l.length && (l[e]!.trim() === '' || indentOf(l[e]!) > kc || (indentOf(l[e]!) === kc && /^\s*- /.test(l[e]!) && sc === kc))) e++
    return [...l.slice(0, i + 1), ...l.slice(i + 1, e).map((x) => (x.trim() === '' ? x : delta > 0 ? ' '.repeat(delta) + x : x.slice(-delta))), ...l.slice(e)]
  },
  multilinePlain: (l, r) => { const s = scalarAt(l, r); if (!s || !/^[A-Za-z][\w ]*$/.test(s.m[4]!) || s.m[5]) return null; const pad = ' '.repeat(keyCol(l[s.i]!) + 2); return replaceBlock(l, s.i, s.i + 1, [l[s.i]!, `${pad}continued on the next line`]) },
  // Wider kinds (issue 13 item 2, "widen it again"): the remaining kind changes, quoting swapped, comments
  // and whitespace in more places, other re-indentations, moves, quoted keys, indentation indicators, CRLF.
  blockToSeq: (l, r) => { const idx = where(l, BLOCK_HEADER); if (!idx.length) return null; const i = pick(idx, r); const m = l[i]!.match(BLOCK_HEADER)!; const end = blockEnd(l, i, keyCol(l[i]!)); const body = l.slice(i + 1, end).map((x) => x.trim()).filter(Boolean); if (!body.length) return null; const pad = ' '.repeat(keyCol(l[i]!) + 2); return replaceBlock(l, i, end, [head(m), ...body.map((x) => `${pad}- ${JSON.stringify(x)}`)]) },
  blockToMapping: (l, r) => { const idx = where(l, BLOCK_HEADER); if (!idx.length) return null; const i = pick(idx, r); const m = l[i]!.match(BLOCK_HEADER)!; const end = blockEnd(l, i, keyCol(l[i]!)); const pad = ' '.repeat(keyCol(l[i]!) + 2); return replaceBlock(l, i, end, [head(m), `${pad}text: ${JSON.stringify(l.slice(i + 1, end).map((x) => x.trim()).join(' '))}`, `${pad}lines: ${end - i - 1}`]) },
  collectionToScalar: (l, r) => { const idx = where(l, OPENER).filter((i) => blockEnd(l, i, keyCol(l[i]!)) > i + 1); if (!idx.length) return null; const i = pick(idx, r); return replaceBlock(l, i, blockEnd(l, i, keyCol(l[i]!)), [l[i]!.replace(/:\s*(#.*)?$/, `: ${pick(['flattened', '"was a list"', '0'], r)}`)]) },
  seqToMapping: (l, r) => {
    const idx = where(l, OPENER).filter((i) => /^\s*- [^:#'"[{|>&*!]+$/.test(l[i + 1] ?? '')); if (!idx.length) return null
    const i = pick(idx, r); const col = indentOf(l[i + 1]!); let e = i + 1
    while (e < l.length && indentOf(l[e]!) === col && /^\s*- [^:#'"[{|>&*!]+$/.test(l[e]!)) e++
    if (e < l.length && l[e]!.trim() !== '' && indentOf(l[e]!) > keyCol(l[i]!)) return null
    const pad = ' '.repeat(Math.max(col, keyCol(l[i]!) + 1))
    return replaceBlock(l, i, e, [l[i]!, ...l.slice(i + 1, e).map((x, k) => `${pad}item${k}: ${x.replace(/^\s*- /, '').trim()}`)])
  },
  mappingToFlow: (l, r) => {
    const idx = where(l, OPENER).filter((i) => l[i + 1] !== undefined && SCALAR.test(l[i + 1]!) && !/^\s*- /.test(l[i + 1]!) && indentOf(l[i + 1]!) > keyCol(l[i]!)); if (!idx.length) return null
    const i = pick(idx, r); const col = indentOf(l[i + 1]!); let e = i + 1
    while (e < l.length && indentOf(l[e]!) === col && SCALAR.test(l[e]!) && !/^\s*- /.test(l[e]!) && !l[e]!.match(SCALAR)![5]) e++
    if (e === i + 1 || (e < l.length && l[e]!.trim() !== '' && indentOf(l[e]!) > keyCol(l[i]!))) return null
    const pairs = l.slice(i + 1, e).map((x) => { const m = x.match(SCALAR)!; return `${m[3]}: ${JSON.stringify(bare(m[4]!))}` })
    return replaceBlock(l, i, e, [`${l[i]!.replace(/:\s*(#.*)?$/, '')}: {${pairs.join(', ')}}`])
  },
  flowMapToBlock: (l, r) => { const idx = where(l, /^(\s*)(- )?([\w.-]+): \{([^{}\[\]#]*)\}\s*$/); if (!idx.length) return null; const i = pick(idx, r); const m = l[i]!.match(/^(\s*)(- )?([\w.-]+): \{(.*)\}\s*$/)!; const parts = m[4]!.split(',').map((x) => x.trim()).filter(Boolean); if (!parts.length || parts.some((x) => !/^[\w.-]+: ?\S/.test(x))) return null; const pad = ' '.repeat(keyCol(l[i]!) + 2); return replaceBlock(l, i, i + 1, [`${m[1]}${m[2] ?? ''}${m[3]}:`, ...parts.map((x) => `${pad}${x.replace(/:\s*/, ': ')}`)]) },
  swapQuotes: (l, r) => { const s = scalarAt(l, r); if (!s) return null; const v = s.m[4]!; let nv: string; if (/^"[^"\\']*"$/.test(v)) nv = `'${v.slice(1, -1)}'`; else if (/^'[^'"\\]*'$/.test(v)) nv = `"${v.slice(1, -1)}"`; else return null; const c = [...l]; c[s.i] = `${head(s.m)} ${nv}${s.m[5] ?? ''}`; return c },
  openerComment: (l, r) => { const idx = [...where(l, OPENER).filter((i) => !/#/.test(l[i]!)), ...where(l, /^\s*- [^#'"]*$/)]; if (!idx.length) return null; const i = pick(idx, r); const c = [...l]; c[i] = `${c[i]!.replace(/\s+$/, '')}${pick(['  # opener note', ' # 🚧 wip', '    #tight'], r)}`; return c },
  commentCol0: (l, r) => { const i = int(r, l.length + 1); return [...l.slice(0, i), pick(['# top-level note', '#', '# — dash'], r), ...l.slice(i)] },
  whitespaceLine: (l, r) => { const i = int(r, l.length + 1); return [...l.slice(0, i), ' '.repeat(1 + int(r, 6)), ...l.slice(i)] },
  trailingSpaces: (l, r) => { const idx = where(l, /\S$/).filter((i) => !/^\s*[|>]/.test(l[i]!) && !BLOCK_HEADER.test(l[i - 1] ?? '')); if (!idx.length) return null; const i = pick(idx, r); const c = [...l]; c[i] += ' '.repeat(1 + int(r, 3)); return c },
  blankLines: (l, r) => { const i = int(r, l.length + 1); return [...l.slice(0, i), ...new Array(2 + int(r, 2)).fill(''), ...l.slice(i)] },
  reindentMap: (l, r) => {
    const idx = where(l, OPENER).filter((i) => l[i + 1] !== undefined && /^\s*[\w.-]+:/.test(l[i + 1]!) && indentOf(l[i + 1]!) > keyCol(l[i]!)); if (!idx.length) return null
    const i = pick(idx, r); const e = blockEnd(l, i, keyCol(l[i]!)); const delta = r() < 0.5 ? 2 : indentOf(l[i + 1]!) - keyCol(l[i]!) > 1 ? -1 : 2
    return [...l.slice(0, i + 1), ...l.slice(i + 1, e).map((x) => (x.trim() === '' ? x : delta > 0 ? ' '.repeat(delta) + x : x.slice(1))), ...l.slice(e)]
  },
  moveItemToEnd: (l, r) => {
    const idx = where(l, /^\s*- /); if (!idx.length) return null
    const a = pick(idx, r); const col = indentOf(l[a]!); const ae = blockEnd(l, a, col)
    let end = ae; while (end < l.length && (l[end]!.trim() === '' || indentOf(l[end]!) > col || (indentOf(l[end]!) === col && /^\s*- /.test(l[end]!)))) end++
    while (end > ae && l[end - 1]!.trim() === '') end--
    if (end === ae) return null
    return [...l.slice(0, a), ...l.slice(ae, end), ...l.slice(a, ae), ...l.slice(end)]
  },
  moveField: (l, r) => {
    const idx = where(l, /^\s*[\w.-]+:/); if (!idx.length) return null
    const a = pick(idx, r); const col = indentOf(l[a]!); const ae = blockEnd(l, a, col)
    if (ae >= l.length || indentOf(l[ae]!) !== col || !/^\s*[\w.-]+:/.test(l[ae]!)) return null
    const be = blockEnd(l, ae, col)
    return [...l.slice(0, a), ...l.slice(ae, be), ...l.slice(a, ae), ...l.slice(be)]
  },
  quotedKey: (l, r) => { const idx = where(l, /^\s*(- )?[a-z_]+: /); if (!idx.length) return null; const i = pick(idx, r); const c = [...l]; c[i] = c[i]!.replace(/^(\s*(?:- )?)([a-z_]+):/, r() < 0.5 ? '$1"$2":' : "$1'$2':"); return c },
  indentIndicator: (l, r) => { const idx = where(l, BLOCK_HEADER).filter((i) => l[i + 1] !== undefined && indentOf(l[i + 1]!) === keyCol(l[i]!) + 2); if (!idx.length) return null; const i = pick(idx, r); const c = [...l]; c[i] = c[i]!.replace(/: ([|>])([-+]?)/, (_m, h: string, ch: string) => `: ${h}2${ch}`); return c },
  // A CRLF file saved without its final `\n` (a tool that cut one character): the last line ends in a lone `\r`,
  // which the yaml package reads as the value's own text; later edits move or follow that line (edit seed 983031).
  crEnd: (l) => (l.length < 2 || l[l.length - 1] !== '' ? null : l.slice(0, -1).map((x) => (x.endsWith('\r') ? x : `${x}\r`))),
  crlf: (l) => (l.some((x) => x.endsWith('\r')) ? l.map((x) => x.replace(/\r$/, '')) : l.map((x, i) => (i < l.length - 1 ? x + '\r' : x))),
  // Widened again after the wider kinds found a block scalar taking in the comment after it.
  deepComment: (l, r) => { const i = int(r, l.length + 1); return [...l.slice(0, i), `${ind(l[i] ?? '')}${' '.repeat(2 + int(r, 4))}# deeper note`, ...l.slice(i)] },
  commentAfterBlock: (l, r) => { const idx = where(l, BLOCK_HEADER); if (!idx.length) return null; const i = pick(idx, r); const end = blockEnd(l, i, keyCol(l[i]!)); const at = r() < 0.5 ? end : end + int(r, 2); return [...l.slice(0, at), `${' '.repeat(keyCol(l[i]!) + pick([0, 1, 2, 4], r))}# after the block`, ...l.slice(at)] },
  keyWithSpaces: (l, r) => { const idx = where(l, /^\s*(- )?[a-z_]+: /); if (!idx.length) return null; const i = pick(idx, r); const c = [...l]; c[i] = c[i]!.replace(/^(\s*(?:- )?)([a-z_]+):/, '$1$2 with spaces:'); return c },
  flowMultiline: (l, r) => { const idx = where(l, FLOW_SEQ); if (!idx.length) return null; const i = pick(idx, r); const m = l[i]!.match(FLOW_SEQ)!; const items = m[4]!.split(',').map((x) => x.trim()).filter(Boolean); if (items.length < 2) return null; const pad = ' '.repeat(keyCol(l[i]!) + 2); return replaceBlock(l, i, i + 1, [`${head(m)} [${items[0]},`, ...items.slice(1, -1).map((x) => `${pad}${x},`), `${pad}${items[items.length - 1]}]`]) },
  tabBeforeComment: (l, r) => { const s = scalarAt(l, r); if (!s || s.m[5]) return null; const c = [...l]; c[s.i] += '\t# tabbed'; return c },
  docEnd: (l) => (l.includes('...') ? null : l[l.length - 1] === '' ? [...l.slice(0, -1), '...', ''] : [...l, '...']),
  finalNewline: (l) => (l[l.length - 1] === '' ? l.slice(0, -1) : [...l, '']),
  docStart: (l) => (l[0] === '---' ? l.slice(1) : ['---', ...l]),
  // Anchors, aliases and merge keys (black-box tester finding 6): anchored values are one register and an alias
  // means the node anchored before it, so edits around them may leave an alias above its anchor or without one
  // (invalid: held) — what these kinds make, alone and with the others.
  addAnchor: (l, r) => { const idx = [...where(l, SCALAR), ...where(l, OPENER)].filter((i) => !/[&*!]/.test(l[i]!)); if (!idx.length) return null; const i = pick(idx, r); const c = [...l]; c[i] = c[i]!.replace(/^(\s*(?:- )?[\w.-]+):(\s?)/, (_m, k: string, sp: string) => `${k}: &${pick(ANCHOR_NAMES, r)}${sp === '' ? '' : ' '}`).replace(/ +$/, (t) => (/\r$/.test(t) ? t : '')); return c },
  addAlias: (l, r) => {
    const anchors = anchorLines(l); if (!anchors.length) return null
    const [a, name] = pick(anchors, r); const after = where(l, /^\s*(- )?[\w.-]+:/).filter((i) => i > a); if (!after.length) return null
    const j = pick(after, r); const col = keyCol(l[j]!); const e = blockEnd(l, j, col)
    return [...l.slice(0, e), `${' '.repeat(col)}${pick(['same_as', 'also', 'like'], r)}_${name}: *${name}`, ...l.slice(e)]
  },
  mergeKey: (l, r) => {
    const anchors = anchorLines(l).filter(([i]) => OPENER_ANCHORED.test(l[i]!)); if (!anchors.length) return null
    const [a, name] = pick(anchors, r)
    const maps = where(l, OPENER).filter((i) => i > a && l[i + 1] !== undefined && /^\s*[\w.-]+:/.test(l[i + 1]!) && indentOf(l[i + 1]!) > keyCol(l[i]!)); if (!maps.length) return null
    const j = pick(maps, r); return [...l.slice(0, j + 1), `${ind(l[j + 1]!)}<<: *${name}`, ...l.slice(j + 1)]
  },
  renameAnchor: (l, r) => { const anchors = anchorLines(l); if (!anchors.length) return null; const [, name] = pick(anchors, r); const to = `${name}_${pick(['v2', 'x'], r)}`; const re = new RegExp(`([&*])${name}(?![\\w-])`, 'g'); return l.map((x) => x.replace(re, `$1${to}`)) },
  dropAnchor: (l, r) => { const anchors = anchorLines(l); if (!anchors.length) return null; const [i, name] = pick(anchors, r); const c = [...l]; c[i] = c[i]!.replace(new RegExp(`&${name}(?![\\w-]) ?`), ''); return c },
  // A BOM (issue 13: right before the first key it was read as a column): added or removed, and a head line
  // (comment, `---`) added or removed between a BOM (added with it if missing) and what follows it. Other kinds
  // that insert at the top put their line before the BOM, as an editor would.
  bom: (l) => (l[0]!.startsWith(BOM) ? [l[0]!.slice(1), ...l.slice(1)] : [BOM + l[0]!, ...l.slice(1)]),
  bomHead: (l, r) => {
    const first = l[0]!.startsWith(BOM) ? l[0]!.slice(1) : l[0]!
    const cr = first.endsWith('\r') ? '\r' : ''
    if (/^(---|# head note)\r?$/.test(first) && l.length > 1 && l[0] !== first) return [BOM + l[1]!, ...l.slice(2)]
    return [BOM + pick(['# head note', '---'], r) + cr, first, ...l.slice(1)]
  },
  // An anchor alone on the line after its key (issue 13: modelled key by key since stop 32), and tags: a standard
  // one or one no schema knows (kept as written, silently: tester stop 32, finding 9b).
  anchorOwnLine: (l, r) => {
    const idx = where(l, OPENER).filter((i) => !/[&*!]/.test(l[i]!) && l[i + 1] !== undefined && /^\s*([\w.-]+:|- )/.test(l[i + 1]!) && indentOf(l[i + 1]!) > keyCol(l[i]!)); if (!idx.length) return null
    const i = pick(idx, r); const cr = l[i]!.endsWith('\r') ? '\r' : ''
    return [...l.slice(0, i + 1), `${ind(l[i + 1]!).replace(/\r/g, '')}&${pick(ANCHOR_NAMES, r)}${cr}`, ...l.slice(i + 1)]
  },
  addTag: (l, r) => { const s = scalarAt(l, r); if (!s) return null; const c = [...l]; c[s.i] = `${head(s.m)} ${pick(['!!str', '!mytag', '!custom/t'], r)} ${s.m[4]}${s.m[5] ?? ''}`; return c },
  inlineAlias: (l, r) => { const idx = where(l, /(^|[\s[{,])\*[\w-]+/); if (!idx.length) return null; const i = pick(idx, r); const c = [...l]; c[i] = c[i]!.replace(/\*[\w-]+/, pick(['"written out"', '{a: 1}', '[x, y]', '~'], r)); return c },
}

const BOM = '\uFEFF'
const ANCHOR_NAMES = ['base', 'defaults', 'shared', 'x']
/** `key: &name …` (and `- &name`, `- key: &name`) after an opener with nothing but the anchor on its line. */
const OPENER_ANCHORED = /^\s*(- )?[\w.-]+: &[\w-]+\s*(#.*)?\r?$/
/** Lines that define an anchor, with its name. */
function anchorLines(l: string[]): Array<[number, string]> {
  const out: Array<[number, string]> = []
  l.forEach((x, i) => { const m = /(?:^|[\s[{,:-])&([\w-]+)/.exec(x); if (m && !/^\s*#/.test(x)) out.push([i, m[1]!]) })
  return out
}

/**
 * The anchor kinds are not among the default kinds (`stacked` without `kinds`): an anchored scalar (and, before
 * stop 31, an anchored collection) is one register, so a stale save or a merge over it keeps its text whole,
 * which the line-wise oracles of the stale-save and dump generators would count as a loss; and adding them would
 * change every seed's stream. The edit generator and the anchor races ask for them.
 */
export const ANCHOR_KINDS = ['addAnchor', 'addAlias', 'mergeKey', 'renameAnchor', 'dropAnchor', 'inlineAlias', 'anchorOwnLine', 'addTag']
/** Not among the default kinds either, so that other generators' seeds keep their streams (the stale-save one has a 'bom' mode). */
export const BOM_KINDS = ['bom', 'bomHead']
export const EDIT_KINDS = Object.keys(EDITS).filter((k) => !ANCHOR_KINDS.includes(k) && !BOM_KINDS.includes(k))

/** One to three edits on `text` (kinds joined by `+`); null when none applied. */
export function stacked(text: string, r: Rng, kinds: readonly string[] = EDIT_KINDS): { kind: string; text: string } | null {
  let lines = text.split('\n')
  const done: string[] = []
  const n = 1 + (r() < 0.6 ? 0 : r() < 0.7 ? 1 : 2)
  for (let k = 0; k < n; k++) {
    const kind = pick(kinds, r)
    const out = EDITS[kind]!(lines, r)
    if (!out) continue
    lines = out
    done.push(kind)
  }
  const next = lines.join('\n')
  return done.length && next !== text ? { kind: done.join('+'), text: next } : null
}
