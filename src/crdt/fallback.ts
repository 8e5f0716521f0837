/**
 * The last-resort rendering (`canonical.ts`), parsed. Apart from canonical.ts, which the renderer imports:
 * parsing here needs the parser, which needs the renderer.
 */
import { fallbackText } from './canonical.js'
import type { DocIR } from './ir.js'
import { DamagedStateError } from './limits.js'
import { parseYaml, YamlSyntaxError } from './parse.js'

/**
 * The canonical text of `ir` and its parse. A state that nests deeper than the parser takes even as
 * canonical YAML (a member's chain of nodes under a value emptied by another peer, shown since `emptied.ts`:
 * hostile-model fuzz case 66148) is damaged state, held like any other, not an exception out of `render`.
 */
export function fallbackOf(ir: DocIR): { text: string; ir: DocIR } {
  const text = fallbackText(ir)
  try {
    return { text, ir: parseYaml(text) }
  } catch (e) {
    if (e instanceof YamlSyntaxError) throw new DamagedStateError(`its synced state renders to YAML that does not parse (${e.message})`)
    throw e
  }
}
