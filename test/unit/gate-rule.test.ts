// The benchmark gate's rule (bench/e2e/gate-rule.ts): it must pass two builds of the same code whose
// sessions disagree as much as they do on this machine, and fail a build that is clearly slower.
import { describe, expect, it } from 'vitest'
import { readFileSync } from 'node:fs'
import { verdict } from '../../bench/e2e/gate-rule.js'

/** The gate's own settings: the rule is checked as CI runs it. */
const cfg = JSON.parse(readFileSync(new URL('../../bench/gate.json', import.meta.url), 'utf8')) as { z: number; sessions: number; cycles: number; allowedSlowdown: number }
const Z = cfg.z
const A = cfg.allowedSlowdown

/** Windows [cycle][session] (sessions b1 c1 b2 c2 ..) from per-session levels, `cycles` equal windows. */
const windows = (b: number[], c: number[], cycles = 2): number[][] =>
  Array.from({ length: cycles }, () => b.flatMap((x, j) => [x, c[j]!]))

/** A seeded generator (mulberry32) and a standard normal from it. */
function rng(seed: number) {
  let a = seed >>> 0
  const next = () => {
    a = (a + 0x6d2b79f5) >>> 0
    let t = a
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
  const normal = () => Math.sqrt(-2 * Math.log(1 - next())) * Math.cos(2 * Math.PI * next())
  return { next, normal }
}

/**
 * One simulated run: `m` sessions per build, each a process pair that is 25% faster than usual with
 * probability 0.3 (as measured for 1 MiB messages) plus a 8% per-session level, and 5% window noise;
 * the candidate's true speed is `factor` times the baseline's.
 */
function simulate(r: ReturnType<typeof rng>, m: number, factor: number, cycles = 2): number[][] {
  const level = () => 500 * (r.next() < 0.3 ? 1.25 : 1) * Math.exp(0.08 * r.normal())
  const b = Array.from({ length: m }, level)
  const c = Array.from({ length: m }, () => level() * factor)
  return Array.from({ length: cycles }, () => b.flatMap((x, j) => [x * Math.exp(0.05 * r.normal()), c[j]! * Math.exp(0.05 * r.normal())]))
}

describe('benchmark gate rule', () => {
  it('passes the same code when whole sessions run fast or slow (the outside failure: two fast baseline sessions)', () => {
    const v = verdict(windows([615, 612, 470, 480], [511, 505, 600, 470]), A, Z)
    expect(v.fail).toBe(false)
    expect(v.ratio).toBeGreaterThan(0.9)
  })

  it('fails a build a third slower, and one 20% slower when sessions agree', () => {
    expect(verdict(windows([500, 480, 520, 490], [330, 340, 320, 335]), A, Z).fail).toBe(true)
    const v = verdict(windows([500, 505, 495, 502], [400, 404, 398, 401]), A, Z)
    expect(v.fail).toBe(true)
    expect(v.ratio).toBeCloseTo(0.8, 2)
  })

  it('allows 10% beyond the measured spread and no more', () => {
    expect(verdict(windows([500, 500, 500, 501], [460, 460, 461, 460]), A, Z).fail).toBe(false)
    expect(verdict(windows([500, 500, 500, 501], [440, 440, 441, 440]), A, Z).fail).toBe(true)
  })

  it('a wider session spread lowers the limit', () => {
    const tight = verdict(windows([500, 502, 498, 500], [500, 501, 499, 500]), A, Z)
    const wide = verdict(windows([600, 420, 520, 470], [610, 430, 500, 480]), A, Z)
    expect(wide.limit).toBeLessThan(tight.limit)
    expect(tight.limit).toBeCloseTo(0.9, 1)
  })

  it(`same code fails rarely and a 40% slower build nearly always, with ${cfg.sessions} sessions per build`, () => {
    const r = rng(21)
    let falseFails = 0
    let caught = 0
    const runs = 2000
    for (let i = 0; i < runs; i++) {
      if (verdict(simulate(r, cfg.sessions, 1, cfg.cycles), A, Z).fail) falseFails++
      if (verdict(simulate(r, cfg.sessions, 0.6, cfg.cycles), A, Z).fail) caught++
    }
    expect(falseFails / runs).toBeLessThan(0.005)
    expect(caught / runs).toBeGreaterThan(0.9)
  })
})
