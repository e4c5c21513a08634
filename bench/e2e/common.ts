/**
 * Shared definitions of the end-to-end benchmark (bench/e2e): scenarios, candidates, the messages
 * between the harness and its child processes, and small statistics helpers.
 *
 * Every figure is computed by the side that observes it (the receiver counts deliveries, the client
 * times round trips and connections) on its own clock, over consecutive windows that the harness marks.
 */

/** Scenarios over real loopback sockets. */
export type SocketScenario = 'throughput' | 'rate' | 'rtt' | 'rtt-awake' | 'conns' | 'fanout' | 'vote'
export type Scenario = SocketScenario | 'discovery'

/** Candidates run by the worker (the Rust reference node is driven by the harness itself). */
export type WorkerImpl = 'raw-tcp' | 'quorumnet' | 'libp2p' | 'secret-stream'
/** Candidate names in the results: quorumnet is split by backend. */
export type Candidate = 'raw-tcp' | 'quorumnet-native' | 'quorumnet-fallback' | 'libp2p' | 'secret-stream' | 'rust-commonware'
export const CANDIDATES: Candidate[] = ['quorumnet-native', 'quorumnet-fallback', 'raw-tcp', 'libp2p', 'secret-stream', 'rust-commonware']

export interface ScenarioSpec {
  name: SocketScenario
  title: string
  /** Message size, bytes. */
  size: number
  unit: string
  /** Whether a bigger figure is better (false for latency). */
  higherIsBetter: boolean
  /** Which side counts: the listening side (receiver) or the dialing side (client). */
  counter: 'server' | 'client'
  /**
   * Keep every CPU out of its idle state during the run (one nice-19 busy loop per core). In a VM an
   * idle vCPU halts, and waking it adds tens of microseconds to every round trip of a ping-pong.
   */
  awake?: boolean
  /** What to keep in mind when reading the figure. */
  note?: string
}

export const SCENARIOS: Record<SocketScenario, ScenarioSpec> = {
  throughput: { name: 'throughput', title: '1 MiB messages, one direction', size: 1 << 20, unit: 'MB/s', higherIsBetter: true, counter: 'server' },
  rate: { name: 'rate', title: '100 B messages, one direction (counted by the receiver)', size: 100, unit: 'msgs/s', higherIsBetter: true, counter: 'server' },
  rtt: {
    name: 'rtt',
    title: '100 B request/response round trip',
    size: 100,
    unit: 'us',
    higherIsBetter: false,
    counter: 'client',
    note: 'With idle CPUs, a loopback round trip in this VM mostly measures how fast a halted vCPU wakes up (tens of microseconds, varying with what else keeps the CPUs busy: a slower candidate can even come out faster). rtt-awake compares the software.',
  },
  'rtt-awake': { name: 'rtt-awake', title: '100 B request/response round trip, CPUs kept out of idle', size: 100, unit: 'us', higherIsBetter: false, counter: 'client', awake: true },
  conns: { name: 'conns', title: 'authenticated connections (dial, full handshake, close)', size: 0, unit: 'conns/s', higherIsBetter: true, counter: 'client' },
  fanout: { name: 'fanout', title: 'one node broadcasting 1 KiB to 16 peers', size: 1024, unit: 'deliveries/s', higherIsBetter: true, counter: 'server' },
  vote: {
    name: 'vote',
    title: 'latency of a small vote every 10 ms while another peer floods the same node with 1 KiB messages',
    size: 1024,
    unit: 'us',
    higherIsBetter: false,
    counter: 'server',
    note: 'Two dialing identities in one process, one connection each: one sends 1 KiB messages back to back, the other a 16 B vote carrying its send time (performance.timeOrigin + performance.now(), one clock for both processes); the listening side records each vote\'s latency.',
  },
}

/** Size of a vote in the vote scenario (bytes), and how often one is sent (ms). */
export const VOTE_SIZE = 16
export const VOTE_EVERY_MS = 10

/** Peers of the fan-out scenario. */
export const FANOUT_PEERS = 16
/** Dial loops running at once in the connection scenario (each with its own identity). */
export const CONN_CONCURRENCY = 8
/** Largest message any scenario sends. */
export const MAX_MESSAGE = 1 << 20

/** Seeds of the identities: the listening node(s) from 1, dialing identities from 100. */
export const SERVER_SEED = 1
export const CLIENT_SEED = 100

/** What the counting side reports at every mark. */
export interface Mark {
  /** performance.now() of the counting process, ms. */
  t: number
  /** Messages (or connections) counted since the start. */
  count: number
  /** Payload bytes counted since the start. */
  bytes: number
  /** Round-trip times (us) observed since the previous mark (rtt only). */
  latencies?: number[]
  /** CPU time (user + system) this process has used since it started, us. */
  cpuUs?: number
}

/** Harness to worker. */
export type Command =
  | { id: number; cmd: 'listen'; impl: WorkerImpl; scenario: SocketScenario }
  | { id: number; cmd: 'dial'; impl: WorkerImpl; scenario: SocketScenario; info: unknown }
  | { id: number; cmd: 'start' }
  | { id: number; cmd: 'pause' }
  | { id: number; cmd: 'mark' }
  | { id: number; cmd: 'rss' }
  | { id: number; cmd: 'stop' }
  | { id: number; cmd: 'exit' }

/** Worker to harness. */
export type Reply = { id: number; ok: true; result: unknown } | { id: number; ok: false; error: string }

export const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b)
  const m = s.length >> 1
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2
}

/** The q-quantile (0..1) of sorted values, nearest rank. */
export const quantile = (sorted: ArrayLike<number>, q: number): number => sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))]!

/** A free loopback port (bound, then released for the caller to bind). */
export { freePort } from '../../src/runtime/node.js'

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms))
