/**
 * Prometheus metrics of an authenticated network (the reference's metric set, plus bytes and backend).
 *
 * ## Design
 * Counters are labelled with `peer` (hex key) and `message` (channel id, or -1 for bit vectors, -2 for
 * Peers, as in the reference). Registered on the context's registry (or the one in the config).
 */
import { Counter, Gauge, type Registry } from 'prom-client'
import { backend } from '../native/load.js'

export const BITVEC = '-1'
export const PEERS = '-2'

export class Metrics {
  readonly messagesSent: Counter<'peer' | 'message'>
  readonly messagesReceived: Counter<'peer' | 'message'>
  readonly messagesRateLimited: Counter<'peer' | 'message'>
  readonly messagesDropped: Counter<'peer' | 'message' | 'reason'>
  readonly bytesSent: Counter<'peer'>
  readonly bytesReceived: Counter<'peer'>
  readonly connections: Gauge
  readonly trackedPeers: Gauge
  readonly dialAttempts: Counter<'outcome'>
  readonly peersKilled: Counter<'reason'>
  readonly handshakesRefused: Counter<'reason'>

  constructor(registry: Registry) {
    const counter = <L extends string>(name: string, help: string, labelNames: L[]) =>
      (registry.getSingleMetric(name) as Counter<L> | undefined) ?? new Counter({ name, help, labelNames, registers: [registry] })
    const gauge = (name: string, help: string) => (registry.getSingleMetric(name) as Gauge | undefined) ?? new Gauge({ name, help, registers: [registry] })
    this.messagesSent = counter('messages_sent', 'messages sent, by peer and message type', ['peer', 'message'])
    this.messagesReceived = counter('messages_received', 'messages received, by peer and message type', ['peer', 'message'])
    this.messagesRateLimited = counter('messages_rate_limited', 'messages delayed by an inbound rate limit', ['peer', 'message'])
    this.messagesDropped = counter('messages_dropped', 'messages dropped, with the reason', ['peer', 'message', 'reason'])
    this.bytesSent = counter('bytes_sent', 'frame bytes written, by peer', ['peer'])
    this.bytesReceived = counter('bytes_received', 'message bytes received, by peer', ['peer'])
    this.connections = gauge('connections', 'reserved connections (including dials in progress)')
    this.trackedPeers = gauge('tracked_peers', 'keys in the address book')
    this.dialAttempts = counter('dial_attempts', 'outbound dials, by outcome', ['outcome'])
    this.peersKilled = counter('peers_killed', 'connections ended for a protocol violation, by reason', ['reason'])
    this.handshakesRefused = counter('handshakes_refused', 'inbound handshakes refused, by reason', ['reason'])
    const b = gauge('p2p_backend_native', '1 when the Rust addon runs the hot paths, 0 on the TypeScript fallback')
    b.set(backend === 'native' ? 1 : 0)
  }
}
