/**
 * Typed errors and the process exit codes they map to. Commands throw these; the single top-level catch in
 * `cli.ts` prints the message (which always says what to do next) and exits with the code.
 */

export const ExitCode = {
  Ok: 0,
  Error: 1,
  Usage: 2,
  NoPeer: 3,
  CheckFailed: 4,
  AccessRefused: 5,
} as const
export type ExitCode = (typeof ExitCode)[keyof typeof ExitCode]

/** An error the user can act on: `message` says what happened and how to fix it. */
export class CtxError extends Error {
  readonly exitCode: ExitCode
  readonly code: string
  readonly data?: unknown
  constructor(code: string, message: string, exitCode: ExitCode = ExitCode.Error, data?: unknown) {
    super(message)
    this.name = 'CtxError'
    this.code = code
    this.exitCode = exitCode
    this.data = data
  }
}

/** Ends the process with a given code after the command already printed what it had to say. */
export class ExitError extends Error {
  readonly exitCode: ExitCode
  readonly data?: unknown
  constructor(exitCode: ExitCode, message = '', data?: unknown) {
    super(message)
    this.name = 'ExitError'
    this.exitCode = exitCode
    this.data = data
  }
}

export class UsageError extends CtxError {
  constructor(message: string) {
    super('usage', message, ExitCode.Usage)
  }
}

export class NotInitializedError extends CtxError {
  /**
   * `gitRoot`: the enclosing repository's root, where the search for ctxsync.yaml stops (paths.ts findRoot,
   * like git's own): "or its parents" alone promised a search to / (issue 17 tester).
   */
  constructor(dir: string, gitRoot: string | null = null) {
    const where = gitRoot === null ? `${dir} or its parents`
      : gitRoot === dir ? `${dir} (the git repository's root: the search stops there)`
      : `${dir} or its parents up to the git repository root ${gitRoot}`
    super('not-initialized', `no ctxsync space in ${where}: run \`ctxsync init\` ${gitRoot === null ? 'there ' : ''}first`)
  }
}

export class AccessRefusedError extends CtxError {
  constructor(message: string) {
    super('access-refused', message, ExitCode.AccessRefused)
  }
}

export class NoPeerError extends CtxError {
  constructor(message: string, data?: unknown) {
    super('no-peer', message, ExitCode.NoPeer, data)
  }
}

export function isCtxError(e: unknown): e is CtxError {
  return e instanceof CtxError
}
