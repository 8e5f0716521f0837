/**
 * A file's first text in the space as a Yjs update (`FileModel.enrollment`): written by a client derived
 * from the name and text, at time 0, so that every member enrolling the same text makes the same bytes
 * and their enrollments coincide instead of doubling every value.
 */
import * as Y from 'yjs'
import { parseYaml, withinLimits } from './parse.js'
import type { Rules } from './rules.js'
import { enrollClientId } from './schema.js'
import { Tree } from './tree.js'
import { Writer } from './write.js'
import { Differ } from './diff.js'

export function enrollmentOf(name: string, text: string, rules: Rules): Uint8Array {
  const ir = withinLimits(parseYaml(text))
  const doc = new Y.Doc()
  doc.clientID = enrollClientId(name, text)
  const tree = new Tree(doc, rules)
  doc.transact(() => new Differ(new Writer(tree, { time: 0, unique: null, rules })).applyDoc(null, ir))
  return Y.encodeStateAsUpdate(doc)
}
