/**
 * The space, as commands see it: the one module `src/commands/` imports below itself (besides the shared
 * leaves: errors, ids, log, output, visible). Everything a command needs of `space/`, and of `crdt`, `fs`,
 * `net` and `git` through it, is here.
 *
 * Layout. A *space* is the set of context files one team keeps in step. `space.ts` holds one open space:
 * each tracked file's state is one `TrackedFile` (`trackedfile.ts`), changed only by that document's
 * `DocWorker` (`worker.ts`), which runs `reconcile.ts` and `gitingest.ts` one turn at a time and owns the
 * file's I/O and its sidecar (`doclog.ts` over `fs/sidecar.ts`); helpers see the space through the narrow
 * interfaces of `context.ts`. `daemon.ts` keeps it live
 * (watcher, peers, control socket), `oneshot.ts` syncs it once. A command reaches it through `client.ts`:
 * `connect` asks the running daemon (control socket, `control.ts`) or opens the space in this process
 * (`local.ts`) — both answer `SpaceApi` (`api.ts`). `readstatus.ts` answers `status` without opening it.
 * The git side: sync points (`syncpoint.ts`), the merge driver's store (`mergestore.ts`; its records become
 * the live context's once the merged file is taken in: `mergeadopt.ts`), hooks.
 *
 * Start-up cost. Hooks, `merge-driver` and `status` run in short processes and must not load Yjs or the
 * YAML parser unless they need them. The bundle (scripts/bundle.mjs) splits at dynamic `import()`, so this
 * module re-exports only light modules statically (what a git hook needs) and reaches the rest (the
 * configuration, the open space, the daemon, the relay, git, the network) through the async
 * `load…`/`open…`/`start…` functions below, each a split point of the bundle.
 *
 * GLOSSARY
 *  - space id: the random id of a space (`ctxsync.yaml` `space:`); peers sync only with the same one (under
 *    `branches: separate`, one derived per branch: `Space.syncId`).
 *  - enroll: a tracked file seen for the first time becomes a CRDT document (its content is the initial state).
 *  - ingest / take in: a change of a file on disk (editor, agent, git) is diffed into its CRDT document.
 *  - write back: the CRDT changed (a peer, a resolution): its rendering is written to the file atomically.
 *  - base: the text the file had when ctxsync last took it in or wrote it (`baseHash` in the sidecar meta
 *    and the summary): a file that no longer matches it has local changes; a held file keeps its base
 *    text, and its fixed edit is diffed against it.
 *  - held: a file that does not parse (or cannot be read): nothing from it is sent; remote changes wait in
 *    the CRDT and merge, against the base, once it parses again.
 *  - refused: a file ctxsync will not sync (several YAML documents, a symbolic link, …): never taken in.
 *  - pending: local changes no peer is known to hold (the document's state vector is ahead of the one
 *    peers acknowledged, `DocEntry.pending`); a one-shot sync reports them.
 *  - seen: hashes of texts this machine's CRDT rendered or took in (sidecar meta, `TrackedFile.hasSeen`): finding one in
 *    a checkout means an older state, not an edit.
 *  - git mark: a hash, kept in the document itself, of a text some peer took in from git, so that a peer
 *    pulling the same commit takes in nothing (`FileModel.gitMarked`).
 *  - sync point: the CRDT state a git commit holds, recorded in a git note (`refs/notes/ctxsync`).
 *  - relay: `ctxsync serve`, a server that stores and forwards a space's updates for peers that cannot
 *    reach each other; it never holds the secret.
 *  - registry: the relay a space is configured to sync through (`discovery: registry`); its key is pinned.
 *  - token: a relay credential for one space and one role (read, write, admin), signed with the space's
 *    key (`net/tokens.ts`); it lets its holder talk to a relay, never to peers directly.
 */
// Light, loaded by every command (git hooks included): how a command reaches a space, and where it is.
export { connect, daemonClient, orElse, readStatus, requireRoot, DaemonClient, HOOK_DAEMON_TIMEOUT_MS, type ConnectOptions, type SpaceClient } from './client.js'
export type { ControlMethod, ControlProtocol, PeersView, ResolveChoice, SpaceApi, SyncAsk, Conflict, DocState, Take } from './api.js'
export { runningDaemon, type DaemonFile } from './daemonfile.js'
export { findRoot, gitRoot, initRoot, spacePaths, STATE_DIR, type SpacePaths } from './paths.js'
export { checkOneMode, checkPeerUrls, checkPort, checkRegistryUrl, isWsUrl } from './flags.js'
/** Where this installation of ctxsync is (hooks run it by absolute path). */
export { packageRoot } from '../pkg.js'
export type { StatusData } from './statusdata.js'
export type { SyncReport } from './oneshot.js'
export type { FileStatus, OnlinePeer, PeerRecord } from './summary.js'
export type { Discovery, LocalSettings, TeamConfig } from './config.js'

// Types of heavy modules (erased: loading nothing).
export type { Space, OpenOptions } from './space.js'
export type { Daemon, DaemonInfo, DaemonOptions, DaemonParts } from './daemon.js'
export type { Repo } from '../git/repo.js'
export type { ConfigState, HookName, HookReport, Runner, UnhookReport } from '../git/hooks.js'
export type { Access, LivePeer } from '../net/protocol.js'
export type { SyncHost } from '../net/SyncHost.js'
export type { FoundPeer } from '../net/discovery/finder.js'
export type { PeekResult } from '../net/peer-manager.js'
export type { AdmissionLimits, RegistrationLimits } from './relay.js'

/** Configuration, identity and secret, the peer book, remotes (setup.ts). */
export const loadSetup = () => import('./setup.js')
/** `status` without a daemon reads the saved summary and the files (readstatus.ts). */
export const loadStatus = () => import('./readstatus.js')
/** What a git hook needs of the configuration, cached (hookinfo.ts); loaded with the hook's other parts. */
export async function hookInfo(paths: import('./paths.js').SpacePaths): ReturnType<typeof import('./hookinfo.js').hookInfo> {
  return (await import('./hookinfo.js')).hookInfo(paths)
}
/** The merge driver's job and limits (mergedriver.ts). */
export const loadMergeDriver = () => import('./mergedriver.js')

/** Opens a space in this process (Yjs, the YAML parser, the sidecar store). */
export async function openSpace(o: import('./space.js').OpenOptions): Promise<import('./space.js').Space> {
  return (await import('./space.js')).Space.open(o)
}

/** Starts the daemon (`ctxsync watch`): the space held live, its watcher, peers and control socket. */
export async function startDaemon(o: import('./daemon.js').DaemonOptions): Promise<import('./daemon.js').Daemon> {
  return (await import('./daemon.js')).Daemon.start(o)
}

/** The relay and its store (`ctxsync serve`). */
export const loadRelay = () => import('./relay.js')
/** Sync points: recording, the states they hold, the one after a sync. */
export const loadSyncPoints = () => import('./syncpoint.js')
/** Git's side of `status`. */
export const loadGitStatus = () => import('./gitstatus.js')
/** Per-branch state under `branches: separate`. */
export const loadBranches = () => import('./branches.js')
/** Conflicts the merge driver kept, and their resolution. */
export const loadMergeStore = () => import('./mergestore.js')
/** The `.ctxsync/` directory's place in git (committed by mistake, claimed by this clone). */
export const loadStateDir = () => import('./statedir.js')
/** Versions of the tracked files: history, show, diff, restore, undo, blame (versions/). */
export const loadVersions = () => import('./versions/index.js')
/** Git: the repository, sync-point notes, hooks and attributes, the user's name. */
export const loadRepo = () => import('../git/repo.js')
export const loadNotes = () => import('../git/notes.js')
/** What the daemon saw git do to the context files here (`ctxsync log`). */
export const loadGitReport = () => import('./gitreport.js')
export const loadGitHooks = () => import('../git/hooks.js')
export const loadGitUser = () => import('../git/user.js')
/** Relay tokens and the space's keys (`ctxsync token`). */
export const loadTokens = () => import('./tokens.js')
/** A short look at a relay's list of who is online (`ctxsync peers`), without syncing. */
export const loadPeek = () => import('../net/peer-manager.js')
/** Why a `--take` does not apply (the model's rules). */
export const loadTakeRules = () => import('../crdt/present.js')
