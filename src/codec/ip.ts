/**
 * Whether an IP address is globally routable, with the reference's exact rules (its `ip.rs`).
 *
 * ## Design
 * Applied only to addresses in gossiped peer records when private addresses are not allowed
 * (PROTOCOL.md 5.8). IPv4 is not global if it is in 0/8, 10/8, 172.16/12, 192.168/16, 100.64/10,
 * 127/8, 169.254/16, 192.0.0/24 (except .9 and .10), 192.0.2/24, 198.51.100/24, 203.0.113/24,
 * 198.18/15, 240/4 or the broadcast address. IPv6 is not global if unspecified, loopback,
 * IPv4-mapped, 64:ff9b:1::/48, 100::/64, 2001::/23 (with the reference's exceptions), 2002::/16,
 * 2001:db8::/32, fc00::/7 or fe80::/10. Multicast counts as global, as in the reference.
 *
 * ## Example
 * `isGlobal({ host: '8.8.8.8', port: 53, family: 4 })` is true; `127.0.0.1` is not.
 */
import { ipBytes, type SocketAddress } from './address.js'

function isGlobalV4(o: Uint8Array): boolean {
  const [a, b, c, d] = [o[0]!, o[1]!, o[2]!, o[3]!]
  const broadcast = a === 255 && b === 255 && c === 255 && d === 255
  return !(
    a === 0 ||
    a === 10 ||
    (a === 172 && (b & 0xf0) === 16) ||
    (a === 192 && b === 168) ||
    (a === 100 && (b & 0xc0) === 64) ||
    a === 127 ||
    (a === 169 && b === 254) ||
    (a === 192 && b === 0 && c === 0 && d !== 9 && d !== 10) ||
    (a === 192 && b === 0 && c === 2) ||
    (a === 198 && b === 51 && c === 100) ||
    (a === 203 && b === 0 && c === 113) ||
    (a === 198 && (b & 0xfe) === 18) ||
    ((a & 240) === 240 && !broadcast) ||
    broadcast
  )
}

function isGlobalV6(o: Uint8Array): boolean {
  const s = Array.from({ length: 8 }, (_, i) => (o[2 * i]! << 8) | o[2 * i + 1]!)
  const allZeroUntil = (n: number) => s.slice(0, n).every((g) => g === 0)
  const unspecified = s.every((g) => g === 0)
  const loopback = allZeroUntil(7) && s[7] === 1
  const mapped = allZeroUntil(5) && s[5] === 0xffff
  const special2001 =
    s[0] === 0x2001 &&
    s[1]! < 0x200 &&
    !(
      (s[1] === 1 && s.slice(2, 7).every((g) => g === 0) && (s[7] === 1 || s[7] === 2)) ||
      s[1] === 3 ||
      (s[1] === 4 && s[2] === 0x112) ||
      (s[1]! >= 0x20 && s[1]! <= 0x3f)
    )
  return !(
    unspecified ||
    loopback ||
    mapped ||
    (s[0] === 0x64 && s[1] === 0xff9b && s[2] === 1) ||
    (s[0] === 0x100 && s[1] === 0 && s[2] === 0 && s[3] === 0) ||
    special2001 ||
    s[0] === 0x2002 ||
    (s[0] === 0x2001 && s[1] === 0xdb8) ||
    (s[0]! & 0xfe00) === 0xfc00 ||
    (s[0]! & 0xffc0) === 0xfe80
  )
}

export function isGlobal(addr: SocketAddress): boolean {
  const bytes = ipBytes(addr)
  return addr.family === 4 ? isGlobalV4(bytes) : isGlobalV6(bytes)
}
