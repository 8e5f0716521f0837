/**
 * Passing an update on: every change a host reports (a local edit, or an update one peer sent) goes to
 * every *other* session, so that peers connected in a line (A–B–C) or through a relay all converge. Never
 * back to the session it came from: that peer has it, and echoing would double the traffic of every edit.
 * The peer manager, the one-shot sync and the relay each keep their own set of sessions and say which of
 * them may take updates (`eligible`); the rule itself lives here, once.
 */
import type { DocName, PeerId } from '../ids.js'
import type { PeerSession } from './session.js'

/** Sends `update` to each eligible session whose peer is not `origin`; returns how many accepted it. */
export function forwardUpdate(
  sessions: Iterable<PeerSession>,
  doc: DocName,
  update: Uint8Array,
  origin: PeerId | null,
  eligible: (s: PeerSession) => boolean = () => true,
): number {
  let sent = 0
  for (const s of sessions) if (eligible(s) && s.peer?.id !== origin && s.sendUpdate(doc, update)) sent++
  return sent
}
