/**
 * The git repository around a space, through simple-git — plus the two batch readers simple-git cannot
 * express (`cat-file --batch[-check]` fed on stdin), which read many blobs in one process instead of one
 * process per blob: hooks must stay fast and a post-checkout reconcile may look at hundreds of commits.
 *
 * A leaf module like `crdt/`: it knows git, nothing of CRDTs, files' meaning or the network.
 */
import { spawn } from 'node:child_process'
import { createHash } from 'node:crypto'
import fs from 'node:fs'
import path from 'node:path'
import { simpleGit, type SimpleGit } from 'simple-git'
import { logger } from '../debuglog.js'

const log = logger('git')

export type ObjectFormat = 'sha1' | 'sha256'

/** The object id git gives `text` as a blob: lets us compare files with trees without asking git. */
export function gitBlobId(text: string | Buffer, format: ObjectFormat = 'sha1'): string {
  const body = typeof text === 'string' ? Buffer.from(text, 'utf8') : text
  return createHash(format).update(`blob ${body.length}\0`).update(body).digest('hex')
}

/** simple-git refuses to set merge drivers unless told: configuring ours is the point of `hooks install`. */
function gitAt(dir: string): SimpleGit {
  return simpleGit({ baseDir: dir, timeout: { block: 15_000 }, unsafe: { allowUnsafeMergeDriver: true } })
}

export interface CommitInfo {
  hash: string
  parents: string[]
  /** Committer time, unix seconds. */
  time: number
  /** Author time, unix seconds: when the change was made (a rebase or cherry-pick keeps it; its committer time is new). */
  authorTime: number
  author: string
  subject: string
}

export class Repo {
  private constructor(
    /** The work tree's top directory. */
    readonly root: string,
    /** This work tree's git directory (a linked worktree has its own). */
    readonly gitDir: string,
    readonly format: ObjectFormat,
    readonly git: SimpleGit,
  ) {}

  /** The repository containing `dir`, or null when there is none (or no git). */
  static async open(dir: string): Promise<Repo | null> {
    if (!fs.existsSync(dir)) return null
    const sg = gitAt(dir)
    try {
      const out = (await sg.raw(['rev-parse', '--show-toplevel', '--absolute-git-dir', '--show-object-format'])).trim().split('\n')
      if (out.length < 2 || !out[0]) return null
      const root = path.resolve(out[0])
      const format: ObjectFormat = out[2] === 'sha256' ? 'sha256' : 'sha1'
      return new Repo(root, path.resolve(out[1]!), format, root === path.resolve(dir) ? sg : gitAt(root))
    } catch (e) {
      log('no repository at %s: %s', dir, (e as Error).message)
      return null
    }
  }

  raw(args: string[]): Promise<string> {
    return this.git.raw(args)
  }

  /** Like `raw`, but null instead of an error (a ref that does not exist, a config key that is unset). */
  async tryRaw(args: string[]): Promise<string | null> {
    try {
      return await this.git.raw(args)
    } catch {
      return null
    }
  }

  blobId(text: string | Buffer): string {
    return gitBlobId(text, this.format)
  }

  /** The commit HEAD points at; null in a repository without commits. */
  async head(): Promise<string | null> {
    const r = await this.tryRaw(['rev-parse', '--verify', '-q', 'HEAD^{commit}'])
    return r?.trim() || null
  }

  /** The checked-out branch's short name; null when HEAD is detached. */
  async branch(): Promise<string | null> {
    const r = await this.tryRaw(['symbolic-ref', '--short', '-q', 'HEAD'])
    return r?.trim() || null
  }

  async commit(rev: string): Promise<CommitInfo | null> {
    const r = await this.tryRaw(['show', '-s', '--format=%H%x00%P%x00%ct%x00%an%x00%at%x00%s', rev])
    if (!r) return null
    const [hash, parents, time, author, at, subject] = r.trim().split('\0')
    return { hash: hash!, parents: parents ? parents.split(' ') : [], time: Number(time), authorTime: Number(at), author: author ?? '', subject: subject ?? '' }
  }

  /** Commits reachable from `rev`, newest first (topological), at most `max`. */
  async history(rev: string, max: number): Promise<CommitInfo[]> {
    const r = await this.tryRaw(['log', '--topo-order', `--max-count=${max}`, '--format=%H%x00%P%x00%ct%x00%an%x00%at%x00%s%x1e', rev, '--'])
    if (!r) return []
    return r.split('\x1e').map((s) => s.trim()).filter(Boolean).map((s) => {
      const [hash, parents, time, author, at, subject] = s.split('\0')
      return { hash: hash!, parents: parents ? parents.split(' ') : [], time: Number(time), authorTime: Number(at), author: author ?? '', subject: subject ?? '' }
    })
  }

  /** Blob ids of the files of `rev`'s tree accepted by `keep` (one `ls-tree`, whatever the tree's size). */
  async treeBlobs(rev: string, keep: (p: string) => boolean = () => true): Promise<Map<string, string>> {
    const r = await this.tryRaw(['ls-tree', '-r', '-z', '--full-tree', rev])
    const out = new Map<string, string>()
    for (const rec of (r ?? '').split('\0')) {
      const tab = rec.indexOf('\t')
      if (tab < 0) continue
      const [, type, oid] = rec.slice(0, tab).split(' ')
      const p = rec.slice(tab + 1)
      if (type === 'blob' && keep(p)) out.set(p, oid!)
    }
    return out
  }

  /** Blob ids of the index's merged (stage 0) entries accepted by `keep`. */
  async indexBlobs(keep: (p: string) => boolean = () => true): Promise<Map<string, string>> {
    const r = await this.tryRaw(['ls-files', '-s', '-z'])
    const out = new Map<string, string>()
    for (const rec of (r ?? '').split('\0')) {
      const tab = rec.indexOf('\t')
      if (tab < 0) continue
      const [, oid, stage] = rec.slice(0, tab).split(' ')
      const p = rec.slice(tab + 1)
      if (stage === '0' && keep(p)) out.set(p, oid!)
    }
    return out
  }

  /** `rev:path` (or any object name) → object id, null when it does not exist. One process for all. */
  async resolveMany(specs: readonly string[]): Promise<Map<string, string | null>> {
    const out = new Map<string, string | null>()
    if (specs.length === 0) return out
    const text = (await this.batch(['cat-file', '--batch-check=%(objectname) %(objecttype)'], specs.join('\n') + '\n')).toString('utf8')
    const lines = text.split('\n')
    specs.forEach((s, i) => {
      const l = lines[i] ?? ''
      out.set(s, / (blob|commit|tree|tag)$/.test(l) ? l.split(' ')[0]! : null)
    })
    return out
  }

  /** Reads blobs as UTF-8 text. One process for all. */
  async readBlobs(oids: readonly string[]): Promise<Map<string, string>> {
    const out = new Map<string, string>()
    const want = [...new Set(oids)]
    if (want.length === 0) return out
    const buf = await this.batch(['cat-file', '--batch'], want.join('\n') + '\n')
    let at = 0
    for (const oid of want) {
      const nl = buf.indexOf(10, at)
      if (nl < 0) break
      const header = buf.subarray(at, nl).toString('utf8').split(' ')
      at = nl + 1
      if (header[1] === 'missing' || header.length < 3) continue
      const size = Number(header[2])
      out.set(oid, buf.subarray(at, at + size).toString('utf8'))
      at += size + 1
    }
    return out
  }

  async readBlob(oid: string): Promise<string | null> {
    return (await this.readBlobs([oid])).get(oid) ?? null
  }

  /**
   * Runs git for its exit status. simple-git reports a non-zero exit *without stderr output* as success,
   * and some commands answer by exit status alone (`merge-base --is-ancestor`, `config --unset-all`).
   */
  status(args: string[]): Promise<number> {
    return new Promise((resolve) => {
      const c = spawn('git', args, { cwd: this.root, stdio: 'ignore' })
      c.on('error', () => resolve(-1))
      c.on('close', (code) => resolve(code ?? -1))
    })
  }

  /** Whether `a` is an ancestor of (or equal to) `b`. */
  async isAncestor(a: string, b: string): Promise<boolean> {
    return (await this.status(['merge-base', '--is-ancestor', a, b])) === 0
  }

  /**
   * Commits reachable from `rev` but from no remote-tracking branch (made here, not pushed), at most `max`;
   * empty when the clone has no remote-tracking branch (nothing tells whose the commits are).
   */
  async unpushed(rev: string, max: number): Promise<Set<string>> {
    const remote = await this.tryRaw(['for-each-ref', '--count=1', '--format=%(objectname)', 'refs/remotes'])
    if (!remote?.trim()) return new Set()
    const r = await this.tryRaw(['rev-list', `--max-count=${max}`, rev, '--not', '--remotes'])
    return new Set((r ?? '').split('\n').map((s) => s.trim()).filter(Boolean))
  }

  async config(key: string): Promise<string | null> {
    const r = await this.tryRaw(['config', '--get', key])
    return r ? r.replace(/\n$/, '') : null
  }

  /**
   * Every config entry with its scope, in one git process: `hooks install` reads a dozen keys, and a
   * process per key made `init --hooks` spend more time starting git than doing anything.
   */
  async configSnapshot(): Promise<ConfigSnapshot> {
    const r = (await this.tryRaw(['config', '--list', '-z', '--show-scope'])) ?? ''
    const parts = r.split('\0')
    const entries: { scope: string; key: string; value: string }[] = []
    for (let i = 0; i + 1 < parts.length; i += 2) {
      const nl = parts[i + 1]!.indexOf('\n')
      const key = nl < 0 ? parts[i + 1]! : parts[i + 1]!.slice(0, nl)
      entries.push({ scope: parts[i]!, key, value: nl < 0 ? '' : parts[i + 1]!.slice(nl + 1) })
    }
    return new ConfigSnapshot(entries)
  }

  async configAll(key: string): Promise<string[]> {
    const r = await this.tryRaw(['config', '--get-all', key])
    return r ? r.replace(/\n$/, '').split('\n') : []
  }

  async remotes(): Promise<string[]> {
    const r = await this.tryRaw(['remote'])
    return (r ?? '').split('\n').map((s) => s.trim()).filter(Boolean)
  }

  /** Where git looks for hooks: `.git/hooks`, or `core.hooksPath` when set (resolved like git does). */
  async hooksDir(): Promise<string> {
    const r = (await this.raw(['rev-parse', '--git-path', 'hooks'])).trim()
    return path.resolve(this.root, r)
  }

  private batch(args: string[], input: string): Promise<Buffer> {
    return new Promise((resolve, reject) => {
      const c = spawn('git', args, { cwd: this.root, stdio: ['pipe', 'pipe', 'pipe'] })
      const chunks: Buffer[] = []
      let err = ''
      c.stdout.on('data', (b: Buffer) => chunks.push(b))
      c.stderr.on('data', (b: Buffer) => (err += b.toString()))
      c.on('error', reject)
      c.on('close', (code) => (code === 0 ? resolve(Buffer.concat(chunks)) : reject(new Error(`git ${args.join(' ')}: exit ${code}: ${err.trim()}`))))
      c.stdin.on('error', () => undefined)
      c.stdin.end(input)
    })
  }
}

export interface IndexEntry {
  /** Relative to the directory asked about. */
  path: string
  mode: string
  blob: string
}

/**
 * The index entries at or below `rel` (relative to `dir`); [] when `dir` is not in a work tree or git is
 * missing. One `git ls-files` without simple-git: `init` asks before anything else is loaded.
 */
export function indexEntries(dir: string, rel: string): Promise<IndexEntry[]> {
  return new Promise((resolve) => {
    let out = ''
    let child
    try {
      child = spawn('git', ['ls-files', '-s', '-z', '--', rel], { cwd: dir, stdio: ['ignore', 'pipe', 'ignore'] })
    } catch {
      resolve([])
      return
    }
    child.stdout.setEncoding('utf8').on('data', (d: string) => (out += d))
    child.on('error', () => resolve([]))
    child.on('close', (code) => {
      if (code !== 0) return resolve([])
      const entries: IndexEntry[] = []
      for (const rec of out.split('\0')) {
        const m = /^(\d+) ([0-9a-f]+) \d+\t(.*)$/s.exec(rec)
        if (m) entries.push({ mode: m[1]!, blob: m[2]!, path: m[3]! })
      }
      resolve(entries)
    })
  })
}

/** git config as read once; keys compare as git does (section and name case-insensitive, subsection not). */
export class ConfigSnapshot {
  constructor(private readonly entries: { scope: string; key: string; value: string }[]) {}

  /** Every value of `key` (in `scope` only, if given), in git's order. */
  all(key: string, scope?: string): string[] {
    const k = normalKey(key)
    return this.entries.filter((e) => normalKey(e.key) === k && (scope === undefined || e.scope === scope)).map((e) => e.value)
  }

  /** The value git would answer for `key` (the last one). */
  get(key: string, scope?: string): string | null {
    return this.all(key, scope).at(-1) ?? null
  }
}

function normalKey(key: string): string {
  const first = key.indexOf('.')
  const last = key.lastIndexOf('.')
  if (first < 0) return key.toLowerCase()
  return `${key.slice(0, first).toLowerCase()}${key.slice(first, last)}${key.slice(last).toLowerCase()}`
}
