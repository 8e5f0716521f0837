/** Timer helpers that never leave a pending timer behind to hold the process open (the CLI must exit). */

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms))
}

/** Waits for `p` (settled either way) at most `ms`. */
export async function atMost(p: Promise<unknown>, ms: number): Promise<void> {
  let timer: NodeJS.Timeout | undefined
  await Promise.race([p.catch(() => undefined), new Promise((resolve) => (timer = setTimeout(resolve, ms)))])
  clearTimeout(timer)
}

/** The longest delay one setTimeout takes (about 24.8 days). */
const MAX_DELAY_MS = 2 ** 31 - 1

/** Runs `fn` at `ms` (epoch), however far ahead (a token may expire in a year); returns a cancel. Unref'd. */
export function atTime(ms: number, fn: () => void): () => void {
  let timer: NodeJS.Timeout
  const arm = (): void => {
    const left = ms - Date.now()
    timer = setTimeout(left <= MAX_DELAY_MS ? fn : arm, Math.max(0, Math.min(left, MAX_DELAY_MS)))
    timer.unref()
  }
  arm()
  return () => clearTimeout(timer)
}
