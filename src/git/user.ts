/**
 * What git knows about the person at this machine. Git is optional: without it (or outside a repository)
 * the answers are null and callers fall back to the OS user.
 */
import { simpleGit } from 'simple-git'
import { logger } from '../debuglog.js'

const log = logger('git')

export async function gitUserName(dir: string): Promise<string | null> {
  try {
    const r = await simpleGit({ baseDir: dir, timeout: { block: 5000 } }).getConfig('user.name')
    const v = r.value?.trim()
    return v ? v : null
  } catch (e) {
    log('no git user.name: %s', (e as Error).message)
    return null
  }
}
