/**
 * The `quorumnet node` config file: a JSON document naming the node's identity, addresses, peers and
 * channels, checked field by field before anything starts.
 *
 * ## Design
 * Every field is listed in `FIELDS`; an unknown field is an error (a typo must not silently fall back
 * to a default). Errors name the file and the field path (`node.json: bootstrappers[1].publicKey: ...`).
 * The network settings start from one of the library's presets (`recommended`, `aggressive`, `test`)
 * and the file overrides what it names. The result is a ready `Config` for `Network.create`.
 *
 * ## Not provided
 * Reloading: a node reads its file once at start. Hostnames: addresses are IP literals, as on the wire.
 *
 * ## Example
 * ```json
 * { "seed": 1, "namespace": "chat", "listen": "127.0.0.1:4001",
 *   "bootstrappers": [{ "publicKey": "<hex>", "address": "127.0.0.1:4000" }],
 *   "peerSets": [{ "index": 0, "peers": ["<hex>", "<hex>"] }], "preset": "aggressive" }
 * ```
 */
import { readFileSync } from 'node:fs'
import { Config, verifyConfig, type Bootstrapper } from '../authenticated/config.js'
import type { Overflow } from '../authenticated/peer.js'
import { isP2pError } from '../errors.js'
import type { RandomBytes } from '../crypto/scheme.js'
import { Quota } from '../utils/quota.js'
import { UsageError } from './args.js'
import { publicKeyFrom, schemeOf, signerFrom, type SchemeName } from './keys.js'

/** One channel of a node: its id, a label for logs, and the library's channel settings. */
export interface ChannelFile {
  id: number
  name: string
  ratePerSecond: number
  backlog: number
  compression?: number
  /** What `send` does when a peer's queue is full (default `wait`). */
  overflow: Overflow
}

/** A parsed and checked node file. */
export interface NodeFile {
  scheme: SchemeName
  config: Config
  peerSets: { index: bigint; peers: Uint8Array[] }[]
  channels: ChannelFile[]
  /** Channel whose messages stdin lines are sent on and printed from. */
  chatChannel: number
  /** Where `/metrics` is served ("host:port"), if anywhere. */
  metrics?: string
  logLevel: LogLevelName
}

export type LogLevelName = 'debug' | 'info' | 'warn' | 'error'
const LOG_LEVELS: LogLevelName[] = ['debug', 'info', 'warn', 'error']
const PRESETS = ['recommended', 'aggressive', 'test'] as const

/** Every top-level field a node file may have, with what it holds (printed by `quorumnet node --help`). */
export const FIELDS: Record<string, string> = {
  scheme: '"ed25519" (default) or "bls12381"',
  privateKey: 'hex private key (from `quorumnet keygen`); or use "seed"',
  seed: 'integer: derive the key as Ed25519.fromSeed(seed) does (tests and demos only)',
  namespace: 'application namespace (UTF-8 string); must match across peers',
  listen: 'address to bind, "ip:port"',
  dialable: 'address others dial, signed into our record (default: listen)',
  bootstrappers: '[{ "publicKey": hex, "address": "ip:port" }] dialed at start',
  peerSets: '[{ "index": n, "peers": [hex, ...] }] who may connect (include yourself)',
  channels: '[{ "id", "name", "ratePerSecond", "backlog", "compression"?, "overflow"? ("wait", "drop-newest" or "drop-oldest") }] (default: one "chat" channel 0)',
  chatChannel: 'channel id that stdin lines are sent on (default: the channel named "chat", else the first)',
  preset: '"recommended" (default), "aggressive" or "test": timing and limits to start from',
  allowPrivateIps: 'boolean: accept private/loopback addresses in gossip (the aggressive and test presets do)',
  maxMessageSize: 'largest message in bytes (default 65536, at least 256)',
  metrics: '"ip:port" to serve Prometheus metrics at /metrics (default: off)',
  logLevel: '"debug", "info" (default), "warn" or "error"',
}

const CHANNEL_FIELDS = ['id', 'name', 'ratePerSecond', 'backlog', 'compression', 'overflow']
const OVERFLOWS: Overflow[] = ['wait', 'drop-newest', 'drop-oldest']

type Json = Record<string, unknown>

function object(where: string, value: unknown): Json {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new UsageError(`${where} must be an object`)
  return value as Json
}

function array(where: string, value: unknown): unknown[] {
  if (!Array.isArray(value)) throw new UsageError(`${where} must be an array`)
  return value
}

function onlyFields(where: string, obj: Json, allowed: string[]): void {
  for (const key of Object.keys(obj)) {
    if (!allowed.includes(key)) throw new UsageError(`${where}unknown field ${JSON.stringify(key)} (known: ${allowed.join(', ')})`)
  }
}

function int(where: string, value: unknown, min: number, max: number): number {
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < min || value > max) {
    throw new UsageError(`${where} must be an integer from ${min} to ${max}, got ${JSON.stringify(value)}`)
  }
  return value
}

function overflowOf(where: string, value: unknown): Overflow {
  if (!(OVERFLOWS as unknown[]).includes(value)) throw new UsageError(`${where} must be one of ${OVERFLOWS.map((o) => JSON.stringify(o)).join(', ')}, got ${JSON.stringify(value)}`)
  return value as Overflow
}

function str(where: string, value: unknown): string {
  if (typeof value !== 'string') throw new UsageError(`${where} must be a string`)
  return value
}

/** Read and check a node file; every problem is a `UsageError` naming the file and the field. */
export function loadNodeFile(path: string, random: RandomBytes): NodeFile {
  let text: string
  try {
    text = readFileSync(path, 'utf8')
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code
    throw new UsageError(code === 'ENOENT' ? `${path}: no such file` : `${path}: cannot read (${code ?? (e as Error).message})`)
  }
  let json: unknown
  try {
    json = JSON.parse(text)
  } catch (e) {
    throw new UsageError(`${path}: invalid JSON (${(e as Error).message})`)
  }
  try {
    return parseNodeFile(json, random)
  } catch (e) {
    if (e instanceof UsageError) throw new UsageError(`${path}: ${e.message}`)
    throw e
  }
}

/** Check a parsed node file (see `FIELDS`). */
export function parseNodeFile(json: unknown, random: RandomBytes): NodeFile {
  const f = object('the config', json)
  onlyFields('', f, Object.keys(FIELDS))
  const scheme = f.scheme === undefined ? 'ed25519' : schemeOf('scheme', f.scheme)
  if (f.seed !== undefined && f.privateKey !== undefined) throw new UsageError('give either privateKey or seed, not both')
  if (f.seed === undefined && f.privateKey === undefined) throw new UsageError('privateKey is required (create one with `quorumnet keygen`)')
  const signer = signerFrom(scheme, {
    seed: f.seed === undefined ? undefined : int('seed', f.seed, 0, Number.MAX_SAFE_INTEGER),
    privateKey: f.privateKey === undefined ? undefined : str('privateKey', f.privateKey),
    random,
  })
  if (f.namespace === undefined) throw new UsageError('namespace is required')
  const namespace = new TextEncoder().encode(str('namespace', f.namespace))
  if (f.listen === undefined) throw new UsageError('listen is required ("ip:port")')
  const listen = str('listen', f.listen)

  const bootstrappers: Bootstrapper[] = array('bootstrappers', f.bootstrappers ?? []).map((b, i) => {
    const where = `bootstrappers[${i}]`
    const o = object(where, b)
    onlyFields(`${where}: `, o, ['publicKey', 'address'])
    return { publicKey: publicKeyFrom(`${where}.publicKey`, scheme, o.publicKey), address: str(`${where}.address`, o.address) }
  })
  const peerSets = array('peerSets', f.peerSets ?? []).map((s, i) => {
    const where = `peerSets[${i}]`
    const o = object(where, s)
    onlyFields(`${where}: `, o, ['index', 'peers'])
    const peers = array(`${where}.peers`, o.peers).map((k, j) => publicKeyFrom(`${where}.peers[${j}]`, scheme, k))
    return { index: BigInt(int(`${where}.index`, o.index, 0, Number.MAX_SAFE_INTEGER)), peers }
  })
  if (peerSets.length === 0) throw new UsageError('peerSets is required: at least one set of peer keys')

  const channels: ChannelFile[] = array('channels', f.channels ?? [{ id: 0, name: 'chat', ratePerSecond: 100, backlog: 1024 }]).map((c, i) => {
    const where = `channels[${i}]`
    const o = object(where, c)
    onlyFields(`${where}: `, o, CHANNEL_FIELDS)
    return {
      id: int(`${where}.id`, o.id, 0, 0xffff_ffff),
      name: o.name === undefined ? `channel-${String(o.id)}` : str(`${where}.name`, o.name),
      ratePerSecond: int(`${where}.ratePerSecond`, o.ratePerSecond ?? 100, 1, 1_000_000_000),
      backlog: int(`${where}.backlog`, o.backlog ?? 1024, 1, 1_000_000),
      compression: o.compression === undefined ? undefined : int(`${where}.compression`, o.compression, 1, 22),
      overflow: overflowOf(`${where}.overflow`, o.overflow ?? 'wait'),
    }
  })
  if (channels.length === 0) throw new UsageError('channels must not be empty')
  const ids = new Set(channels.map((c) => c.id))
  if (ids.size !== channels.length) throw new UsageError('channels: two channels share an id')
  const chatChannel =
    f.chatChannel === undefined ? (channels.find((c) => c.name === 'chat') ?? channels[0]!).id : int('chatChannel', f.chatChannel, 0, 0xffff_ffff)
  if (!ids.has(chatChannel)) throw new UsageError(`chatChannel ${chatChannel} is not one of the channels`)

  const preset = f.preset === undefined ? 'recommended' : str('preset', f.preset)
  if (!(PRESETS as readonly string[]).includes(preset)) throw new UsageError(`preset must be one of ${PRESETS.join(', ')}, got ${JSON.stringify(preset)}`)
  const maxMessageSize = f.maxMessageSize === undefined ? 65_536 : int('maxMessageSize', f.maxMessageSize, 256, 0xffff_0000)
  const config: Config = Config[preset as (typeof PRESETS)[number]](signer, namespace, listen, bootstrappers, maxMessageSize)
  if (f.dialable !== undefined) config.dialable = str('dialable', f.dialable)
  if (f.allowPrivateIps !== undefined) {
    if (typeof f.allowPrivateIps !== 'boolean') throw new UsageError('allowPrivateIps must be true or false')
    config.allowPrivateIps = f.allowPrivateIps
  }
  try {
    verifyConfig(config)
  } catch (e) {
    if (isP2pError(e, 'ERR_INVALID_CONFIG')) throw new UsageError(e.message)
    throw e
  }
  const metrics = f.metrics === undefined ? undefined : str('metrics', f.metrics)
  if (metrics !== undefined && !/^(\[[0-9a-fA-F:.]+\]|[0-9.]+):\d{1,5}$/.test(metrics)) throw new UsageError(`metrics must be "ip:port", got ${JSON.stringify(metrics)}`)
  const logLevel = f.logLevel === undefined ? 'info' : str('logLevel', f.logLevel)
  if (!(LOG_LEVELS as string[]).includes(logLevel)) throw new UsageError(`logLevel must be one of ${LOG_LEVELS.join(', ')}`)
  return { scheme, config, peerSets, channels, chatChannel, metrics, logLevel: logLevel as LogLevelName }
}

/** The channel's quota as the library takes it. */
export const channelQuota = (c: ChannelFile): Quota => Quota.perSecond(c.ratePerSecond)
