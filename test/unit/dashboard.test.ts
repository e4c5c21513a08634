/**
 * The Grafana dashboard (dashboards/quorumnet.json) reads only metrics a node exports: a node is built
 * with a channel registered, the names on its registry are read, and every metric named in a panel or
 * variable query must be one of them. The panels the dashboard promises (peers, rates per channel,
 * drops and refusals by reason, round trip, skew, backend) are there.
 */
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { Registry } from 'prom-client'
import { describe, expect, it } from 'vitest'
import { Config, Network } from '../../src/authenticated/index.js'
import { Ed25519 } from '../../src/crypto/index.js'
import { DeterministicRuntime } from '../../src/runtime/index.js'
import { Quota } from '../../src/utils/quota.js'

interface Target {
  expr: string
}
interface Panel {
  title: string
  type: string
  targets?: Target[]
  panels?: Panel[]
}
interface Dashboard {
  panels: Panel[]
  templating: { list: { query?: string | { query: string }; definition?: string }[] }
}

const dashboard = JSON.parse(readFileSync(join(import.meta.dirname, '..', '..', 'dashboards', 'quorumnet.json'), 'utf8')) as Dashboard

/** Every PromQL expression of the dashboard: panel targets and variable queries. */
function expressions(d: Dashboard): string[] {
  const out: string[] = []
  const walk = (ps: Panel[]) => {
    for (const p of ps) {
      for (const t of p.targets ?? []) out.push(t.expr)
      walk(p.panels ?? [])
    }
  }
  walk(d.panels)
  for (const v of d.templating.list) {
    const q = typeof v.query === 'string' ? v.query : v.query?.query
    if (q && q !== 'prometheus') out.push(q)
  }
  return out
}

const KEYWORDS = new Set(['by', 'without', 'on', 'ignoring', 'group_left', 'group_right', 'and', 'or', 'unless', 'bool', 'offset'])

/** The metric names an expression reads: identifiers that are not functions, keywords, labels or numbers. */
function metricNames(expr: string): string[] {
  const bare = expr
    .replace(/"(?:[^"\\]|\\.)*"/g, '""')
    .replace(/\{[^}]*\}/g, '')
    .replace(/\[[^\]]*\]/g, '')
    .replace(/\b(by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)/g, '')
    .replace(/label_values\(([^,()]+),[^)]*\)/g, '$1')
  return [...bare.matchAll(/[A-Za-z_:][A-Za-z0-9_:]*/g)]
    .filter((m) => !/^\s*\(/.test(bare.slice(m.index + m[0].length)))
    .map((m) => m[0])
    .filter((w) => !KEYWORDS.has(w))
}

describe('Grafana dashboard', () => {
  const rt = new DeterministicRuntime({ seed: 1 })
  const registry = new Registry()
  const ctx = rt.context('10.0.9.1', registry)
  const { network } = Network.create(ctx, Config.test(Ed25519.fromSeed(1), new TextEncoder().encode('dash'), '10.0.9.1:4000', [], 1 << 16))
  network.register(0, Quota.perSecond(10), 8, { compression: 3 })
  const exported = new Set(registry.getMetricsAsArray().map((m) => m.name))

  it('reads metric names out of PromQL', () => {
    expect(metricNames('sum by (reason) (rate(messages_dropped{instance=~"$instance", reason!="x"}[$__rate_interval]))')).toEqual(['messages_dropped'])
    expect(metricNames('count by (instance) (peer_clock_skew_ms{instance=~"$instance"}) / tracked_peers')).toEqual(['peer_clock_skew_ms', 'tracked_peers'])
    expect(metricNames('label_values(p2p_backend_native, instance)')).toEqual(['p2p_backend_native'])
  })

  it('every metric its expressions name is one the node exports', () => {
    const exprs = expressions(dashboard)
    expect(exprs.length).toBeGreaterThan(20)
    const named = new Set(exprs.flatMap(metricNames))
    expect([...named].filter((n) => !exported.has(n))).toEqual([])
    // And it leaves none of them out.
    expect([...exported].filter((n) => !named.has(n))).toEqual([])
  })

  it('has the panels an operator looks for', () => {
    const titles = dashboard.panels.map((p) => p.title.toLowerCase())
    for (const want of ['backend', 'connected peers', 'by channel', 'dropped', 'refused', 'round trip', 'clock skew']) {
      expect(titles.some((t) => t.includes(want)), want).toBe(true)
    }
  })
})
