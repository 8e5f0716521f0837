/**
 * A context file holding git's conflict markers, said as this clone's facts make it. The parser's reason
 * (crdt/parse.ts CONFLICT_MARKERS) ends with "`ctxsync hooks install` sets up the merge driver": right for a
 * clone without the driver, and misleading in one with it — there the markers mean the driver fell back to
 * git's text merge, because a side did not parse (issue 17, black-box tester: a teammate's invalid YAML
 * pulled with the hooks installed).
 */
import { CONFLICT_MARKERS } from '../crdt/parse.js'
import { DRIVER } from '../git/attributes.js'
import { Repo } from '../git/repo.js'

/** The reason for markers in a file git sends to the merge driver that this clone defines. */
export const DRIVER_FELL_BACK =
  'holds git conflict markers (an unfinished merge): the ctxsync merge driver is set up in this clone, but a side ' +
  'of the merge was not valid YAML (or too large to merge as YAML: the driver\'s line in git\'s output says which), ' +
  'so git merged the text — fix the markers: edit the file to keep what each side should, or take one side with ' +
  '`git checkout --ours <file>` or `--theirs <file>`, then `git add` it and finish the merge (`git commit`); ' +
  'ctxsync takes the file in once it parses'

/**
 * Whether git, merging `file` (relative to `root`) here, calls ctxsync's merge driver: an attribute sends it
 * there and this clone's config defines the driver. Any failure to ask reads as no.
 */
export async function driverSetUp(root: string, file: string): Promise<boolean> {
  const repo = await Repo.open(root).catch(() => null)
  if (!repo) return false
  const [attr, cmd] = await Promise.all([
    repo.tryRaw(['-C', root, 'check-attr', 'merge', '--', file]),
    repo.config(`merge.${DRIVER}.driver`),
  ])
  return cmd !== null && cmd !== '' && attr !== null && new RegExp(`: merge: ${DRIVER}\\s*$`).test(attr)
}

/** A held file's reason as this clone should read it: markers get the advice that fits the driver's setup. */
export async function heldReason(root: string, file: string, reason: string): Promise<string> {
  if (reason !== CONFLICT_MARKERS) return reason
  return (await driverSetUp(root, file)) ? DRIVER_FELL_BACK : reason
}
