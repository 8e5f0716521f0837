/**
 * Worlds built once per test file and copied for each test: the repositories, clones and `init`s a test
 * starts from (`setupSpace`, `twoPeers`) took ~2 s and ~25 processes each (git, `ctxsync init`, hooks),
 * most of the e2e suite's setup and, on a machine where processes are dear, a large part of CI's time.
 *
 * A world is a set of temp roots (each holding a repository or clones) and the ports its peers listen on.
 * A copy gets new roots and new free ports; the few files that name either are rewritten: each clone's
 * `.git/config` (its remote, a path), a bare repository's `config`, and `.ctxsync/local.yaml` (the port and
 * the peers' URLs). The settings parse caches are dropped (they are keyed by inode: a copy misses anyway).
 * File times are kept, so that the daemon sees files as old as their sidecar state, as in the original.
 *
 * Within one test, the k-th world of one kind is the k-th template: a test that makes two spaces still gets
 * two spaces (two secrets), as before; across tests the same template serves again.
 */
import fsp from 'node:fs/promises'
import path from 'node:path'
import { expect } from 'vitest'
import { freePort, tmpDir, waitRecorders } from './tmp.js'

export interface WorldMap {
  /** The copy's path for a path inside the template's roots. */
  path: (p: string) => string
  port: (p: number) => number
}

interface Template {
  roots: string[]
  ports: number[]
}

const templates = new Map<string, Promise<{ template: Template; value: unknown }>>()
let currentTest: string | undefined
const seenInTest = new Map<string, number>()

/**
 * Builds the world `kind` once (per occurrence within a test), then returns a fresh copy of it each call.
 * `build` returns the world's value with the roots and ports to copy; `rebase` maps that value to a copy's.
 */
export async function reusedWorld<T>(kind: string, build: () => Promise<{ value: T } & Template>, rebase: (v: T, m: WorldMap) => T): Promise<T> {
  const test = expect.getState().currentTestName
  if (test !== currentTest) {
    currentTest = test
    seenInTest.clear()
  }
  const k = seenInTest.get(kind) ?? 0
  seenInTest.set(kind, k + 1)
  const key = `${kind}#${k}`
  let got = templates.get(key)
  // A file's afterAll (or a second describe's) may have removed the template's directories: build anew.
  if (got && !(await got.then((g) => fsp.access(g.template.roots[0]!).then(() => true, () => false), () => false))) got = undefined
  if (!got) {
    got = build().then(async ({ value, roots, ports }) => {
      await waitRecorders(roots)
      return { template: { roots, ports }, value }
    })
    templates.set(key, got)
  }
  const { template, value } = await got
  return rebase(value as T, await copyWorld(template))
}

async function copyWorld(t: Template): Promise<WorldMap> {
  const roots = new Map<string, string>()
  for (const old of t.roots) {
    const fresh = await tmpDir(`${path.basename(old).replace(/[^-]*$/, '')}`)
    await fsp.cp(old, fresh, { recursive: true, preserveTimestamps: true, verbatimSymlinks: true })
    roots.set(old, fresh)
  }
  const ports = new Map<number, number>()
  for (const p of t.ports) ports.set(p, await freePort())
  const map: WorldMap = {
    path: (p) => {
      for (const [old, fresh] of roots) if (p === old || p.startsWith(old + path.sep)) return fresh + p.slice(old.length)
      throw new Error(`${p} is not inside the world's roots`)
    },
    port: (p) => {
      const n = ports.get(p)
      if (n === undefined) throw new Error(`port ${p} is not the world's`)
      return n
    },
  }
  const rewrite = (text: string): string => {
    for (const [old, fresh] of roots) text = text.replaceAll(old + path.sep, fresh + path.sep)
    for (const [old, fresh] of ports) text = text.replace(new RegExp(`(port: |127\\.0\\.0\\.1:)${old}\\b`, 'g'), `$1${fresh}`)
    return text
  }
  for (const root of roots.values()) {
    for (const entry of await fsp.readdir(root)) {
      const dir = path.join(root, entry)
      for (const f of [path.join(dir, '.git', 'config'), path.join(dir, 'config'), path.join(dir, '.ctxsync', 'local.yaml')]) {
        const text = await fsp.readFile(f, 'utf8').catch(() => null)
        if (text !== null) await fsp.writeFile(f, rewrite(text))
      }
      const state = path.join(dir, '.ctxsync')
      for (const f of await fsp.readdir(state).catch(() => [] as string[])) {
        if (f.endsWith('.parsed.json')) await fsp.rm(path.join(state, f))
      }
    }
  }
  return map
}
