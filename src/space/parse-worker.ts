/**
 * Worker thread of `ParseChecker`: answers `{ id, text }` with `{ id, ok }` (the text parses) or
 * `{ id, error }` (the check itself failed). Stateless; one message at a time.
 */
import { parentPort } from 'node:worker_threads'
import { parses } from '../crdt/parse.js'

export interface CheckRequest {
  id: number
  text: string
}
export type CheckReply = { id: number; ok: boolean } | { id: number; error: string }

parentPort?.on('message', (m: CheckRequest) => {
  let reply: CheckReply
  try {
    reply = { id: m.id, ok: parses(m.text) }
  } catch (e) {
    reply = { id: m.id, error: (e as Error).message }
  }
  parentPort!.postMessage(reply)
})
