/**
 * What a mass deletion did, in words: the daemon's guard line, `status` and `undo`/`restore` say it alike
 * (three copies of this phrase had grown). Pure: the printing layer imports it without the guard's I/O.
 */
export function massDeletionWhat(m: { removed: number; of: number; emptied?: true }): string {
  return m.emptied ? `emptied the file (${m.removed} entries removed)` : `removed ${m.removed} of ${m.of} entries`
}
