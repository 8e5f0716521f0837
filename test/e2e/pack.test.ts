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
 * rebuilding it under them would break them). The install is `--offline` (after `npm ci` the cache holds every
 * runtime dependency: no traffic at all); with a cold cache the test skips, saying so. npx runs with `npm_config_offline=true`, so it can only find the
 * installed bin and never asks the registry.
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
    const flags = ['install', '--save-dev', '--no-audit', '--no-fund', tarball]
    // Offline only: tests send nothing beyond this machine (DEVELOPERS.md, network rule).
    const inst = await run('npm', [...flags, '--offline'], repo)
    if (inst.exitCode !== 0 && /ENOTCACHED|not in the cache|offline/i.test(inst.stderr)) {
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
