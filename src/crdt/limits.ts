/**
 * What a document's state may hold, as named numbers, and the budget every rendering stays within.
 *
 * A peer is trusted with the space's secret, not with its bytes: one well-formed update of ~50 bytes
 * setting an indentation of 200,000,000 made every peer that rendered it allocate gigabytes (and fail on
 * every restart, the update being stored), and two nodes placed under each other made walks up the tree
 * spin forever. `guard.ts` refuses updates that would leave a state outside these limits; the renderer
 * and the tree's walks bound themselves by them too, whatever a stored state (from an older version)
 * holds. Every limit is far above what real files hold; nesting and size are bounded by the parser
 * already (`parse.ts` DEFAULT_LIMITS), and the few a file that parses could still exceed (an indentation,
 * a key, the number of nodes) are refused where the file is written (`checkIR`), so the updates of an
 * honest peer never meet one.
 */
import { childrenOf, type DocIR, type Node } from './ir.js'

/** The parser's size limit (`parse.ts` DEFAULT_LIMITS.maxBytes; not imported: parse → render → here). */
const PARSE_MAX_BYTES = 16 * 1024 * 1024

/** Levels of nodes from the root (the parser refuses collections nested deeper than 256). */
export const MAX_DEPTH = 300
/** Walks up a placement chain stop here: a state the guard admitted is never deeper (see guard.ts). */
export const MAX_WALK = 2 * MAX_DEPTH + 2
/** Relative indentation of a block collection or block scalar, in columns. */
export const MAX_INDENT = 4096
/** A value, comment or separator register: as large as a file the parser reads. */
export const MAX_VALUE_CHARS = PARSE_MAX_BYTES
/** A key, an order key, a conflict or author field. */
export const MAX_KEY_CHARS = 64 * 1024
/** A tombstone's state vector. */
export const MAX_TOMBSTONE_BYTES = 64 * 1024
/** Registers in one document (a 16 MiB file has about 1.2 million). */
export const MAX_REGISTERS = 2_000_000
/** Characters one rendering may produce before it gives up: twice the largest file the parser reads. */
export const MAX_RENDER_CHARS = 2 * PARSE_MAX_BYTES

/**
 * A document whose state cannot be rendered within the limits (it came from an older version or a
 * peer that got past them). The file is held with `reason`; nothing is written.
 */
export class DamagedStateError extends Error {
  constructor(readonly reason: string) {
    super(reason)
    this.name = 'DamagedStateError'
  }
}

/** Throws when `chars` more characters would take a rendering past its budget. */
export function spend(used: number, chars: number): void {
  if (used + chars > MAX_RENDER_CHARS) throw new DamagedStateError(`its synced state renders to more than ${MAX_RENDER_CHARS} characters`)
}

/** An indentation read from a stored descriptor, clamped so that no stored number can make a line huge. */
export function clampIndent(n: number): number {
  if (!Number.isFinite(n)) return 0
  return Math.max(-MAX_INDENT, Math.min(MAX_INDENT, Math.trunc(n)))
}

/** Nodes one file may have: each takes up to ~8 registers, so its peers never meet MAX_REGISTERS. */
export const MAX_FILE_NODES = Math.floor(MAX_REGISTERS / 8)

/**
 * The same limits on a file's own text (a local edit, an enrollment): what this peer writes, every peer
 * accepts. The parser already bounds nesting and size; an indentation or key beyond the limits, or more
 * nodes than MAX_FILE_NODES, is refused here with a plain reason (null when the file is within them).
 * IR nodes are shared between successive parses of a file (`incremental.ts`), so what a subtree holds is
 * remembered per node object: an edit costs the path to it, not the whole file (10–30 ms for 1 MB).
 */
export function checkIR(ir: DocIR): string | null {
  if (!ir.root) return null
  const r = subtree(ir.root)
  if (typeof r === 'string') return r
  return r > MAX_FILE_NODES ? `it has more than ${MAX_FILE_NODES} entries, items and lines; ctxsync syncs files up to that` : null
}

const subtrees = new WeakMap<Node, number | string>()

/** Nodes below `n`, or why `n`'s subtree is beyond the limits. */
function subtree(n: Node): number | string {
  const hit = subtrees.get(n)
  if (hit !== undefined) return hit
  let out: number | string = 0
  if ((n.t === 'map' || n.t === 'seq' || n.t === 'block') && Math.abs(n.indent) > MAX_INDENT) {
    out = `it is indented by ${Math.abs(n.indent)} columns somewhere; ctxsync syncs indentation up to ${MAX_INDENT}`
  } else if (n.t === 'block') out = n.lines.length
  else {
    for (const c of childrenOf(n) ?? []) {
      if ('key' in c && (c.key.length > MAX_KEY_CHARS || c.keyRaw.length > MAX_KEY_CHARS)) {
        out = `it has a key of more than ${MAX_KEY_CHARS} characters`
        break
      }
      const below = subtree(c.value)
      if (typeof below === 'string') {
        out = below
        break
      }
      out += 1 + below
    }
  }
  subtrees.set(n, out)
  return out
}
