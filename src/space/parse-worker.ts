/**
 * Worker thread of `ParseChecker`: answers `{ id, text }` with `{ id, ok }` (the text parses) or
 * `{ id, error }` (the check itself failed); a `gauge` request is answered with the file's entry count too
 * (`entries`, null when it does not parse: the model then reports where and why). Stateless; one message at
 * a time.
 */
import { parentPort } from 'node:worker_threads'
import { parses, parseYamlMeasured } from '../crdt/parse.js'

export interface CheckRequest {
  id: number
  text: string
  gauge?: true
}
export type CheckReply = { id: number; ok: boolean; entries?: number | null } | { id: number; error: string }

export function gaugeText(text: string): number | null {
  try {
    return parseYamlMeasured(text).entries
  } catch {
    return null
  }
}

parentPort?.on('message', (m: CheckRequest) => {
  let reply: CheckReply
  try {
    if (m.gauge) {
      const entries = gaugeText(m.text)
      reply = { id: m.id, ok: entries !== null, entries }
    } else reply = { id: m.id, ok: parses(m.text) }
  } catch (e) {
    reply = { id: m.id, error: (e as Error).message }
  }
  parentPort!.postMessage(reply)
})
