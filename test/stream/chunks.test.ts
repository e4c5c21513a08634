/**
 * The encrypted connection's reassembly of frames from arbitrary socket chunks, on both backends:
 * large frames (assembled in one buffer as they arrive) and small ones, split anywhere, come out whole
 * and in order; a byte altered inside a large frame ends the connection with DecryptFailedError.
 */
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import type { Connection } from '../../src/runtime/index.js'
import { EncryptedConnection } from '../../src/stream/index.js'
import { backends, FC_SEED } from '../helpers/backends.js'

const KEY = new Uint8Array(32).fill(9)
const MAX = 1 << 20
const PEER = new Uint8Array(32)

/** A connection whose received chunks are the given ones; what is sent is collected. */
function scripted(chunks: Uint8Array[]): { conn: Connection; sent: Uint8Array[] } {
  const sent: Uint8Array[] = []
  let i = 0
  return {
    sent,
    conn: {
      remote: 'test:0',
      stream: { recv: async () => (i < chunks.length ? Uint8Array.from(chunks[i++]!) : null) },
      sink: { send: async (b: Uint8Array) => void sent.push(Uint8Array.from(b)), close: () => undefined },
    },
  }
}

/** The bytes a dialer's connection writes for `msgs` (one batch). */
async function sealed(b: (typeof backends)[number]['b'], msgs: Uint8Array[]): Promise<Uint8Array> {
  const { conn, sent } = scripted([])
  const tx = new EncryptedConnection(conn, KEY, true, MAX, PEER, new Uint8Array(0), b)
  await tx.sendMany(msgs)
  return Buffer.concat(sent)
}

function split(bytes: Uint8Array, cuts: number[]): Uint8Array[] {
  const points = [...new Set(cuts.map((c) => c % (bytes.length + 1)))].sort((x, y) => x - y)
  const out: Uint8Array[] = []
  let at = 0
  for (const p of [...points, bytes.length]) {
    if (p > at) out.push(bytes.subarray(at, p))
    at = p
  }
  return out
}

const message = (size: number, seed: number) => Uint8Array.from({ length: size }, (_, i) => (i * 31 + seed) & 0xff)

describe.each(backends)('frame reassembly [$name]', ({ b }) => {
  it('large and small frames split at any points arrive whole and in order', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(fc.oneof(fc.integer({ min: 0, max: 300 }), fc.integer({ min: 65_000, max: 400_000 })), { minLength: 1, maxLength: 4 }), fc.array(fc.nat(), { maxLength: 12 }), async (sizes, cuts) => {
        const msgs = sizes.map((s, i) => message(s, i))
        const { conn } = scripted(split(await sealed(b, msgs), cuts))
        const rx = new EncryptedConnection(conn, KEY, false, MAX, PEER, new Uint8Array(0), b)
        for (const m of msgs) expect(Buffer.from(await rx.recv()).equals(Buffer.from(m))).toBe(true)
        await expect(rx.recv()).rejects.toMatchObject({ code: 'ERR_CLOSED' })
      }),
      { seed: FC_SEED, numRuns: 40 },
    )
  })

  it('a byte altered inside a large frame ends the connection with DecryptFailedError', async () => {
    const bytes = await sealed(b, [message(300_000, 1), message(10, 2)])
    bytes[150_000]! ^= 1
    const { conn } = scripted(split(bytes, [1000, 70_000, 200_000, 300_010]))
    const rx = new EncryptedConnection(conn, KEY, false, MAX, PEER, new Uint8Array(0), b)
    await expect(rx.recv()).rejects.toMatchObject({ code: 'ERR_DECRYPT_FAILED' })
  })
})
