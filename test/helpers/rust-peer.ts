/**
 * Runs the Rust reference peer (`interop/`, built with `cargo build --profile interop -p quorumnet-interop`)
 * and reads its JSON-line events. `P2P_INTEROP=1` (CI) makes a missing binary an error; otherwise the
 * interop suites skip with a message saying how to build it.
 */
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process'
import { existsSync } from 'node:fs'
import { createServer } from 'node:net'
import { join } from 'node:path'
import { createInterface } from 'node:readline'

export const STREAM_PEER = join(import.meta.dirname, '..', '..', 'target', 'interop', 'stream_peer')
export const hasRustPeer = existsSync(STREAM_PEER)
if (!hasRustPeer && process.env.P2P_INTEROP === '1') {
  throw new Error(`P2P_INTEROP=1 but ${STREAM_PEER} is missing: run \`cargo build --profile interop -p quorumnet-interop\``)
}
export const skipReason = `Rust peer not built (${STREAM_PEER}); build it with \`cargo build --profile interop -p quorumnet-interop\``

export interface RustPeer {
  proc: ChildProcessWithoutNullStreams
  /** Resolves with the first event of this kind (rejects on an `error` event or exit). */
  waitFor(kind: string): Promise<Record<string, unknown>>
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
  createInterface({ input: proc.stdout }).on('line', (line) => {
    const ev = JSON.parse(line) as Record<string, unknown>
    seen.push(ev)
    settle(ev)
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
    stop: () => {
      proc.stdin.end()
      proc.kill()
    },
  }
}

/** A free loopback port (bound and released; the peer binds it right after). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer()
    s.once('error', reject)
    s.listen(0, '127.0.0.1', () => {
      const a = s.address()
      const port = typeof a === 'object' && a ? a.port : 0
      s.close(() => resolve(port))
    })
  })
}
