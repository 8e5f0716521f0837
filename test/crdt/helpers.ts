import * as Y from 'yjs'
import { FileModel, type Author } from '../../src/crdt/model.js'

export function author(name: string, kind: 'human' | 'agent' = 'human'): Author {
  return { id: `p-${name}`, name, kind }
}

/** A peer holding one file, enrolled from `text` the way `ctxsync init` does it. */
export function peer(name: string, text: string, doc = '.rhema/todos.yaml'): FileModel {
  const m = new FileModel({ name: doc, author: author(name) })
  m.load([FileModel.enrollment(doc, text)])
  m.setBase(m.render())
  return m
}

/** Sends everything `from` has that `to` lacks; returns whether `to`'s rendering changed. */
export function send(from: FileModel, to: FileModel): void {
  const u = Y.encodeStateAsUpdate(from.doc, Y.encodeStateVector(to.doc))
  to.applyRemote(u, from.name + ':' + from.doc.clientID)
}

export function sync(...peers: FileModel[]): void {
  for (let round = 0; round < 2; round++)
    for (const a of peers) for (const b of peers) if (a !== b) send(a, b)
  for (const p of peers) p.setBase(p.render())
}

export function text(m: FileModel): string | null {
  return m.render().text
}
