/**
 * Runs the Rust reference peer (`interop/`, built with `cargo build --profile interop -p quorumnet-interop`)
 * and reads its JSON-line events. `P2P_INTEROP=1` (CI) makes a missing binary an error; otherwise the
 * interop suites skip with a message saying how to build it.
 */
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process'
import { existsSync } from 'node:fs'
import { join } from 'node:path'
import { createInterface } from 'node:readline'

export const STREAM_PEER = join(import.meta.dirname, '..', '..', 'target', 'interop', 'stream_peer')
export const P2P_NODE = join(import.meta.dirname, '..', '..', 'target', 'interop', 'p2p_node')
export const hasRustPeer = existsSync(STREAM_PEER) && existsSync(P2P_NODE)
if (!hasRustPeer && process.env.P2P_INTEROP === '1') {
  throw new Error(`P2P_INTEROP=1 but ${STREAM_PEER} or ${P2P_NODE} is missing: run \`cargo build --profile interop -p quorumnet-interop\``)
}
export const skipReason = `Rust peer not built (${STREAM_PEER}); build it with \`cargo build --profile interop -p quorumnet-interop\``

export interface RustPeer {
  proc: ChildProcessWithoutNullStreams
  /** Resolves with the first event of this kind (rejects on an `error` event or exit). */
  waitFor(kind: string): Promise<Record<string, unknown>>
  /** Resolves once `predicate` holds for the events seen so far (checked on every new event). */
  until(predicate: (events: Record<string, unknown>[]) => boolean): Promise<void>
  /** Write one JSON command line. */
  command(cmd: Record<string, unknown>): void
  stop(): void
}

export function startRustPeer(bin: string, args: string[]): RustPeer {
  const proc = spawn(bin, args, { stdio: ['pipe', 'pipe', 'pipe'] })
  const seen: Record<string, unknown>[] = []
  const waiters: { kind: string; resolve: (e: Record<string, unknown>) => void; reject: (e: Error) => void }[] = []
  let stderr = ''
  proc.stderr.on('data', (d: Buffer) => (stderr = (stderr + d.toString()).slice(-4000)))
  const settle = (ev: Record<string, unknown>) => {
    for (const w of [...waiters]) {
      if (ev.event === 'error') w.reject(new Error(`rust peer: ${String(ev.error)}`))
      else if (ev.event === w.kind) w.resolve(ev)
      else continue
      waiters.splice(waiters.indexOf(w), 1)
    }
  }
  const conditions: { predicate: (e: Record<string, unknown>[]) => boolean; resolve: () => void }[] = []
  createInterface({ input: proc.stdout }).on('line', (line) => {
    const ev = JSON.parse(line) as Record<string, unknown>
    seen.push(ev)
    settle(ev)
    for (const c of [...conditions]) {
      if (c.predicate(seen)) {
        conditions.splice(conditions.indexOf(c), 1)
        c.resolve()
      }
    }
  })
  proc.on('exit', (code) => {
    for (const w of waiters.splice(0)) w.reject(new Error(`rust peer exited (${code}) before '${w.kind}'; stderr: ${stderr}`))
  })
  return {
    proc,
    waitFor: (kind) =>
      new Promise((resolve, reject) => {
        const hit = seen.find((e) => e.event === kind || e.event === 'error')
        if (hit) return hit.event === 'error' ? reject(new Error(`rust peer: ${String(hit.error)}`)) : resolve(hit)
        if (proc.exitCode !== null) return reject(new Error(`rust peer already exited (${proc.exitCode}); stderr: ${stderr}`))
        waiters.push({ kind, resolve, reject })
      }),
    until: (predicate) =>
      new Promise((resolve) => {
        if (predicate(seen)) resolve()
        else conditions.push({ predicate, resolve })
      }),
    command: (cmd) => {
      proc.stdin.write(JSON.stringify(cmd) + '\n')
    },
    stop: () => {
      proc.stdin.end()
      proc.kill()
    },
  }
}

/** A free loopback port (bound and released; the peer binds it right after). */
export { freePort } from '../../src/runtime/node.js'
