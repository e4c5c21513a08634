/**
 * Contexts that bend one thing of a deterministic node for a test: `gated` holds the node's socket
 * writes while closed (a peer that stops reading, without touching the link), and `skewed` shifts the
 * node's clock (`now()` only; timers still run on the shared virtual clock).
 */
import type { Connection, Context } from '../../src/runtime/index.js'

export interface Gate {
  /** The node's context: its dials and accepted connections write through the gate. */
  ctx: Context
  /** Hold every later write until `open()` (a held write resolves when released). */
  close(): void
  /** Release held writes, in order, and pass later ones straight through. */
  open(): void
}

export function gated(inner: Context): Gate {
  let held: (() => void)[] | undefined
  const wrap = (c: Connection): Connection => ({
    ...c,
    sink: {
      ...c.sink,
      send: (bytes: Uint8Array) => {
        if (!held) return c.sink.send(bytes)
        const copy = Uint8Array.from(bytes)
        return new Promise<void>((resolve, reject) => held!.push(() => c.sink.send(copy).then(resolve, reject)))
      },
      close: () => c.sink.close(),
    },
  })
  const ctx = delegate(inner)
  ctx.dial = async (address) => wrap(await inner.dial(address))
  ctx.listen = async (address) => {
    const l = await inner.listen(address)
    return { address: l.address, close: () => l.close(), accept: async () => {
      const c = await l.accept()
      return c && wrap(c)
    } }
  }
  return {
    ctx,
    close: () => {
      held ??= []
    },
    open: () => {
      const release = held ?? []
      held = undefined
      for (const r of release) r()
    },
  }
}

/** `inner` with its clock `offsetMs` ahead (negative: behind). */
export function skewed(inner: Context, offsetMs: number): Context {
  const ctx = delegate(inner)
  ctx.now = () => inner.now() + offsetMs
  return ctx
}

/** A context whose every method calls `inner`'s (to override some of them). */
function delegate(inner: Context): Context {
  return {
    now: () => inner.now(),
    sleep: (ms, signal) => inner.sleep(ms, signal),
    after: (ms, fire) => inner.after(ms, fire),
    randomBytes: (n) => inner.randomBytes(n),
    randomInt: (max) => inner.randomInt(max),
    pace: () => inner.pace(),
    spawn: (label, fn) => inner.spawn(label, fn),
    listen: (address) => inner.listen(address),
    dial: (address) => inner.dial(address),
    registry: inner.registry,
  }
}
