/**
 * ctxsync as another repository gets it: `npm pack` of this checkout, the tarball installed as a dev
 * dependency of a fresh git repository, then `npx ctxsync --version` and `npx ctxsync init` there.
 *
 * Why: the package is not on the npm registry yet, so a tarball (or a git URL, which npm turns into the same
 * packed files after running `prepare`) is how it reaches other repositories. This catches a `files` list
 * that leaves out what bin/ctxsync loads, a bin that only works from its own checkout, and an install that
 * needs this checkout's toolchain.
 *
 * `npm pack --ignore-scripts` packs the dist/ already built (other test files run the CLI from it meanwhile;
 * rebuilding it under them would break them).
 *
 * The install is `--offline`: tests send nothing beyond this machine (DEVELOPERS.md, network rule). After
 * `npm ci` the npm cache holds the *tarball* of every package this project's lock names, but none of their
 * registry documents (packuments): npm ci installs by the lock's version and integrity and never asks which
 * versions exist. A bare `npm install <tarball>` must resolve ctxsync's `^` ranges, which needs those
 * documents, so in a fresh CI run it failed ENOTCACHED (and the test skipped). The other repository is
 * therefore given a lock naming ctxsync's runtime dependencies at the versions this project's lock pins
 * (what `npm install` would pick today, short of newer releases): `npm install --save-dev <tarball>` then
 * takes them from the lock and fetches only tarballs, all in the cache. Where the cache lacks one (no
 * `npm ci` here), the test skips saying so — except under CI=true, where it must run and fails instead.
 * npx runs with `npm_config_offline=true`, so it can only find the installed bin and never asks the registry.
 */
import fs from 'node:fs'
import path from 'node:path'
import { execa } from 'execa'
import { afterAll, describe, expect, it } from 'vitest'
import { makeRepo, repoRoot, removeTmpDirs, SMALL_TODOS, tmpDir, TODOS } from './helpers.js'

afterAll(removeTmpDirs)

const version = JSON.parse(fs.readFileSync(path.join(repoRoot, 'package.json'), 'utf8')).version as string

/**
 * The environment of every npm run: this process's (npm_config_* included: a CI's registry or cache setting
 * reaches the nested npm), minus what `npm test` exports about *this* project (npm_package_*,
 * npm_lifecycle_*, the local prefix), which would point the nested npm back here.
 */
const THIS_PROJECT = /^npm_(package_|lifecycle_|command$|config_local_prefix$)/i
function npmEnv(extra: Record<string, string> = {}): Record<string, string> {
  const env: Record<string, string> = {}
  for (const [k, v] of Object.entries(process.env)) if (v !== undefined && !THIS_PROJECT.test(k)) env[k] = v
  return { ...env, NO_COLOR: '1', CTXSYNC_NO_MDNS: '1', GIT_TERMINAL_PROMPT: '0', ...extra }
}

async function run(cmd: string, args: string[], cwd: string, extra: Record<string, string> = {}) {
  const r = await execa(cmd, args, { cwd, reject: false, env: npmEnv(extra), extendEnv: false, stdin: 'ignore', timeout: 60_000 })
  return { exitCode: r.exitCode ?? -1, stdout: String(r.stdout), stderr: String(r.stderr) }
}

/**
 * A package-lock.json for a project with no dependencies yet, listing ctxsync's runtime dependencies (every
 * package of this project's lock not marked dev) at the same node_modules paths. npm keeps them as found
 * while it adds the tarball, as they satisfy ctxsync's ranges, so it needs no registry document.
 */
function lockOfRuntimeDeps(name: string, version: string) {
  const ours = JSON.parse(fs.readFileSync(path.join(repoRoot, 'package-lock.json'), 'utf8')) as {
    packages: Record<string, { dev?: boolean }>
  }
  const packages: Record<string, unknown> = { '': { name, version } }
  for (const [at, pkg] of Object.entries(ours.packages)) if (at !== '' && !pkg.dev) packages[at] = pkg
  return { name, version, lockfileVersion: 3, requires: true, packages }
}

const show = (what: string, r: { exitCode: number; stdout: string; stderr: string }) =>
  `${what}: exit ${r.exitCode}\nstdout: ${r.stdout}\nstderr: ${r.stderr}`

describe('e2e: the packed package in another repository', { timeout: 120_000 }, () => {
  it('npm pack ships bin/ and dist/; installed from the tarball, npx ctxsync --version and init work', async (t) => {
    const out = await tmpDir('ctxsync-pack-')
    const packed = await run('npm', ['pack', '--ignore-scripts', '--json', '--pack-destination', out], repoRoot)
    expect(packed.exitCode, show('npm pack', packed)).toBe(0)
    const [info] = JSON.parse(packed.stdout) as [{ filename: string; files: { path: string }[] }]
    const files = info.files.map((f) => f.path)
    // What bin/ctxsync imports: the bundle (used when at least as new as dist/, as in a tarball where every
    // mtime is the same) and dist/ itself, with the parse worker the bundle starts from beside it.
    expect(files).toEqual(expect.arrayContaining(['bin/ctxsync', 'package.json', 'dist/entry.js', 'dist/bundle/entry.js', 'dist/bundle/parse-worker.js']))
    expect(files.filter((f) => /^(src|test|bench|fixtures|scripts)\//.test(f))).toEqual([])
    const tarball = path.join(out, info.filename)

    // A repository of someone else's: context files, its own package.json, committed.
    const repo = await makeRepo({
      [TODOS]: SMALL_TODOS,
      'package.json': JSON.stringify({ name: 'some-project', version: '1.0.0', private: true }, null, 2) + '\n',
    })
    fs.writeFileSync(path.join(repo, 'package-lock.json'), JSON.stringify(lockOfRuntimeDeps('some-project', '1.0.0'), null, 2) + '\n')
    const flags = ['install', '--save-dev', '--no-audit', '--no-fund', tarball]
    const inst = await run('npm', [...flags, '--offline'], repo)
    if (inst.exitCode !== 0 && /ENOTCACHED|not in the cache|offline/i.test(inst.stderr) && !process.env.CI) {
      t.skip(`the npm cache lacks some of ctxsync's dependencies and this test installs offline only (run \`npm ci\` first): ${inst.stderr.trim().split('\n')[0]}`)
    }
    expect(inst.exitCode, show('npm install <tarball>', inst)).toBe(0)
    const manifest = JSON.parse(fs.readFileSync(path.join(repo, 'package.json'), 'utf8'))
    expect(manifest.devDependencies.ctxsync).toMatch(/^file:.*\.tgz$/)
    // npx must find the installed copy, not this checkout (the repository is outside it, under the temp dir).
    expect(fs.realpathSync(path.join(repo, 'node_modules/.bin/ctxsync'))).toBe(fs.realpathSync(path.join(repo, 'node_modules/ctxsync/bin/ctxsync')))

    const offline = { npm_config_offline: 'true' }
    const v = await run('npx', ['ctxsync', '--version'], repo, offline)
    expect(v.exitCode, show('npx ctxsync --version', v)).toBe(0)
    expect(v.stdout.trim()).toBe(version)

    const init = await run('npx', ['ctxsync', 'init', '--name', 'packed', '--discovery', 'none', '--json'], repo, offline)
    expect(init.exitCode, show('npx ctxsync init', init)).toBe(0)
    const data = JSON.parse(init.stdout)
    expect(data.created).toEqual(expect.arrayContaining(['ctxsync.yaml', '.ctxsync/identity.json']))
    expect(data.enrolled).toEqual([TODOS])
    expect(fs.readFileSync(path.join(repo, 'ctxsync.yaml'), 'utf8')).toContain(`space: ${data.space}`)

    const status = await run('npx', ['ctxsync', 'status', '--check', '--json'], repo, offline)
    expect(status.exitCode, show('npx ctxsync status --check', status)).toBe(0)
    expect(JSON.parse(status.stdout).space).toBe(data.space)
  })
})
