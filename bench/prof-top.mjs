/**
 * Summarises a V8 CPU profile (`node --cpu-prof …` writes *.cpuprofile): self time per function, per
 * source file and per package, and inclusive time of the functions that match `--focus REGEX`.
 *
 *   node --cpu-prof --cpu-prof-dir /tmp/prof bench/crdt-ingest.mjs --quick
 *   node bench/prof-top.mjs /tmp/prof/*.cpuprofile [--top N] [--focus 'ingest|render']
 */
import fs from 'node:fs'
import { arg } from './lib.mjs'

const top = Number(arg('top', 25))
const focus = arg('focus') ? new RegExp(arg('focus')) : null
const files = process.argv.slice(2).filter((a, i, all) => a.endsWith('.cpuprofile') && !['--top', '--focus'].includes(all[i - 1]))
if (!files.length) {
  console.error('usage: node bench/prof-top.mjs FILE.cpuprofile… [--top N] [--focus REGEX]')
  process.exit(2)
}

const short = (url) => {
  if (!url) return '(native)'
  const nm = url.lastIndexOf('node_modules/')
  if (nm >= 0) return url.slice(nm + 13)
  const d = url.indexOf('/dist/')
  if (d >= 0) return url.slice(d + 1)
  return url.replace(/^file:\/\//, '')
}
const pkg = (url) => {
  if (!url) return '(native/gc)'
  const nm = url.lastIndexOf('node_modules/')
  if (nm >= 0) {
    const rest = url.slice(nm + 13).split('/')
    return rest[0].startsWith('@') ? `${rest[0]}/${rest[1]}` : rest[0]
  }
  const d = url.indexOf('/dist/')
  if (d >= 0) return url.slice(d + 1).split('/').slice(0, 2).join('/')
  if (url.startsWith('node:')) return 'node:internal'
  return short(url)
}

for (const file of files) {
  const p = JSON.parse(fs.readFileSync(file, 'utf8'))
  const byId = new Map(p.nodes.map((n) => [n.id, n]))
  const parent = new Map()
  for (const n of p.nodes) for (const c of n.children ?? []) parent.set(c, n.id)
  const self = new Map()
  const dt = p.timeDeltas
  for (let i = 0; i < p.samples.length; i++) self.set(p.samples[i], (self.get(p.samples[i]) ?? 0) + (dt[i] ?? 0) / 1000)
  const total = [...self.values()].reduce((a, b) => a + b, 0)
  const add = (m, k, v) => m.set(k, (m.get(k) ?? 0) + v)
  const fn = new Map()
  const perFile = new Map()
  const perPkg = new Map()
  for (const [id, ms] of self) {
    const cf = byId.get(id).callFrame
    const name = cf.functionName || '(anonymous)'
    add(fn, `${name}  ${short(cf.url)}:${cf.lineNumber + 1}`, ms)
    add(perFile, short(cf.url), ms)
    add(perPkg, pkg(cf.url), ms)
  }
  const show = (title, m, n) => {
    console.log(`\n${title}`)
    for (const [k, v] of [...m].sort((a, b) => b[1] - a[1]).slice(0, n)) console.log(`  ${v.toFixed(0).padStart(7)} ms ${((100 * v) / total).toFixed(1).padStart(5)}%  ${k}`)
  }
  console.log(`# ${file}: ${total.toFixed(0)} ms sampled`)
  show('self time by package', perPkg, 15)
  show('self time by file', perFile, 15)
  show('self time by function', fn, top)
  if (focus) {
    // Inclusive time of every function matching `focus` (counted once per sample even if recursive).
    const incl = new Map()
    for (let i = 0; i < p.samples.length; i++) {
      const seen = new Set()
      for (let id = p.samples[i]; id !== undefined; id = parent.get(id)) {
        const cf = byId.get(id).callFrame
        const k = `${cf.functionName || '(anonymous)'}  ${short(cf.url)}:${cf.lineNumber + 1}`
        if (focus.test(k) && !seen.has(k)) {
          seen.add(k)
          add(incl, k, (dt[i] ?? 0) / 1000)
        }
      }
    }
    show(`inclusive time of functions matching ${focus}`, incl, top)
  }
}
