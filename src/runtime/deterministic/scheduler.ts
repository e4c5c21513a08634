/**
 * The deterministic executor: one logical thread, a virtual clock, timers ordered by
 * (time, insertion sequence).
 *
 * ## Design
 * `run()` repeats: let every ready microtask run (one `setImmediate` turn drains them, since nothing
 * real is pending in this mode), then pop the earliest timer, move the clock to it and fire it. Sleeps,
 * socket deliveries and wake-ups all go through this one queue, so the order of events is a function of
 * the code and the seed alone. When no timer is left and the root task has not finished, nothing can
 * ever happen again: `run()` rejects with a `DeadlockError` naming the tasks still pending.
 *
 * ## Not provided
 * Protection against code that escapes the queue (a real timer, an async native call, `Math.random`):
 * that breaks replay, and the double-run digest tests are what catch it.
 *
 * ## Example
 * `await new Scheduler(0).run(async () => { ... })`
 */
import { P2pError } from '../../errors.js'

/** The root task can no longer finish: no timer is pending and no task can run. */
export class DeadlockError extends P2pError {
  /**
   * Creates the error with code `ERR_CLOSED`.
   * @param pending - Labels of the tasks still running, sorted.
   * @param at - The virtual time of the deadlock, ms.
   */
  constructor(
    /** Labels of the tasks still running, sorted (each label once). */
    readonly pending: string[],
    /** The virtual time of the deadlock, ms. */
    readonly at: number,
  ) {
    super('ERR_CLOSED', `deadlock at t=${at}ms: nothing scheduled; pending tasks: ${pending.join(', ') || '(none)'}`)
  }
}

interface Timer {
  at: number
  seq: number
  fire: () => void
  cancelled: boolean
}

/** A binary min-heap of timers by (at, seq). */
class TimerHeap {
  #items: Timer[] = []
  get size(): number {
    return this.#items.length
  }
  push(t: Timer): void {
    const a = this.#items
    a.push(t)
    let i = a.length - 1
    while (i > 0) {
      const p = (i - 1) >> 1
      if (!before(a[i]!, a[p]!)) break
      ;[a[i], a[p]] = [a[p]!, a[i]!]
      i = p
    }
  }
  /** Drop cancelled timers and restore heap order ((at, seq) is a total order: firing order is unchanged). */
  compact(): void {
    this.#items = this.#items.filter((t) => !t.cancelled).sort((x, y) => (before(x, y) ? -1 : 1))
  }
  pop(): Timer | undefined {
    const a = this.#items
    const top = a[0]
    const last = a.pop()
    if (a.length > 0 && last) {
      a[0] = last
      let i = 0
      for (;;) {
        const l = 2 * i + 1
        const r = l + 1
        let m = i
        if (l < a.length && before(a[l]!, a[m]!)) m = l
        if (r < a.length && before(a[r]!, a[m]!)) m = r
        if (m === i) break
        ;[a[i], a[m]] = [a[m]!, a[i]!]
        i = m
      }
    }
    return top
  }
}
const before = (x: Timer, y: Timer): boolean => x.at < y.at || (x.at === y.at && x.seq < y.seq)

const NO_OP = (): void => undefined

const tick = (): Promise<void> => new Promise((resolve) => setImmediate(resolve))

/** The deterministic executor: a virtual clock and timers fired in (time, insertion) order. */
export class Scheduler {
  #now: number
  #seq = 0
  readonly #timers = new TimerHeap()
  /** Cancelled timers still in the heap. */
  #cancelled = 0
  /** Labels of live tasks (a multiset), for deadlock reports. */
  readonly #tasks = new Map<string, number>()
  #steps = 0

  /** A scheduler whose clock starts at `startMs` (ms since the Unix epoch). */
  constructor(startMs: number) {
    this.#now = startMs
  }

  /** The virtual time, ms since the Unix epoch. */
  now(): number {
    return this.#now
  }

  /** Timers fired so far. */
  get steps(): number {
    return this.#steps
  }

  /** Fire `fire` at virtual time `at` (not before now); returns a cancel function. */
  at(at: number, fire: () => void): () => void {
    const t: Timer = { at: Math.max(at, this.#now), seq: this.#seq++, fire, cancelled: false }
    this.#timers.push(t)
    return () => {
      if (t.cancelled) return
      // Release what the callback holds at once; the heap drops the entry when it reaches it, or when
      // cancelled entries make up most of it (a long timeout cancelled early would otherwise stay).
      t.cancelled = true
      t.fire = NO_OP
      if (++this.#cancelled > 4096 && this.#cancelled * 2 > this.#timers.size) {
        this.#timers.compact()
        this.#cancelled = 0
      }
    }
  }

  /** Count a task labelled `label` as running (reported by `DeadlockError`). */
  taskStarted(label: string): void {
    this.#tasks.set(label, (this.#tasks.get(label) ?? 0) + 1)
  }

  /** Count one task labelled `label` as ended. */
  taskEnded(label: string): void {
    const n = (this.#tasks.get(label) ?? 1) - 1
    if (n <= 0) this.#tasks.delete(label)
    else this.#tasks.set(label, n)
  }

  /** Run until `root` settles; rejects with `DeadlockError` if it never can. */
  async run<T>(root: Promise<T>, opts: { maxSteps?: number; maxTimeMs?: number } = {}): Promise<T> {
    let settled = false
    let value: T | undefined
    let error: unknown
    let failed = false
    root.then(
      (v) => {
        settled = true
        value = v
      },
      (e: unknown) => {
        settled = true
        failed = true
        error = e
      },
    )
    for (;;) {
      await tick()
      if (settled) {
        if (failed) throw error
        return value as T
      }
      let t = this.#timers.pop()
      while (t?.cancelled) {
        this.#cancelled--
        t = this.#timers.pop()
      }
      if (!t) throw new DeadlockError([...this.#tasks.keys()].sort(), this.#now)
      if (opts.maxTimeMs !== undefined && t.at > opts.maxTimeMs) {
        throw new P2pError('ERR_CLOSED', `virtual time limit of ${opts.maxTimeMs}ms reached`)
      }
      if (opts.maxSteps !== undefined && this.#steps >= opts.maxSteps) {
        throw new P2pError('ERR_CLOSED', `step limit of ${opts.maxSteps} reached`)
      }
      this.#now = t.at
      this.#steps++
      t.fire()
    }
  }
}
