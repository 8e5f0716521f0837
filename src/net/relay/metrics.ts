/**
 * The relay's counters and their Prometheus text exposition (`GET /metrics`, format 0.0.4).
 *
 * Totals are plain counters bumped where things happen; per-second rates are computed from a sample of
 * the totals taken every second, over the last `RATE_WINDOW_S` seconds, so a scrape shows current load
 * without the scraper having to compute rates. Process CPU and resident memory are included under their
 * conventional names, since "how much does the relay cost" is the first question about it.
 */

const RATE_WINDOW_S = 10

/** Upper bounds (seconds) of the fan-out histogram's buckets. */
export const FANOUT_BUCKETS = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1] as const

interface Sample {
  at: number
  updates: number
  relayed: number
  bytesIn: number
  bytesOut: number
}

export interface Gauges {
  connections: number
  sessions: number
  spaces: number
  bytesIn: number
  bytesOut: number
}

export interface LimitFigures {
  sockets: number
  pending: number
  refused: number
  timedOut: number
  registered: number
  registrationsRefused: number
  failedSpaces: number
}

export class RelayMetrics {
  connectionsTotal = 0
  sessionsTotal = 0
  refusedTotal = 0
  updatesTotal = 0
  /** Updates the guard refused (crdt/guard.ts): each ended its session. */
  updatesRefused = 0
  relayedTotal = 0
  throttledTotal = 0
  slowClosedTotal = 0
  tooBigTotal = 0
  /** Per bucket of FANOUT_BUCKETS (and +Inf last): updates whose handling took at most that long. */
  readonly fanoutCounts = new Array<number>(FANOUT_BUCKETS.length + 1).fill(0)
  fanoutSum = 0
  readonly #samples: Sample[] = []
  readonly #gauges: () => Gauges
  readonly #timer: NodeJS.Timeout
  readonly startedAt = Date.now()
  /** The limits' figures (`admission.ts`, `registration.ts`), set by the server. */
  limits: (() => LimitFigures) | null = null

  /** `gauges` reads the live figures (and the byte totals, which the transports count). */
  constructor(gauges: () => Gauges) {
    this.#gauges = gauges
    this.#sample()
    this.#timer = setInterval(() => this.#sample(), 1000)
    this.#timer.unref()
  }

  /**
   * The relay's own share of an update's latency: from taking the frame's update in to having handed it
   * to every other peer's connection (validation, apply, relaying; not the fsync, which runs behind).
   */
  observeFanout(seconds: number): void {
    let i = 0
    while (i < FANOUT_BUCKETS.length && seconds > FANOUT_BUCKETS[i]!) i++
    this.fanoutCounts[i]!++
    this.fanoutSum += seconds
  }

  stop(): void {
    clearInterval(this.#timer)
  }

  /** Per-second rates over the sample window (zero until two samples exist). */
  rates(): { updates: number; relayed: number; bytesIn: number; bytesOut: number } {
    const first = this.#samples[0]
    const last = this.#current()
    const s = first ? (last.at - first.at) / 1000 : 0
    if (!first || s <= 0) return { updates: 0, relayed: 0, bytesIn: 0, bytesOut: 0 }
    return {
      updates: (last.updates - first.updates) / s,
      relayed: (last.relayed - first.relayed) / s,
      bytesIn: (last.bytesIn - first.bytesIn) / s,
      bytesOut: (last.bytesOut - first.bytesOut) / s,
    }
  }

  render(): string {
    const g = this.#gauges()
    const r = this.rates()
    const cpu = process.cpuUsage()
    const lines: string[] = []
    const metric = (name: string, type: 'gauge' | 'counter', help: string, value: number): void => {
      lines.push(`# HELP ${name} ${help}`, `# TYPE ${name} ${type}`, `${name} ${Number.isInteger(value) ? value : value.toFixed(3)}`)
    }
    metric('ctxsync_relay_connections', 'gauge', 'Open WebSocket connections.', g.connections)
    metric('ctxsync_relay_sessions', 'gauge', 'Authenticated sessions.', g.sessions)
    metric('ctxsync_relay_spaces', 'gauge', 'Spaces loaded in memory (with peers, or recently).', g.spaces)
    metric('ctxsync_relay_updates_per_second', 'gauge', `Updates received per second (last ${RATE_WINDOW_S} s).`, r.updates)
    metric('ctxsync_relay_relayed_per_second', 'gauge', `Updates relayed to peers per second (last ${RATE_WINDOW_S} s).`, r.relayed)
    metric('ctxsync_relay_received_bytes_per_second', 'gauge', `Bytes received per second (last ${RATE_WINDOW_S} s).`, r.bytesIn)
    metric('ctxsync_relay_sent_bytes_per_second', 'gauge', `Bytes sent per second (last ${RATE_WINDOW_S} s).`, r.bytesOut)
    metric('ctxsync_relay_connections_total', 'counter', 'WebSocket connections accepted.', this.connectionsTotal)
    metric('ctxsync_relay_sessions_total', 'counter', 'Sessions authenticated.', this.sessionsTotal)
    metric('ctxsync_relay_refused_total', 'counter', 'Connections refused (wrong secret, bad token, other key).', this.refusedTotal)
    metric('ctxsync_relay_updates_total', 'counter', 'Updates received from peers.', this.updatesTotal)
    metric('ctxsync_relay_updates_refused_total', 'counter', 'Updates refused as outside the model limits.', this.updatesRefused)
    metric('ctxsync_relay_relayed_total', 'counter', 'Updates relayed to peers.', this.relayedTotal)
    metric('ctxsync_relay_received_bytes_total', 'counter', 'Bytes received.', g.bytesIn)
    metric('ctxsync_relay_sent_bytes_total', 'counter', 'Bytes sent.', g.bytesOut)
    metric('ctxsync_relay_throttled_total', 'counter', 'Times a connection was paused by its rate limit.', this.throttledTotal)
    metric('ctxsync_relay_slow_closed_total', 'counter', 'Connections closed for reading too slowly (1008).', this.slowClosedTotal)
    metric('ctxsync_relay_too_big_total', 'counter', 'Connections closed for an oversized frame (1009).', this.tooBigTotal)
    lines.push(
      '# HELP ctxsync_relay_fanout_seconds Time from taking an update in to handing it to every other peer.',
      '# TYPE ctxsync_relay_fanout_seconds histogram',
    )
    let cumulative = 0
    FANOUT_BUCKETS.forEach((le, i) => {
      cumulative += this.fanoutCounts[i]!
      lines.push(`ctxsync_relay_fanout_seconds_bucket{le="${le}"} ${cumulative}`)
    })
    cumulative += this.fanoutCounts[FANOUT_BUCKETS.length]!
    lines.push(`ctxsync_relay_fanout_seconds_bucket{le="+Inf"} ${cumulative}`)
    lines.push(`ctxsync_relay_fanout_seconds_sum ${this.fanoutSum.toFixed(6)}`, `ctxsync_relay_fanout_seconds_count ${cumulative}`)
    metric('process_cpu_seconds_total', 'counter', 'User and system CPU time spent, in seconds.', (cpu.user + cpu.system) / 1e6)
    const l = this.limits?.()
    if (l) {
      metric('ctxsync_relay_sockets', 'gauge', 'Open TCP connections, authenticated or not.', l.sockets)
      metric('ctxsync_relay_pending_connections', 'gauge', 'Connections not authenticated yet.', l.pending)
      metric('ctxsync_relay_admission_refused_total', 'counter', 'Connections closed at accept (connection limits).', l.refused)
      metric('ctxsync_relay_handshake_timeouts_total', 'counter', 'Connections closed for not authenticating in time.', l.timedOut)
      metric('ctxsync_relay_registered_spaces', 'gauge', 'Spaces registered.', l.registered)
      metric('ctxsync_relay_registrations_refused_total', 'counter', 'New spaces refused (rate per address, total).', l.registrationsRefused)
      metric('ctxsync_relay_failed_spaces', 'gauge', 'Spaces whose store failed and has not loaded again.', l.failedSpaces)
    }
    metric('process_resident_memory_bytes', 'gauge', 'Resident memory size in bytes.', process.memoryUsage().rss)
    metric('process_start_time_seconds', 'gauge', 'Start time of the process since the epoch, in seconds.', Math.floor(this.startedAt / 1000))
    return lines.join('\n') + '\n'
  }

  #current(): Sample {
    const g = this.#gauges()
    return { at: Date.now(), updates: this.updatesTotal, relayed: this.relayedTotal, bytesIn: g.bytesIn, bytesOut: g.bytesOut }
  }

  #sample(): void {
    this.#samples.push(this.#current())
    while (this.#samples.length > RATE_WINDOW_S + 1) this.#samples.shift()
  }
}
