/**
 * What `invite` and `token create` both need: the space of the clone at `cwd` and its secret — only a member
 * that holds the secret can let others in.
 */
import path from 'node:path'
import { CtxError, NotInitializedError } from '../errors.js'
import type { SpaceId } from '../ids.js'
import { readTeamConfig } from './config.js'
import { findRoot, gitRoot, spacePaths } from './paths.js'
import { resolveSecret } from './secrets.js'

/** `noSecret` explains, for the command at hand, why the secret is needed and where to run it instead. */
export async function spaceWithSecret(cwd: string, noSecret: (space: SpaceId) => string): Promise<{ space: SpaceId; secret: string; registryKey: string | null; discovery: string }> {
  const root = findRoot(cwd)
  if (!root) throw new NotInitializedError(path.resolve(cwd), gitRoot(cwd))
  const paths = spacePaths(root)
  const config = await readTeamConfig(paths.config)
  if (!config) throw new NotInitializedError(root)
  const secret = await resolveSecret(paths.secret)
  if (!secret) throw new CtxError('no-secret', noSecret(config.space))
  return { space: config.space, secret: secret.secret, registryKey: config.registryKey ?? null, discovery: config.discovery }
}
