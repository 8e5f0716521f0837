/**
 * The checks of where-to-sync options that several commands take (`--peer`, `--registry`, `--port`), said
 * once so that every command words them alike. Light (errors only): the command line parses flags with it
 * before loading any command.
 */
import { UsageError } from '../errors.js'

/** A peer or relay address: ws:// or wss:// and a host. */
export const isWsUrl = (u: string): boolean => /^wss?:\/\/[^\s/]+/.test(u)

export function checkPeerUrls(peers: readonly string[] | undefined): void {
  for (const p of peers ?? []) if (!isWsUrl(p)) throw new UsageError(`--peer ${p}: expected a ws:// URL like ws://192.168.1.20:7420`)
}

export function checkRegistryUrl(registry: string | undefined): void {
  if (registry !== undefined && !isWsUrl(registry)) throw new UsageError(`--registry ${registry}: expected a ws:// or wss:// URL`)
}

/** In registry mode peers talk to the relay only: a run names peers or a relay, not both. */
export function checkOneMode(peers: readonly string[] | undefined, registry: string | null | undefined): void {
  if (peers?.length && registry) throw new UsageError('give either --peer or --registry: in registry mode peers talk to the relay only')
}

/** `--port`: a TCP port, 0 for any free one. */
export function checkPort(v: string | number): number {
  const n = Number(v)
  if (!Number.isInteger(n) || n < 0 || n > 65535) throw new UsageError(`--port ${v}: expected 0–65535`)
  return n
}
