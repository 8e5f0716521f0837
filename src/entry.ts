/**
 * The process entry (`bin/ctxsync`). git runs `ctxsync merge-driver %O %A %B %P` once for every context
 * file a merge touches, so that exact form skips building the CLI (commander and every command's options,
 * `cli.ts`); everything else, and any error, goes through the CLI.
 */
export async function main(argv: string[] = process.argv): Promise<number> {
  const args = argv.slice(2)
  if (args[0] === 'merge-driver' && args.length === 5 && args.every((a) => !a.startsWith('-'))) {
    const [, base, ours, theirs, path] = args as [string, string, string, string, string]
    try {
      const { mergeDriver } = await import('./commands/merge-driver.js')
      const r = await mergeDriver({ cwd: process.cwd(), base, ours, theirs, path, say: (s) => void process.stderr.write(s + '\n') })
      return r.code
    } catch (e) {
      return (await import('./cli.js')).reportError(e, false)
    }
  }
  return (await import('./cli.js')).main(argv)
}
