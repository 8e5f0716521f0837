/**
 * Namespaced debug logs (`DEBUG=ctxsync:*`), kept apart from user output: they go to stderr and only when
 * asked for. User-facing messages are printed by `cli.ts`, never from here.
 */
import createDebug from 'debug'

export type Logger = createDebug.Debugger

export function logger(namespace: string): Logger {
  return createDebug(`ctxsync:${namespace}`)
}
