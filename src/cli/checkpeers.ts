/**
 * `quorumnet check-peers`: dial every key of a peer set, run the full handshake with each, and say
 * per peer whether it is reachable (with the handshake's round trip and clock skew) or why not.
 *
 * ## Design
 * The identity, namespace and timing come from a node file (`nodeconfig.ts`), as `quorumnet node`
 * reads it. The keys checked are one peer set of the file (`--set`, default the highest index), our
 * own key left out, plus every `--peer <hex>@<ip:port>`; a key's address is its `--peer` address, else
 * its bootstrapper address in the file. All keys are dialed at once, each with `upgradeDialer` (the
 * dialer side of the real handshake) under one deadline (`--timeout-ms`, default the config's
 * `handshakeTimeoutMs`), and the connection is closed as soon as the handshake completes. One line per
 * key, in set order, then a summary; exit 0 only if every key was reachable, 1 otherwise.
 *
 * Outcomes: `reachable` (round trip, skew; a skew past half of `synchronyBoundMs` is flagged),
 * `wrong_key` (another key answered: `WrongPeer`), `clock_skew` (its handshake timestamp is outside our
 * window: `InvalidTimestampFuture` or `InvalidTimestampOld`, with the measured skew), `refused`
 * (connection refused, or closed before answering: a peer refuses by closing, whether our key is not in
 * its sets, already connected, over its connection rate, or our clock is outside its window),
 * `timeout` (no answer before the deadline), `no_address` (nothing to dial), `error` (anything else).
 * A conforming node never answers a handshake addressed to another key (`HandshakeNotForUs`), so a
 * node of the wrong key at an address shows as `refused`; `wrong_key` is a peer that answers as another.
 *
 * ## Not provided
 * A check that does not cost the peer anything: each check is a real handshake, which spends a cell
 * of the peer's per-key connection rate (`allowedConnectionRatePerPeer`, one a minute under the
 * `recommended` preset) and is refused while the node with this key is connected to it. Run it before
 * starting the node, or with the node stopped. Discovery-mode addresses learned by gossip are not
 * known here: give them with `--peer`.
 *
 * ## Example
 * ```sh
 * quorumnet check-peers --config node.json --peer 3b6a...@203.0.113.7:3000
 * ```
 */
import { STREAM_SUFFIX, withSuffix } from '../codec/index.js'
import { HandshakeError, isP2pError } from '../errors.js'
import { TIMER_CANCELLED, type Connection, type Context } from '../runtime/context.js'
import { NodeContext } from '../runtime/node.js'
import { StreamConfig, upgradeDialer } from '../stream/index.js'
import { intFlag, parseFlags, stringFlag, UsageError, type Flags } from './args.js'
import { hex, publicKeyFrom } from './keys.js'
import type { NodeIo } from './node.js'
import { loadNodeFile, type NodeFile } from './nodeconfig.js'

export const CHECK_PEERS_USAGE = `usage: quorumnet check-peers --config <file.json> [--set N] [--peer <hex>@<ip:port>]... [--timeout-ms N] [--json]

Dials every key of a peer set of the node file (default: the highest index; our own key is skipped)
and every --peer, runs the full handshake as this node, and prints one line per key: reachable (with
round trip and clock skew), wrong_key, clock_skew, refused, timeout or no_address. A key's address
is its --peer address, else its bootstrapper address in the file. Exit 0 only if all were reachable.
Each check spends one of the peer's connections for this key: run it while this node is stopped.`

/** What checking one key found. */
export interface PeerCheck {
  /** The key checked, hex. */
  publicKey: string
  /** The address dialed (undefined when none is known). */
  address: string | undefined
  status: 'reachable' | 'wrong_key' | 'clock_skew' | 'refused' | 'timeout' | 'no_address' | 'error'
  /** Handshake round trip, ms (reachable only). */
  rttMs?: number
  /** The peer's clock minus ours, ms (reachable and clock_skew). */
  skewMs?: number
  /** Whether the skew is past half the synchrony bound (reachable only). */
  skewWarning?: boolean
  /** What happened, for people. */
  detail: string
}

/** Check `targets` as the node of `file` would dial them, all at once; resolves in target order. */
export async function checkPeers(ctx: Context, file: NodeFile, targets: { publicKey: Uint8Array; address: string | undefined }[], timeoutMs: number): Promise<PeerCheck[]> {
  const cfg = file.config
  const stream: StreamConfig = {
    ...StreamConfig.recommended(cfg.signer, withSuffix(cfg.namespace, STREAM_SUFFIX), cfg.maxMessageSize + 64),
    synchronyBoundMs: cfg.synchronyBoundMs,
    maxHandshakeAgeMs: cfg.maxHandshakeAgeMs,
    handshakeTimeoutMs: timeoutMs,
  }
  return Promise.all(targets.map((t) => checkOne(ctx, stream, t.publicKey, t.address)))
}

async function checkOne(ctx: Context, stream: StreamConfig, key: Uint8Array, address: string | undefined): Promise<PeerCheck> {
  const base = { publicKey: hex(key), address }
  if (address === undefined) return { ...base, status: 'no_address', detail: 'no address: not a bootstrapper of the file; give one with --peer <hex>@<ip:port>' }
  const deadline = ctx.now() + stream.handshakeTimeoutMs
  let socket: Connection | undefined
  try {
    socket = await withDeadline(ctx, ctx.dial(address), stream.handshakeTimeoutMs, (late) => late.sink.close())
    if (!socket) return { ...base, status: 'timeout', detail: `timeout: no connection in ${stream.handshakeTimeoutMs} ms` }
    const conn = await upgradeDialer(ctx, { ...stream, handshakeTimeoutMs: Math.max(1, Math.ceil(deadline - ctx.now())) }, socket, key)
    conn.close()
    const t = conn.timing!
    const skewMs = Math.round(t.skewMs)
    const skewWarning = Math.abs(t.skewMs) > stream.synchronyBoundMs / 2
    const detail = `reachable: rtt ${t.rttMs} ms, clock skew ${signed(skewMs)} ms${skewWarning ? ` (warning: over half the ${stream.synchronyBoundMs} ms synchrony bound)` : ''}`
    return { ...base, status: 'reachable', rttMs: t.rttMs!, skewMs, skewWarning, detail }
  } catch (e) {
    socket?.sink.close()
    return { ...base, ...failure(e, stream) }
  }
}

function failure(e: unknown, stream: StreamConfig): Pick<PeerCheck, 'status' | 'detail' | 'skewMs'> {
  if (e instanceof HandshakeError) {
    if (e.reason === 'WrongPeer') return { status: 'wrong_key', detail: `wrong key (WrongPeer): ${e.message.replace(/^.*: /, 'another key ')}` }
    if (e.skewMs !== undefined) {
      const skewMs = Math.round(e.skewMs)
      const bound = e.reason === 'InvalidTimestampFuture' ? `ahead beyond the ${stream.synchronyBoundMs} ms synchrony bound` : `behind beyond the ${stream.maxHandshakeAgeMs} ms handshake age`
      return { status: 'clock_skew', skewMs, detail: `clock skew (${e.reason}): its clock is ${signed(skewMs)} ms from ours, ${bound}` }
    }
    if (e.reason === 'RecvFailed') {
      return { status: 'refused', detail: 'refused: closed before answering (a node closes a handshake not addressed to its key, from a key not in its peer sets or already connected, over its connection rate, or stamped outside its clock window)' }
    }
    return { status: 'error', detail: `handshake failed (${e.reason}): ${e.message}` }
  }
  if (isP2pError(e, 'ERR_HANDSHAKE_TIMEOUT')) return { status: 'timeout', detail: `timeout: no answer in ${stream.handshakeTimeoutMs} ms` }
  const code = ((e as Error).cause as NodeJS.ErrnoException | undefined)?.code
  if (isP2pError(e, 'ERR_CLOSED')) return { status: 'refused', detail: code === 'ECONNREFUSED' ? 'refused: connection refused (nothing listening)' : `refused: ${(e as Error).message}` }
  return { status: 'error', detail: (e as Error).message }
}

const signed = (n: number): string => (n > 0 ? `+${n}` : String(n))

/** `work`'s value, or undefined if it is not there within `ms` (then `late` gets it when it comes). */
async function withDeadline<T>(ctx: Context, work: Promise<T>, ms: number, late: (v: T) => void): Promise<T | undefined> {
  const timer = new AbortController()
  let timedOut = false
  const timeout = ctx.sleep(ms, timer.signal).then(
    () => {
      timedOut = true
      return undefined
    },
    () => undefined,
  )
  try {
    return await Promise.race([work, timeout])
  } finally {
    timer.abort(TIMER_CANCELLED)
    if (timedOut) work.then(late, () => undefined)
  }
}

/** `<hex>@<ip:port>` flags as keys and addresses. */
function peerFlags(flags: Flags, file: NodeFile): { publicKey: Uint8Array; address: string }[] {
  const raw = flags.peer
  const list = raw === undefined ? [] : Array.isArray(raw) ? raw : [String(raw)]
  return list.map((p, i) => {
    const at = p.lastIndexOf('@')
    if (at < 0) throw new UsageError(`--peer must be <hex key>@<ip:port>, got ${JSON.stringify(p)}`)
    const address = p.slice(at + 1)
    if (!/^(\[[0-9a-fA-F:.]+\]|[0-9.]+):\d{1,5}$/.test(address)) throw new UsageError(`--peer ${i + 1}: address must be "ip:port", got ${JSON.stringify(address)}`)
    return { publicKey: publicKeyFrom(`--peer ${i + 1}`, file.scheme, p.slice(0, at)), address }
  })
}

export async function runCheckPeers(argv: string[], io: NodeIo): Promise<number> {
  const flags = parseFlags(argv, {
    config: { type: 'string', short: 'c' },
    set: { type: 'string' },
    peer: { type: 'string', multiple: true },
    'timeout-ms': { type: 'string' },
    json: { type: 'boolean' },
  })
  if (flags.help) {
    io.stdout.write(CHECK_PEERS_USAGE + '\n')
    return 0
  }
  const path = stringFlag(flags, 'config')
  if (path === undefined) throw new UsageError('check-peers needs --config <file.json> (see `quorumnet check-peers --help`)')
  const ctx = new NodeContext()
  const file = loadNodeFile(path, (n) => ctx.randomBytes(n))
  const me = hex(file.config.signer.publicKey)
  const highest = file.peerSets.reduce((a, s) => (s.index > a ? s.index : a), file.peerSets[0]!.index)
  const index = flags.set === undefined ? highest : BigInt(intFlag(flags, 'set', 0, 0, Number.MAX_SAFE_INTEGER))
  const set = file.peerSets.find((s) => s.index === index)
  if (!set) throw new UsageError(`--set ${index}: the file has no peer set of that index (it has ${file.peerSets.map((s) => String(s.index)).join(', ')})`)
  const timeoutMs = intFlag(flags, 'timeout-ms', file.config.handshakeTimeoutMs, 1, 600_000)
  const given = peerFlags(flags, file)
  const addressOf = new Map<string, string>()
  for (const b of file.config.bootstrappers) addressOf.set(hex(b.publicKey), b.address)
  for (const p of given) addressOf.set(hex(p.publicKey), p.address)
  const keys = new Map<string, Uint8Array>()
  for (const k of [...set.peers, ...given.map((p) => p.publicKey)]) if (hex(k) !== me) keys.set(hex(k), k)
  if (keys.size === 0) throw new UsageError(`nothing to check: peer set ${index} has no key but ours, and no --peer was given`)
  const targets = [...keys.entries()].map(([h, publicKey]) => ({ publicKey, address: addressOf.get(h) }))
  const results = await checkPeers(ctx, file, targets, timeoutMs)
  if (flags.json) io.stdout.write(JSON.stringify(results) + '\n')
  else {
    for (const r of results) io.stdout.write(`${r.status === 'reachable' ? 'ok  ' : 'FAIL'} ${r.publicKey.slice(0, 16)} ${(r.address ?? '-').padEnd(21)} ${r.detail}\n`)
    const ok = results.filter((r) => r.status === 'reachable').length
    io.stdout.write(`${ok}/${results.length} reachable\n`)
  }
  return results.every((r) => r.status === 'reachable') ? 0 : 1
}
