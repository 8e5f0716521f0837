/**
 * `sync` in terminals that cannot draw a spinner (issue 17): a pseudo-terminal with 0 columns (`script`,
 * `docker run -t` before a resize, `expect`) made ora redraw endlessly — gigabytes of escape codes at
 * 100 % CPU, deaf to --timeout and SIGTERM. Now plain progress lines there, and under TERM=dumb; the
 * run ends within its --timeout. The peer is a TCP listener on 127.0.0.1 that never answers.
 *
 * SIGTERM ends a sync that waits on such a peer at once, as the signal does (143 in a shell), with or without
 * a terminal, and so does Ctrl-C under the spinner (130); nothing is left that holds the next sync up.
 *
 * Colour (issue 17: "NO_COLOR, TERM=dumb, non-TTY all plain"): on a pseudo-terminal with a width, `status` and
 * `sync` under NO_COLOR=1 or TERM=dumb print no colour escape at all (the spinner was cyan under NO_COLOR).
 */
import net from 'node:net'
import { execa } from 'execa'
import { afterAll, afterEach, expect, it } from 'vitest'
import { CLI, ctx, expectOk, freePort, killAll, makeRepo, removeTmpDirs, setupSpace, startWatch, stopWatch, TODOS, waitFor, type Peer } from './helpers.js'

afterAll(removeTmpDirs)
afterEach(killAll)

async function silentPeer(): Promise<{ url: string; close(): void; connected(): number }> {
  const sockets: net.Socket[] = []
  const server = net.createServer((s) => void sockets.push(s))
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r))
  const { port } = server.address() as net.AddressInfo
  return { url: `ws://127.0.0.1:${port}`, close: () => (sockets.forEach((s) => s.destroy()), server.close()), connected: () => sockets.length }
}

it.skipIf(process.platform !== 'linux')('sync in a 0-column pseudo-terminal and under TERM=dumb ends within --timeout, without escape floods', async () => {
  const dir = await makeRepo({ [TODOS]: 'todos: []\n' })
  await expectOk(ctx(dir, ['init', '--name', 'tty', '--discovery', 'none']))
  const peer = await silentPeer()
  try {
    for (const term of ['xterm-256color', 'dumb']) {
      const t0 = Date.now()
      // `script` gives the run a real pseudo-terminal; stty sets it to 0 columns, as a fresh `docker run -t` has.
      const r = await execa('script', ['-qec', `stty cols 0 rows 0; node ${CLI} sync --peer ${peer.url} --timeout 2 </dev/null; echo "exit $?"`, '/dev/null'], {
        cwd: dir, reject: false, timeout: 30_000, env: { TERM: term, CTXSYNC_NO_MDNS: '1', CTXSYNC_SECRET: undefined }, stdin: 'ignore',
      })
      const ms = Date.now() - t0
      expect(r.timedOut, `${term}: still running after 30 s`).toBe(false)
      expect(ms, term).toBeLessThan(15_000)
      expect(String(r.stdout), term).toMatch(/exit 3/)
      // Nothing was edited: no "Local changes to 1 file(s) … stay pending" (issue 17).
      expect(String(r.stdout), term).toMatch(/1 file\(s\) not yet exchanged with any peer are kept here/)
      expect(String(r.stdout).length, `${term}: output size`).toBeLessThan(10_000)
      expect(String(r.stdout), term).not.toMatch(/\x1b\[1A/)
    }
  } finally {
    peer.close()
  }
}, 90_000)

it('a reader that stops early (`blame F | head -1`) ends the command quietly, exit 0, no stack trace', async () => {
  const fs = await import('node:fs')
  const path = await import('node:path')
  const big = fs.readFileSync(path.join(import.meta.dirname, '../../fixtures/rhema/.rhema/rhema.yaml'), 'utf8')
  const dir = await makeRepo({ '.rhema/rhema.yaml': big })
  await expectOk(ctx(dir, ['init', '--name', 'pipe', '--discovery', 'none']))
  const r = await execa('bash', ['-c', `node ${CLI} blame .rhema/rhema.yaml | head -1 >/dev/null; echo "rc=\${PIPESTATUS[0]}"`], { cwd: dir, reject: false, env: { CTXSYNC_NO_MDNS: '1' } })
  expect(String(r.stdout).trim()).toBe('rc=0')
  expect(String(r.stderr)).not.toMatch(/EPIPE|Unhandled/)
}, 60_000)

it('`watch 2>&1 | tee log`, then Ctrl-C (the reader ends first): the daemon still stops cleanly, exit 0', async () => {
  const dir = await makeRepo({ [TODOS]: 'todos:\n  - id: t1\n    title: "One"\n' })
  await expectOk(ctx(dir, ['init', '--name', 'tee', '--discovery', 'none', '--port', String(await freePort())]))
  // The reader of the daemon's log goes away (tee got Ctrl-C too), then the daemon gets SIGINT and writes its
  // 'stopping' line into the closed pipe: it died on that EPIPE (exit 1, peers saw 1006; black-box tester).
  const d = execa('node', [CLI, 'watch'], { cwd: dir, reject: false, env: { CTXSYNC_NO_MDNS: '1' }, stdin: 'ignore', buffer: false })
  let log = ''
  d.stderr!.setEncoding('utf8')
  d.stderr!.on('data', (c: string) => (log += c))
  await waitFor(() => log.includes('listening on'), 20_000, 'the daemon to listen', () => log)
  d.stderr!.destroy()
  d.stdout!.destroy()
  d.kill('SIGINT')
  const r = await d
  expect(r.exitCode).toBe(0)
  expect((await ctx(dir, ['status'])).stdout).toMatch(/not running/)
}, 60_000)

/** SGR sequences: what sets colours and styles (cursor moves and line clears are not colour). */
const SGR = /\x1b\[[0-9;]*m/

it.skipIf(process.platform !== 'linux')('NO_COLOR=1 and TERM=dumb: no colour escapes from status and sync on a terminal', async () => {
  const { peers } = await setupSpace(['a', 'b'])
  const [a, b] = peers as [Peer, Peer]
  const da = await startWatch(a)
  // A terminal 80 columns wide, as an interactive one is: the spinner draws there.
  const run = async (env: Record<string, string | undefined>) => {
    const r = await execa('script', ['-qec', `stty cols 80 rows 24; node ${CLI} status; node ${CLI} sync --peer ${a.url} --timeout 20 </dev/null; echo "exit $?"`, '/dev/null'], {
      cwd: b.dir, reject: false, timeout: 60_000, stdin: 'ignore',
      env: { CTXSYNC_NO_MDNS: '1', CTXSYNC_SECRET: undefined, NO_COLOR: undefined, FORCE_COLOR: undefined, ...env },
    })
    expect(r.timedOut).toBe(false)
    const text = String(r.stdout)
    expect(text.replace(/\x1b\[[0-9;?]*[A-Za-z]/g, ''), JSON.stringify(env)).toMatch(/synced\s+a ws:\/\/127\.0\.0\.1:\d+[\s\S]*exit 0/)
    return text
  }
  // Coloured where colour is wanted: the checks below would pass on nothing otherwise.
  expect(await run({ TERM: 'xterm-256color' })).toMatch(SGR)
  for (const env of [{ TERM: 'xterm-256color', NO_COLOR: '1' }, { TERM: 'dumb' }]) {
    const text = await run(env)
    expect(text, JSON.stringify(env)).toMatch(/daemon not running/)
    expect(JSON.stringify(text.match(SGR)), JSON.stringify(env)).toBe('null')
  }
  await stopWatch(da)
}, 120_000)

it.skipIf(process.platform !== 'linux')('SIGTERM ends a sync that waits for a silent peer (143), on a pipe and in a 0-column terminal; so does Ctrl-C (130)', async () => {
  const dir = await makeRepo({ [TODOS]: 'todos: []\n' })
  await expectOk(ctx(dir, ['init', '--name', 'term', '--discovery', 'none']))
  const peer = await silentPeer()
  const env = { CTXSYNC_NO_MDNS: '1', CTXSYNC_SECRET: undefined, TERM: 'xterm-256color' }
  try {
    // --timeout 600: only the signal can end it before the test's own 60 s guard (timedOut).
    const plain = execa('node', [CLI, 'sync', '--peer', peer.url, '--timeout', '600'], { cwd: dir, reject: false, timeout: 60_000, env, stdin: 'ignore' })
    await waitFor(() => peer.connected() >= 1, 20_000, 'the sync to dial the silent peer')
    plain.kill('SIGTERM')
    const r = await plain
    expect(r.timedOut).toBe(false)
    expect(r.signal).toBe('SIGTERM')

    // The same inside a pseudo-terminal with no width (where ora once made it deaf to SIGTERM); the shell
    // becomes the sync (exec), so its pid is the sync's.
    let out = ''
    const dialled = peer.connected()
    const tty = execa('script', ['-qec', `stty cols 0 rows 0; echo "pid $$"; exec node ${CLI} sync --peer ${peer.url} --timeout 600 </dev/null`, '/dev/null'], {
      cwd: dir, reject: false, timeout: 60_000, env, stdin: 'ignore', buffer: false,
    })
    tty.stdout!.setEncoding('utf8')
    tty.stdout!.on('data', (c: string) => (out += c))
    await waitFor(() => /pid \d+/.test(out) && peer.connected() > dialled, 20_000, 'the sync in the terminal to dial', () => out)
    process.kill(Number(/pid (\d+)/.exec(out)![1]), 'SIGTERM')
    const t = await tty
    expect(t.timedOut).toBe(false)
    // script -e passes on the child's end: killed by SIGTERM, 128 + 15.
    expect(t.exitCode, out).toBe(143)
    expect(out.length).toBeLessThan(10_000)

    // Ctrl-C typed in an 80-column terminal, where the spinner holds stdin in raw mode (the key arrives as a
    // byte, not as a signal from the terminal).
    let typed = ''
    const before = peer.connected()
    const cc = execa('script', ['-qec', `stty cols 80 rows 24; node ${CLI} sync --peer ${peer.url} --timeout 600; echo "exit $?"`, '/dev/null'], {
      cwd: dir, reject: false, timeout: 60_000, env, stdin: 'pipe', buffer: false,
    })
    cc.stdout!.setEncoding('utf8')
    cc.stdout!.on('data', (c: string) => (typed += c))
    await waitFor(() => typed.includes('syncing') && peer.connected() > before, 20_000, 'the spinner and the dial', () => typed)
    let ended = false
    void cc.then(() => (ended = true))
    cc.stdin!.write('\x03')
    await waitFor(() => /exit \d+/.test(typed) || ended, 30_000, 'the sync to end on Ctrl-C', () => typed)
    cc.stdin!.end()
    const c = await cc
    expect(c.timedOut).toBe(false)
    // Typed once the spinner holds the terminal raw, the byte reaches ctxsync, which ends by SIGINT, and the
    // shell says `exit 130`. Typed a moment earlier (CI under load: the spinner's text was out, raw mode not
    // yet), the terminal's SIGINT ends the shell with it, and script passes on its 130.
    expect(/exit (\d+)/.exec(typed)?.[1] ?? String(c.exitCode), typed).toBe('130')

    // Nothing held: the next sync runs at once (not "locked by …") and ends by its --timeout (exit 3).
    const next = await ctx(dir, ['sync', '--peer', peer.url, '--timeout', '2'])
    expect(next.exitCode, next.stderr).toBe(3)
    expect(next.stderr).not.toMatch(/lock/)
  } finally {
    peer.close()
  }
}, 120_000)
