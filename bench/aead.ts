/**
 * aead::seal+open: batched frame sealing and opening, the hot path of every connection.
 *
 * Candidates: the addon and the fallback through the `Binding` (one call per batch each way), and
 * node:crypto's chacha20-poly1305 (one cipher object per frame, as an application would use it).
 */
import { createCipheriv, createDecipheriv } from 'node:crypto'
import { backends, newBench, param, printRatios, randomBytes, type Row } from './util.js'

const KEY = randomBytes(32, 7)
const CASES = [
  { size: 64, batch: 64 },
  { size: 100, batch: 64 },
  { size: 1024, batch: 64 },
  { size: 65_536, batch: 16 },
  { size: 1 << 20, batch: 2 },
]

export async function run(): Promise<Row[]> {
  const bench = newBench('aead::seal+open (one batch per op)')
  for (const { size, batch } of CASES) {
    const plain = randomBytes(size * batch, size)
    const lens = new Uint32Array(batch).fill(size)
    for (const { name, b } of backends) {
      const tx = new b.SendCipher(KEY, true, 1 << 21)
      const rx = new b.RecvCipher(KEY, false, 1 << 21)
      bench.add(`aead::seal+open/backend=${name} size=${size} batch=${batch}`, () => {
        const res = rx.openFrames(tx.sealFrames(plain, lens))
        if (res.error !== null || res.lens.length !== batch) throw new Error(`open failed: ${res.error}`)
      })
    }
    const nonce = Buffer.alloc(12)
    let seq = 0
    bench.add(`aead::seal+open/backend=node-crypto size=${size} batch=${batch}`, () => {
      for (let i = 0; i < batch; i++) {
        nonce.writeUInt32BE(seq++, 8)
        const frame = plain.subarray(i * size, (i + 1) * size)
        const c = createCipheriv('chacha20-poly1305', KEY, nonce, { authTagLength: 16 })
        const ct = Buffer.concat([c.update(frame), c.final()])
        const tag = c.getAuthTag()
        const d = createDecipheriv('chacha20-poly1305', KEY, nonce, { authTagLength: 16 })
        d.setAuthTag(tag)
        d.update(ct)
        d.final()
      }
    })
  }
  await bench.run()
  return printRatios(bench, {
    group: (t) => `${param(t, 'size')}/${param(t, 'batch')}`,
    who: (t) => param(t, 'backend'),
    baselines: ['js', 'node-crypto'],
    bytesPerOp: (t) => Number(param(t, 'size')) * Number(param(t, 'batch')),
  })
}
