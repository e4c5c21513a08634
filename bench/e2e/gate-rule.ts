/**
 * The benchmark gate's rule (bench/e2e/gate.ts runs the sessions; the header there and
 * bench/README.md explain it): compare a candidate build with a baseline build across sessions, each
 * session a separate pair of processes measured in several windows.
 */

export interface Verdict {
  /** Candidate/baseline: the ratio of the geometric means of the sessions (R). */
  ratio: number
  /** Standard deviation (log) of the session figures of the baseline and of the candidate. */
  sdB: number
  sdC: number
  /** Spread S (log). */
  spread: number
  /** Lowest passing ratio. */
  limit: number
  fail: boolean
}

const mean = (xs: number[]) => xs.reduce((a, x) => a + x, 0) / xs.length
const sd = (xs: number[]) => {
  const m = mean(xs)
  return Math.sqrt(xs.reduce((a, x) => a + (x - m) ** 2, 0) / (xs.length - 1))
}

/**
 * The rule of the header. `windows[k][i]`: the figure of session i in cycle k, sessions in the order
 * b1 c1 b2 c2 .. bm cm.
 */
export function verdict(windows: number[][], allowedSlowdown: number, z: number): Verdict {
  const m = windows[0]!.length / 2
  const session = (i: number) => mean(windows.map((w) => Math.log(w[i]!)))
  const b = Array.from({ length: m }, (_, j) => session(2 * j))
  const c = Array.from({ length: m }, (_, j) => session(2 * j + 1))
  const lr = mean(c) - mean(b)
  const sdB = sd(b)
  const sdC = sd(c)
  const spread = z * Math.sqrt((sdB ** 2 + sdC ** 2) / 2) * Math.sqrt(2 / m)
  const limit = Math.log(1 - allowedSlowdown) - spread
  return { ratio: Math.exp(lr), sdB, sdC, spread, limit: Math.exp(limit), fail: lr < limit }
}
