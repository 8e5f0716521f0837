/**
 * What commands that set up or inspect a space read and write besides the space itself: its configuration
 * (`ctxsync.yaml`, `.ctxsync/local.yaml`), this machine's identity and secret, the peer book, where its
 * remotes are. One lazily loaded part of the façade (`index.ts`), because the configuration pulls in the
 * glob matcher and the relay key format, which git hooks do not need.
 */
export {
  DISCOVERY_MODES, readLocalSettings, readTeamConfig, renderLocalSettings, renderTeamConfig, writeConfigFile,
  DEFAULT_HOST, DEFAULT_PORT,
} from './config.js'
export {
  createIdentity, decodeJoinCode, encodeJoinCode, hostName, newSecret, readIdentity, readSecretFile, resolveSecret, resolveToken,
  writeSecretFile, SECRET_ENV,
} from './secrets.js'
export { spaceWithSecret } from './member.js'
export { relayDial, remotesFor } from './remotes.js'
export { PeerBook, SummaryWriter } from './summary.js'
export { writeFileAtomic } from '../fs/atomic.js'
export { DEFAULT_INCLUDE } from '../fs/globs.js'
export { startJoining } from './join.js'
export { committedConfig, excludeLocally } from './joinconfig.js'
