/**
 * Namespaced debug logs (`DEBUG=ctxsync:*`), kept apart from user output: they go to stderr and only when
 * asked for. User-facing messages are printed by `cli.ts`, never from here.
 *
 * The `debug` package (and what it loads) is required only when `DEBUG` is set: every command, hook and
 * merge-driver run would otherwise pay ~20 ms at startup for logs nobody reads.
 */
import { createRequire } from 'node:module'
import type createDebug from 'debug'

export type Logger = ((formatter: unknown, ...args: unknown[]) => void) & { enabled: boolean }

const silent: Logger = Object.assign(() => {}, { enabled: false })
let factory: typeof createDebug | null = null

export function logger(namespace: string): Logger {
  if (!process.env.DEBUG) return silent
  factory ??= createRequire(import.meta.url)('debug') as typeof createDebug
  return factory(`ctxsync:${namespace}`) as unknown as Logger
}
