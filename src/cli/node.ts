/**
 * `quorumnet node --config node.json`: a long-running authenticated node with a chat on stdin/stdout.
 *
 * ## Design
 * Reads the node file (`nodeconfig.ts`), starts a `Network` on a `NodeContext`, registers the peer sets
 * and channels, and then:
 * - each stdin line is sent to every connected peer on the chat channel (logged as `chat_sent`);
 * - each message received on the chat channel is printed on stdout as `<sender key, 16 hex>: <text>`;
 *   messages on other channels are logged (`message`, debug level);
 * - connections and disconnections are logged as they happen (`peer_connected`, `peer_disconnected`);
 * - Prometheus metrics are served over HTTP at `http://<metrics>/metrics` when `metrics` is set;
 * - SIGINT or SIGTERM stops the network, closes the metrics server, logs `stopped` and exits 0.
 * Logs are JSON lines on stderr (`log.ts`). A port already in use ends the node with one line.
 *
 * ## Not provided
 * Persistence (peers learned are forgotten on restart), daemonizing, TLS on the metrics endpoint
 * (bind it to a private address).
 *
 * ## Example
 * ```sh
 * quorumnet node --config examples/chat/alice.json
 * ```
 */
import { createServer, type Server } from 'node:http'
import { createInterface } from 'node:readline'
import { Network } from '../authenticated/network.js'
import { Recipients, type Receiver } from '../authenticated/types.js'
import { backend } from '../native/load.js'
import { NodeContext } from '../runtime/node.js'
import { parseAddress } from '../runtime/context.js'
import { parseFlags, stringFlag, UsageError } from './args.js'
import { hex } from './keys.js'
import { Logger } from './log.js'
import { channelQuota, FIELDS, loadNodeFile } from './nodeconfig.js'

export const NODE_USAGE = `usage: quorumnet node --config <file.json>

Runs one node until SIGINT/SIGTERM. Lines typed on stdin are sent to every connected peer on the
chat channel; messages received on it are printed. Logs are JSON lines on stderr.

Config fields:
${Object.entries(FIELDS)
  .map(([k, v]) => `  ${k.padEnd(16)}${v}`)
  .join('\n')}`

/** What a running node needs from the process: its streams and signal hooks (tests pass their own). */
export interface NodeIo {
  stdin: NodeJS.ReadableStream
  stdout: { write(s: string): unknown }
  stderr: { write(s: string): unknown }
  onSignal(handler: (signal: string) => void): void
}

export async function runNode(argv: string[], io: NodeIo): Promise<number> {
  const flags = parseFlags(argv, { config: { type: 'string', short: 'c' } })
  if (flags.help) {
    io.stdout.write(NODE_USAGE + '\n')
    return 0
  }
  const path = stringFlag(flags, 'config')
  if (path === undefined) throw new UsageError('node needs --config <file.json> (see `quorumnet node --help`)')
  const ctx = new NodeContext()
  const file = loadNodeFile(path, (n) => ctx.randomBytes(n))
  const log = new Logger(file.logLevel, () => ctx.now(), (line) => io.stderr.write(line))
  const me = file.config.signer.publicKey

  const { network, oracle } = Network.create(ctx, file.config)
  for (const set of file.peerSets) oracle.register(set.index, set.peers)
  if (!file.peerSets.some((s) => s.peers.some((k) => hex(k) === hex(me)))) {
    log.warn('not_in_peer_set', { hint: 'add this node\'s publicKey to a peer set, or peers will refuse it' })
  }
  const channels = file.channels.map((c) => ({ spec: c, pair: network.register(c.id, channelQuota(c), c.backlog, { compression: c.compression, overflow: c.overflow }) }))
  const chat = channels.find((c) => c.spec.id === file.chatChannel)!.pair[0]
  const handle = network.start()
  try {
    await handle.listening
  } catch (e) {
    await handle.stop()
    throw new UsageError(`cannot listen on ${file.config.listen}: ${(e as Error).message.replace(/^listen \S+: /, '')}`)
  }
  const metrics = file.metrics === undefined ? undefined : await serveMetrics(file.metrics, ctx).catch(async (e: Error) => {
    await handle.stop()
    throw new UsageError(`cannot serve metrics on ${file.metrics}: ${e.message}`)
  })
  log.info('started', {
    publicKey: hex(me),
    scheme: file.scheme,
    listen: file.config.listen,
    dialable: file.config.dialable,
    backend,
    metrics: metrics ? `http://${file.metrics}/metrics` : null,
    channels: file.channels.map((c) => ({ id: c.id, name: c.name })),
    chatChannel: file.chatChannel,
  })

  const tasks: Promise<void>[] = []
  let stopping = false
  const stopped = new Promise<string>((resolve) => io.onSignal(resolve))

  // Connections, as they change.
  tasks.push(
    (async () => {
      let known = new Map<string, Uint8Array>()
      while (!stopping) {
        await Promise.race([network.whenPeers((c) => !sameKeys(c, known)), stopped])
        if (stopping) return
        const now = new Map(network.connected().map((k) => [hex(k), k] as const))
        for (const k of now.keys()) if (!known.has(k)) log.info('peer_connected', { peer: k, connected: now.size })
        for (const k of known.keys()) if (!now.has(k)) log.info('peer_disconnected', { peer: k, connected: now.size })
        known = now
      }
    })(),
  )
  // Received messages: chat to stdout, the rest to the log.
  const decoder = new TextDecoder()
  for (const { spec, pair } of channels) {
    tasks.push(
      drain(pair[1], (from, msg) => {
        if (spec.id === file.chatChannel) io.stdout.write(`${hex(from).slice(0, 16)}: ${decoder.decode(msg)}\n`)
        else log.debug('message', { channel: spec.id, from: hex(from), bytes: msg.length })
      }),
    )
  }
  // stdin lines to every connected peer.
  const lines = createInterface({ input: io.stdin, terminal: false })
  lines.on('line', (line) => {
    if (line.length === 0 || stopping) return
    chat.send(Recipients.all(), new TextEncoder().encode(line)).then(
      (to) => log.info('chat_sent', { bytes: Buffer.byteLength(line), peers: to.length }),
      (e: Error) => log.warn('chat_not_sent', { error: e.message }),
    )
  })

  const signal = await stopped
  stopping = true
  log.info('stopping', { signal })
  lines.close()
  await handle.stop()
  await new Promise<void>((resolve) => (metrics ? metrics.close(() => resolve()) : resolve()))
  await Promise.allSettled(tasks)
  log.info('stopped', {})
  return 0
}

function sameKeys(connected: Uint8Array[], known: Map<string, Uint8Array>): boolean {
  return connected.length === known.size && connected.every((k) => known.has(hex(k)))
}

async function drain(receiver: Receiver, each: (from: Uint8Array, msg: Uint8Array) => void): Promise<void> {
  for await (const [from, msg] of receiver) each(from, msg)
}

function serveMetrics(address: string, ctx: NodeContext): Promise<Server> {
  const { host, port } = parseAddress(address)
  const server = createServer((req, res) => {
    if (req.method !== 'GET' || (req.url !== '/metrics' && req.url !== '/')) {
      res.writeHead(404).end('not found: metrics are at /metrics\n')
      return
    }
    ctx.registry.metrics().then(
      (body) => res.writeHead(200, { 'content-type': ctx.registry.contentType }).end(body),
      (e: Error) => res.writeHead(500).end(e.message),
    )
  })
  return new Promise((resolve, reject) => {
    server.once('error', reject)
    server.listen(port, host, () => resolve(server))
  })
}
