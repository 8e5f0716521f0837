/**
 * A tiny typed event emitter. Listener exceptions are caught and logged here: an event is emitted from inside
 * network callbacks, and a throwing listener must never unwind into the socket code or skip other listeners.
 */
import { logger } from '../debuglog.js'

const log = logger('net:emitter')

// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type EventMap<E> = { [K in keyof E]: (...args: any[]) => void }

export class TypedEmitter<E extends EventMap<E>> {
  readonly #listeners = new Map<keyof E, Array<E[keyof E]>>()

  on<K extends keyof E>(event: K, listener: E[K]): this {
    const list = this.#listeners.get(event) ?? []
    list.push(listener)
    this.#listeners.set(event, list)
    return this
  }

  once<K extends keyof E>(event: K, listener: E[K]): this {
    const wrapped = ((...args: Parameters<E[K]>) => {
      this.off(event, wrapped)
      listener(...args)
    }) as E[K]
    return this.on(event, wrapped)
  }

  off<K extends keyof E>(event: K, listener: E[K]): this {
    const list = this.#listeners.get(event)
    if (!list) return this
    const i = list.indexOf(listener)
    if (i >= 0) list.splice(i, 1)
    return this
  }

  listenerCount(event: keyof E): number {
    return this.#listeners.get(event)?.length ?? 0
  }

  protected removeAllListeners(): void {
    this.#listeners.clear()
  }

  protected emit<K extends keyof E>(event: K, ...args: Parameters<E[K]>): void {
    const list = this.#listeners.get(event)
    if (!list) return
    // Copy: a listener may remove itself (once) or others while we iterate.
    for (const listener of [...list]) {
      try {
        listener(...args)
      } catch (err) {
        log('listener for %s threw: %O', String(event), err)
      }
    }
  }
}
