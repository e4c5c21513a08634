/**
 * Socket addresses in peer records, and the bytes a peer record signs.
 *
 * ## Design
 * PROTOCOL.md 4.2: IPv4 is 4 octets || port u16 BE (6 bytes), IPv6 16 octets || port (18 bytes); flow
 * info and scope ids are not carried. An IPv4-mapped IPv6 address stays 18 bytes and parses back as
 * IPv6. Any other length is refused (`InvalidIPLength` in the reference, which kills the sender).
 * A record signs `socket || timestamp u64 BE` under the namespace `ns || "_TRACKER" || "_IP"`.
 *
 * ## Not provided
 * Name resolution: addresses are IP literals.
 *
 * ## Example
 * `encodeSocket({ host: '127.0.0.1', port: 3000 })` is `7f 00 00 01 0b b8`.
 */
import { isIPv4, isIPv6 } from 'node:net'
import { DecodeError, InvalidArgumentError } from '../errors.js'

/** p2p's tracker namespace suffix, then the tracker's own suffix for address records. */
export const TRACKER_SUFFIX = '_TRACKER'
export const IP_SUFFIX = '_IP'

export interface SocketAddress {
  host: string
  port: number
  family: 4 | 6
}

function ipv4Bytes(host: string): Uint8Array {
  return Uint8Array.from(host.split('.').map(Number))
}

function ipv6Bytes(host: string): Uint8Array {
  let text = host.replace(/^\[|\]$/g, '').replace(/%.*$/, '')
  const out = new Uint8Array(16)
  // A trailing dotted IPv4 part becomes two hextets.
  const v4 = /(\d+\.\d+\.\d+\.\d+)$/.exec(text)
  if (v4) {
    const b = ipv4Bytes(v4[1]!)
    text = text.slice(0, -v4[1]!.length) + `${((b[0]! << 8) | b[1]!).toString(16)}:${((b[2]! << 8) | b[3]!).toString(16)}`
  }
  const [head, tail] = text.includes('::') ? text.split('::') : [text, undefined]
  const h = head ? head.split(':') : []
  const t = tail !== undefined && tail !== '' ? tail.split(':') : []
  const groups = tail === undefined ? h : [...h, ...Array<string>(8 - h.length - t.length).fill('0'), ...t]
  groups.forEach((g, i) => {
    const v = parseInt(g, 16)
    out[2 * i] = v >> 8
    out[2 * i + 1] = v & 0xff
  })
  return out
}

function ipv6Text(b: Uint8Array): string {
  const groups = Array.from({ length: 8 }, (_, i) => (b[2 * i]! << 8) | b[2 * i + 1]!)
  // RFC 5952: compress the longest run (>= 2) of zero groups, the first one on ties.
  let best = -1
  let bestLen = 1
  for (let i = 0; i < 8; ) {
    if (groups[i] !== 0) {
      i++
      continue
    }
    let j = i
    while (j < 8 && groups[j] === 0) j++
    if (j - i > bestLen) {
      best = i
      bestLen = j - i
    }
    i = j
  }
  const hex = groups.map((g) => g.toString(16))
  if (best < 0) return hex.join(':')
  return `${hex.slice(0, best).join(':')}::${hex.slice(best + bestLen).join(':')}`
}

/** Parse `host` (IP literal) and port into an address; throws `InvalidArgumentError` otherwise. */
export function socketAddress(host: string, port: number): SocketAddress {
  const bare = host.replace(/^\[|\]$/g, '')
  if (!Number.isInteger(port) || port < 0 || port > 0xffff) throw new InvalidArgumentError(`invalid port ${port}`)
  if (isIPv4(bare)) return { host: bare, port, family: 4 }
  if (isIPv6(bare)) return { host: ipv6Text(ipv6Bytes(bare)), port, family: 6 }
  throw new InvalidArgumentError(`not an IP address: ${host}`)
}

/** The wire bytes of an address: 6 (IPv4) or 18 (IPv6) bytes, the port big-endian last. */
export function encodeSocket(addr: { host: string; port: number }): Uint8Array {
  const a = socketAddress(addr.host, addr.port)
  const ip = a.family === 4 ? ipv4Bytes(a.host) : ipv6Bytes(a.host)
  const out = new Uint8Array(ip.length + 2)
  out.set(ip)
  out[ip.length] = a.port >> 8
  out[ip.length + 1] = a.port & 0xff
  return out
}

/** Parse socket bytes from a record; throws `DecodeError` (InvalidIPLength) unless 6 or 18 bytes. */
export function decodeSocket(bytes: Uint8Array): SocketAddress {
  if (bytes.length !== 6 && bytes.length !== 18) {
    throw new DecodeError(`InvalidIPLength: socket of ${bytes.length} bytes`)
  }
  const port = (bytes[bytes.length - 2]! << 8) | bytes[bytes.length - 1]!
  if (bytes.length === 6) return { host: Array.from(bytes.subarray(0, 4)).join('.'), port, family: 4 }
  return { host: ipv6Text(bytes.subarray(0, 16)), port, family: 6 }
}

/** `socket || timestamp u64 BE`: what a peer record signs (under ns || "_TRACKER_IP"). */
export function peerRecordPayload(socket: Uint8Array, timestamp: bigint): Uint8Array {
  const out = new Uint8Array(socket.length + 8)
  out.set(socket)
  new DataView(out.buffer).setBigUint64(socket.length, timestamp)
  return out
}

/** The 16 bytes of an IPv6 address or 4 of an IPv4 one. */
export function ipBytes(addr: SocketAddress): Uint8Array {
  return addr.family === 4 ? ipv4Bytes(addr.host) : ipv6Bytes(addr.host)
}
