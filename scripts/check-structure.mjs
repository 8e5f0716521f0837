/**
 * The structure check: the layout rules of DEVELOPERS.md that a reviewer would otherwise have to hold in
 * their head, checked on every run. It fails (exit 1, one line per problem with file:line) on
 *   (a) an import cycle anywhere in src/ — type-only (`import type`), re-export (`export … from`) and
 *       dynamic (`import('…')`) edges count: a type-only cycle is still two modules that cannot be read,
 *       tested or moved apart, and a lazy import is still a dependency;
 *   (b) a command (src/commands/) importing below the space façade: commands talk to a space only through
 *       `src/space/index.ts`, so the space's inside can change without touching them;
 *   (c) a src/ module over MAX_LINES lines (the brief asks for under 300; 400 is the hard limit).
 *
 * Imports are read with the TypeScript compiler's own pre-processor (`ts.preProcessFile`), which finds
 * every static, type-only, re-export and dynamic import without a full parse, so the check takes well
 * under a second. Only relative specifiers are followed; packages and `node:` modules are not the layout.
 *
 * Usage: node scripts/check-structure.mjs   (prints "structure: ok" and exits 0 when all rules hold)
 */
import fs from 'node:fs'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import ts from 'typescript'

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..')
const SRC = path.join(root, 'src')

/** The hard limit on a module's length (rule c). */
const MAX_LINES = 400

/**
 * What a command may import from src/ (rule b), besides its sibling commands: the space façade, which
 * hides the orchestrator, the CRDT, the store, the network and git; and the top-level shared leaves that
 * every layer uses (typed errors and exit codes, branded ids, output formatting, logs, what is visible).
 */
const COMMANDS_DIR = 'src/commands/'
const COMMANDS_MAY_IMPORT = new Set([
  'src/space/index.ts',
  'src/errors.ts',
  'src/ids.ts',
  'src/output.ts',
  'src/output-git.ts',
  'src/debuglog.ts',
  'src/visible.ts',
])

/** Every .ts module under src/, as paths relative to the project root with forward slashes. */
function modules(dir) {
  const out = []
  for (const d of fs.readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, d.name)
    if (d.isDirectory()) out.push(...modules(p))
    else if (d.name.endsWith('.ts') && !d.name.endsWith('.d.ts')) out.push(rel(p))
  }
  return out.sort()
}

const rel = (abs) => path.relative(root, abs).split(path.sep).join('/')

/** The module a relative specifier names (`./x.js` is `./x.ts` under NodeNext resolution), or null. */
function resolve(from, spec) {
  if (!spec.startsWith('.')) return null
  const base = path.resolve(root, path.dirname(from), spec)
  const candidates = [base.replace(/\.(m?)js$/, '.$1ts'), base, base + '.ts', path.join(base, 'index.ts')]
  for (const c of candidates) if (c.endsWith('.ts') && fs.existsSync(c) && fs.statSync(c).isFile()) return rel(c)
  return null
}

function lineOf(text, pos) {
  let n = 1
  for (let i = 0; i < pos; i++) if (text.charCodeAt(i) === 10) n++
  return n
}

const files = modules(SRC)
/** file → [{ to, line }] */
const edges = new Map()
const problems = []

for (const f of files) {
  const text = fs.readFileSync(path.join(root, f), 'utf8')
  const lines = text.length === 0 ? 0 : text.split('\n').length - (text.endsWith('\n') ? 1 : 0)
  if (lines > MAX_LINES) problems.push(`${f}:1: ${lines} lines (limit ${MAX_LINES})`)
  const out = []
  for (const imp of ts.preProcessFile(text, true, true).importedFiles) {
    const to = resolve(f, imp.fileName)
    const line = lineOf(text, imp.pos)
    if (imp.fileName.startsWith('.') && to === null) problems.push(`${f}:${line}: import '${imp.fileName}' resolves to no module under src/`)
    if (to === null) continue
    out.push({ to, line })
    if (f.startsWith(COMMANDS_DIR) && !to.startsWith(COMMANDS_DIR) && !COMMANDS_MAY_IMPORT.has(to)) {
      problems.push(`${f}:${line}: a command imports ${to} (commands import only src/space/index.ts and the shared leaves)`)
    }
  }
  edges.set(f, out)
}

// (a) Cycles: Tarjan's strongly connected components; each component with more than one module (or a
// module importing itself) is reported once, with one concrete cycle through it, edge by edge.
let index = 0
const idx = new Map()
const low = new Map()
const stack = []
const onStack = new Set()
const components = []
function strongConnect(v) {
  idx.set(v, index)
  low.set(v, index++)
  stack.push(v)
  onStack.add(v)
  for (const { to } of edges.get(v) ?? []) {
    if (!idx.has(to)) {
      strongConnect(to)
      low.set(v, Math.min(low.get(v), low.get(to)))
    } else if (onStack.has(to)) low.set(v, Math.min(low.get(v), idx.get(to)))
  }
  if (low.get(v) === idx.get(v)) {
    const comp = []
    let w
    do {
      w = stack.pop()
      onStack.delete(w)
      comp.push(w)
    } while (w !== v)
    components.push(comp)
  }
}
for (const f of files) if (!idx.has(f)) strongConnect(f)

/** A shortest cycle through `start` inside its component (breadth-first), as edges with their lines. */
function cycleThrough(start, comp) {
  const inComp = new Set(comp)
  const prev = new Map()
  const queue = [start]
  const seen = new Set([start])
  while (queue.length) {
    const v = queue.shift()
    for (const e of edges.get(v) ?? []) {
      if (e.to === start) {
        const path = [{ from: v, ...e }]
        let at = v
        while (at !== start) {
          const p = prev.get(at)
          path.unshift(p)
          at = p.from
        }
        return path
      }
      if (inComp.has(e.to) && !seen.has(e.to)) {
        seen.add(e.to)
        prev.set(e.to, { from: v, ...e })
        queue.push(e.to)
      }
    }
  }
  return []
}

for (const comp of components) {
  const selfLoop = comp.length === 1 && (edges.get(comp[0]) ?? []).some((e) => e.to === comp[0])
  if (comp.length < 2 && !selfLoop) continue
  const start = [...comp].sort()[0]
  const cycle = cycleThrough(start, comp)
  problems.push(`import cycle (${comp.length} modules: ${[...comp].sort().join(', ')}):`)
  for (const e of cycle) problems.push(`  ${e.from}:${e.line}: imports ${e.to}`)
}

if (problems.length) {
  for (const p of problems) console.log(p)
  console.log(`structure: ${problems.filter((p) => !p.startsWith('  ')).length} problem(s)`)
  process.exit(1)
}
console.log(`structure: ok (${files.length} modules, no cycle, commands behind src/space/index.ts, none over ${MAX_LINES} lines)`)
