/**
 * Hooks an older ctxsync installed keep that version's behaviour until `ctxsync hooks install` runs again
 * (the post-rewrite hook of before caa94fd gave ctxsync none of git's input, so a rebase left sync points
 * on the wrong commit): `status` says so and names the command; a fresh install says nothing.
 */
import fsp from 'node:fs/promises'
import path from 'node:path'
import { afterAll, afterEach, describe, expect, it } from 'vitest'
import { ctx, ctxJson, expectOk, freePort, killAll, removeTmpDirs, TODOS } from './helpers.js'
import { bareRemote, CONTEXT_TODOS, founder } from './gitHelpers.js'

afterEach(killAll)
afterAll(removeTmpDirs)

/** The post-rewrite hook `hooks install` wrote before caa94fd (its script; the runner line is filled in). */
const OLD_POST_REWRITE = (runnerLine: string) => `#!/bin/sh
# ctxsync-hook v1
# Installed by \`ctxsync hooks install\`; \`ctxsync hooks uninstall\` removes it and puts back the hook that
# was here before (kept as post-rewrite.pre-ctxsync, run first). ctxsync never makes git fail: its problems are
# warnings and its exit status is ignored.
ctxsync_hook() {
${runnerLine}
  if [ -n "$node" ] && [ -x "$node" ] && [ -f "$bin" ]; then "$node" "$bin" hook "$@"
  elif command -v npx >/dev/null 2>&1; then npx --no-install ctxsync hook "$@"
  else echo "ctxsync: warning: ctxsync is not installed; skipped the $1 hook" >&2; fi
}
status=0
prev="$0.pre-ctxsync"
if [ -x "$prev" ]; then
  # git gives this hook input on stdin: keep it for the previous hook
  input=$(mktemp "\${TMPDIR:-/tmp}/ctxsync-hook.XXXXXX" 2>/dev/null) || input=
  if [ -n "$input" ]; then cat >"$input"; "$prev" "$@" <"$input" || status=$?; rm -f "$input"
  else "$prev" "$@" || status=$?; fi
fi
ctxsync_hook post-rewrite "$@" </dev/null || true
exit $status
`

describe('e2e: hooks an older ctxsync installed', { timeout: 120_000 }, () => {
  it('status warns that the hooks are out of date and names `ctxsync hooks install`; a fresh install has no warning', async () => {
    const remote = await bareRemote({ [TODOS]: CONTEXT_TODOS })
    const { dir } = await founder(remote, 'ann', await freePort())
    const hook = path.join(dir, '.git', 'hooks', 'post-rewrite')

    // Just installed (init --hooks): nothing to say.
    const fresh = await ctxJson(dir, ['status'])
    expect(fresh.git.hooks).toContain('post-rewrite')
    expect(fresh.git.warnings).toEqual([])
    expect((await expectOk(ctx(dir, ['status']))).stdout).not.toMatch(/out of date/)

    // The same installation's runner, with the old script around it.
    const runnerLine = (await fsp.readFile(hook, 'utf8')).split('\n').find((l) => /^ {2}node=/.test(l))!
    expect(runnerLine).toBeTruthy()
    await fsp.writeFile(hook, OLD_POST_REWRITE(runnerLine), { mode: 0o755 })

    const old = await ctxJson(dir, ['status'])
    expect(old.git.warnings).toHaveLength(1)
    expect(old.git.warnings[0]).toMatch(/post-rewrite/)
    expect(old.git.warnings[0]).toMatch(/`ctxsync hooks install`/)
    const text = (await expectOk(ctx(dir, ['status']))).stdout
    expect(text).toMatch(/warning: .*older ctxsync.*`ctxsync hooks install`/)

    // Installing again brings it up to date, and the warning goes.
    const again = await ctxJson(dir, ['hooks', 'install'])
    expect(again.hooks.installed).toEqual(['post-rewrite'])
    expect((await ctxJson(dir, ['status'])).git.warnings).toEqual([])
  })
})
