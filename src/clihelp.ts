/**
 * Help text as well-kept CLIs print it: fitted to the terminal. The width is $COLUMNS, else the terminal's,
 * else 80 (a pipe), between 40 and 120. Commander wraps option and command descriptions to it; what we add
 * after them (examples, notes on exit codes) is wrapped here: prose at spaces, and an example command too
 * long for the line keeps its comment on the line above and continues with a shell `\`, so it can still be
 * pasted. (Help lines ran to 186 columns: issue 17.)
 */
import type { Command } from 'commander'

export function helpWidth(): number {
  const env = Number(process.env.COLUMNS)
  const tty = process.stdout.isTTY ? process.stdout.columns : 0
  const cols = env > 0 ? env : tty > 0 ? tty : 80
  return Math.max(40, Math.min(120, Math.floor(cols)))
}

/** Commander's own help fitted to the width; a subcommand listed by its name (its arguments widened the column so much that nothing wrapped). */
export function fitHelp(program: Command): Command {
  return program.configureHelp({
    helpWidth: helpWidth(),
    minWidthToWrap: 30,
    subcommandTerm: (cmd) => cmd.name() + (cmd.options.length ? ' [options]' : ''),
  })
}

/** An "Examples:" block: commands kept pasteable (see the header). */
export function examples(...lines: string[]): string {
  const width = helpWidth()
  const out: string[] = []
  for (const l of lines) {
    const at = l.search(/\s{2,}# /)
    const [cmd, note] = at >= 0 && l.length + 2 > width ? [l.slice(0, at), l.slice(at).trim()] : [l, '']
    if (note) out.push(`  ${note}`)
    out.push(...continued(cmd, width))
  }
  return `\nExamples:\n${out.join('\n')}\n`
}

/** Prose, wrapped at spaces to the width. */
export function prose(text: string): string {
  const width = helpWidth()
  return text.split('\n').map((line) => words(line, width, '').join('\n')).join('\n')
}

function continued(cmd: string, width: number): string[] {
  if (cmd.length + 2 <= width) return [`  ${cmd}`]
  const lines = words(cmd, width - 4, '')
  return lines.map((l, i) => `${i === 0 ? '  ' : '      '}${l}${i < lines.length - 1 ? ' \\' : ''}`)
}

function words(line: string, width: number, indent: string): string[] {
  if (line.length <= width) return [line]
  const out: string[] = []
  let cur = ''
  for (const w of line.split(' ')) {
    if (cur && (cur + ' ' + w).length > width) {
      out.push(cur)
      cur = indent + w
    } else cur = cur ? `${cur} ${w}` : w
  }
  if (cur) out.push(cur)
  return out
}

/** A terminal a spinner can draw in: a TTY with a width, not `TERM=dumb`. */
export function spinnable(stream: NodeJS.WriteStream = process.stderr): boolean {
  return stream.isTTY === true && (stream.columns ?? 0) > 0 && process.env.TERM !== 'dumb'
}
