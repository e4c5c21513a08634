/**
 * Outputs of the end-to-end benchmark: bench/results/e2e.json (everything), e2e.md (tables with each
 * figure's ratio to raw TCP and to js-libp2p, the targets) and one hand-written SVG bar chart per
 * scenario. Ratios only compare figures of the same run.
 */
import { execSync } from 'node:child_process'
import { cpus, release, totalmem } from 'node:os'
import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { CANDIDATES, median, SCENARIOS, type Candidate, type SocketScenario } from './common.js'
import type { Figure, Mode, Result, Timing } from './run.js'

export interface Machine {
  cpu: string
  cores: number
  node: string
  os: string
  memoryGB: number
}

export function machine(): Machine {
  return {
    cpu: cpus()[0]?.model.trim() ?? 'unknown',
    cores: cpus().length,
    node: process.version,
    os: `${process.platform} ${release()}`,
    memoryGB: Math.round(totalmem() / 2 ** 30),
  }
}

export interface Report {
  title: string
  date: string
  commit: string
  machine: Machine
  timing: Timing
  method: string[]
  results: Result[]
}

export function newReport(title: string, timing: Timing, method: string[]): Report {
  // E2E_COMMIT names the code measured when it runs from an export rather than a checkout.
  let commit = process.env.E2E_COMMIT ?? 'unknown'
  try {
    if (!process.env.E2E_COMMIT) {
      commit = execSync('git rev-parse --short HEAD', { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim()
      if (execSync('git status --porcelain', { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim()) commit += ' (+ uncommitted changes)'
    }
  } catch {
    // not a git checkout
  }
  return { title, date: new Date().toISOString(), commit, machine: machine(), timing, method, results: [] }
}

const MODES: Mode[] = ['two-process', 'one-process']

export function find(r: Report, scenario: SocketScenario, candidate: Candidate, mode: Mode): Result | undefined {
  return r.results.find((x) => x.scenario === scenario && x.candidate === candidate && x.mode === mode)
}

/** value / baseline, or undefined when either is missing. For latency this is a multiple of the baseline's latency. */
export function ratio(r: Report, scenario: SocketScenario, candidate: Candidate, base: Candidate, mode: Mode): number | undefined {
  const a = find(r, scenario, candidate, mode)?.figure?.median
  const b = find(r, scenario, base, mode)?.figure?.median
  return a !== undefined && b !== undefined && b > 0 ? a / b : undefined
}

export function fmt(v: number, unit: string): string {
  if (!Number.isFinite(v)) return 'n/a'
  if (unit === 'MB/s' || unit === 'us' || unit === 's') return v >= 100 ? v.toFixed(0) : v.toFixed(1)
  return v >= 1e6 ? `${(v / 1e6).toFixed(2)}M` : v >= 1e4 ? `${(v / 1e3).toFixed(0)}k` : v.toFixed(0)
}

const cell = (f: Figure | undefined, unit: string) => (f ? `${fmt(f.median, unit)} (${fmt(f.min, unit)}..${fmt(f.max, unit)})` : '')
const x = (v: number | undefined) => (v === undefined ? '' : `${v.toFixed(2)}x`)

function scenarioTable(r: Report, s: SocketScenario): string[] {
  const spec = SCENARIOS[s]
  const lines: string[] = []
  const lat = !spec.higherIsBetter
  lines.push(`### ${s}: ${spec.title} (${lat ? 'p50 and p99, us; lower is better' : spec.unit})`)
  lines.push('')
  if (spec.note) lines.push(spec.note, '')
  const head = lat
    ? ['candidate', 'layout', 'p50 median (min..max)', 'p99 median (min..max)', 'p50 / raw-tcp', 'p50 / libp2p']
    : ['candidate', 'layout', `${spec.unit} median (min..max)`, 'x raw-tcp', 'x libp2p']
  head.push('peak RSS, MB (listener / dialer)')
  lines.push(`| ${head.join(' | ')} |`, `| ${head.map(() => '---').join(' | ')} |`)
  for (const mode of MODES) {
    for (const c of CANDIDATES) {
      const res = find(r, s, c, mode)
      if (!res) continue
      if (!res.figure) {
        lines.push(`| ${c} | ${mode} | not run: ${res.reason ?? 'no figure'} |${' |'.repeat(head.length - 3)}`)
        continue
      }
      const err = (res.errors ? ` [${res.errors} errors]` : '') + ((res.backgroundCpu ?? 0) >= 0.15 ? ' *' : '')
      const row = lat
        ? [c, mode, cell(res.figure, 'us') + err, cell(res.p99, 'us'), x(ratio(r, s, c, 'raw-tcp', mode)), x(ratio(r, s, c, 'libp2p', mode))]
        : [c, mode, cell(res.figure, spec.unit) + err, x(ratio(r, s, c, 'raw-tcp', mode)), x(ratio(r, s, c, 'libp2p', mode))]
      row.push(res.peakRssMB?.length ? res.peakRssMB.map((v) => (Number.isFinite(v) ? v.toFixed(0) : '?')).join(' / ') : 'n/a')
      lines.push(`| ${row.join(' | ')} |`)
    }
  }
  lines.push('')
  return lines
}

function discoveryTable(r: Report): string[] {
  const rows = r.results.filter((x) => x.scenario === 'discovery')
  if (rows.length === 0) return []
  const lines = [
    '### discovery: N nodes on the deterministic runtime, all bootstrapped from one, until each is connected to all N - 1 others',
    '',
    '| candidate | N | virtual time | wall time | peak RSS |',
    '| --- | --- | --- | --- | --- |',
  ]
  for (const d of rows) {
    const n = d.discovery?.n ?? '?'
    if (d.reason) lines.push(`| ${d.candidate} | ${n} | not finished: ${d.reason} | | |`)
    else lines.push(`| ${d.candidate} | ${n} | ${(d.discovery!.virtualMs / 1000).toFixed(2)} s | ${d.discovery!.wallS.toFixed(1)} s | ${d.discovery!.peakRssMB.toFixed(0)} MB |`)
  }
  lines.push('')
  const p = projection(r)
  if (p) lines.push(p, '')
  return lines
}

/**
 * For a size that did not finish: what the two largest completed native sizes project for it (memory
 * per connection, and wall time growing as N^k between them).
 */
export function projection(r: Report): string | undefined {
  const native = r.results.filter((x) => x.scenario === 'discovery' && x.candidate === 'quorumnet-native')
  const done = native.filter((x) => !x.reason).map((x) => x.discovery!).sort((a, b) => a.n - b.n)
  const missing = native.filter((x) => x.reason).map((x) => x.discovery!.n)
  if (done.length < 2 || missing.length === 0) return undefined
  const [a, b] = [done.at(-2)!, done.at(-1)!]
  const target = Math.max(...missing)
  const pairs = (n: number) => (n * (n - 1)) / 2
  const perConnKB = ((b.peakRssMB - a.peakRssMB) * 1024) / (pairs(b.n) - pairs(a.n))
  const k = Math.log(b.wallS / a.wallS) / Math.log(b.n / a.n)
  const memGB = (b.peakRssMB + (perConnKB * (pairs(target) - pairs(b.n))) / 1024) / 1024
  const wallS = b.wallS * (target / b.n) ** k
  // The pace at the cutoff, from the last progress line: connections made per wall-clock second.
  const cut = native.find((x) => x.reason && x.discovery!.n === target)!.reason!
  const m = /wall (\d+) s, virtual [\d.]+ s, ([\d.]+) of (\d+) connections/.exec(cut)
  const pace = m ? ` At the cutoff it had ${Math.round(Number(m[2])).toLocaleString('en')} of ${Number(m[3]).toLocaleString('en')} connections after ${m[1]} s: at that pace (it only slows down as connections accumulate) the mesh would take at least ${((Number(m[3]) / (Number(m[2]) / Number(m[1]))) / 3600).toFixed(1)} hours.` : ''
  return (
    `Projection for N = ${target} from N = ${a.n} and ${b.n}: each connection (both ends) adds about ${perConnKB.toFixed(0)} KB of RSS, ` +
    `so ${pairs(target).toLocaleString('en')} connections need about ${memGB.toFixed(0)} GB (this machine has ${r.machine.memoryGB} GB); ` +
    `wall time grows as N^${k.toFixed(1)} there, about ${(wallS / 60).toFixed(0)} minutes for N = ${target} if memory allowed. ` +
    `The largest N that finished within the budget: ${b.n}.` +
    pace
  )
}

export interface Target {
  name: string
  measured: string
  met: boolean | undefined
  detail: string
}

/** The issue's targets (2 cores, two processes, native backend). */
export function targets(r: Report): Target[] {
  const two: Mode = 'two-process'
  const med = (s: SocketScenario, c: Candidate) => find(r, s, c, two)?.figure?.median
  const out: Target[] = []
  const check = (name: string, value: number | undefined, limit: number, atLeast: boolean, show: (v: number) => string) => {
    if (value === undefined) return out.push({ name, measured: 'not measured', met: undefined, detail: '' })
    const met = atLeast ? value >= limit : value <= limit
    const detail = met ? `met (${atLeast ? (value / limit).toFixed(2) + 'x the target' : 'within the limit'})` : `missed: ${atLeast ? `${((1 - value / limit) * 100).toFixed(0)}% below` : `${((value / limit - 1) * 100).toFixed(0)}% above`}`
    out.push({ name, measured: show(value), met, detail })
  }
  const nat = (s: SocketScenario) => med(s, 'quorumnet-native')
  check('1 MiB throughput >= 1,300 MB/s', nat('throughput'), 1300, true, (v) => `${fmt(v, 'MB/s')} MB/s`)
  check('1 MiB throughput >= 1.5x secret-stream', ratio(r, 'throughput', 'quorumnet-native', 'secret-stream', two), 1.5, true, (v) => `${v.toFixed(2)}x`)
  check('100 B rate >= 1,200,000 msgs/s', nat('rate'), 1.2e6, true, (v) => `${fmt(v, 'msgs/s')} msgs/s`)
  const fb = med('rate', 'quorumnet-fallback')
  check('100 B rate, fallback >= 0.5x native', fb !== undefined && nat('rate') ? fb / nat('rate')! : undefined, 0.5, true, (v) => `${v.toFixed(2)}x (${fmt(fb ?? NaN, 'msgs/s')} msgs/s)`)
  check('fan-out 1 KiB to 16 peers >= 700,000 deliveries/s', nat('fanout'), 7e5, true, (v) => `${fmt(v, 'deliveries/s')}/s`)
  check('>= 5,000 authenticated connections/s', nat('conns'), 5000, true, (v) => `${fmt(v, 'conns/s')}/s`)
  const rss = r.results.filter((x) => x.candidate === 'quorumnet-native' && x.mode === two && x.peakRssMB?.length).flatMap((x) => x.peakRssMB!.map((v) => ({ v, s: x.scenario })))
  const worst = rss.length ? rss.reduce((m, x) => (x.v > m.v ? x : m)) : undefined
  check('peak RSS of sender and receiver < 256 MiB in every scenario', worst?.v, 256, false, (v) => `${v.toFixed(0)} MB at most (${worst!.s})`)
  for (const s of ['rtt-awake', 'rtt'] as const) {
    check(`RTT p50 <= 1.6x raw TCP (${s}${s === 'rtt' ? ', idle vCPUs: wake-up dominated' : ''})`, ratio(r, s, 'quorumnet-native', 'raw-tcp', two), 1.6, false, (v) => `${v.toFixed(2)}x (${fmt(med(s, 'quorumnet-native') ?? NaN, 'us')} us vs ${fmt(med(s, 'raw-tcp') ?? NaN, 'us')} us)`)
  }
  for (const s of Object.keys(SCENARIOS) as SocketScenario[]) {
    const q = ratio(r, s, 'quorumnet-fallback', 'libp2p', two)
    const lat = !SCENARIOS[s].higherIsBetter
    check(`fallback >= js-libp2p: ${s}${s === 'rtt' ? ' (idle vCPUs: wake-up dominated)' : ''}`, q, 1, !lat, (v) => `${v.toFixed(2)}x js-libp2p${lat ? ' latency' : ''}`)
  }
  return out
}

function background(r: Report): string {
  const bg = r.results.map((x) => x.backgroundCpu).filter((x): x is number => x !== undefined)
  if (bg.length === 0) return ''
  const busy = r.results.filter((x) => (x.backgroundCpu ?? 0) >= 0.15).length
  return `CPU used by other work on the machine just before each run (the harness idle): median ${(median(bg) * 100).toFixed(0)}%, max ${(Math.max(...bg) * 100).toFixed(0)}%${busy ? `; ${busy} run(s) started above 15% after waiting up to 2 min (marked *)` : ''}.`
}

export function markdown(r: Report, scenarios: SocketScenario[]): string {
  const m = r.machine
  const lines = [
    `# ${r.title}`,
    '',
    `${r.date}, commit ${r.commit}. Machine: ${m.cpu}, ${m.cores} cores, ${m.memoryGB} GB, ${m.os}, Node ${m.node}.`,
    `Each figure: median of ${r.timing.reps} consecutive windows of ${r.timing.seconds} s after ${r.timing.warmupS} s of warm-up, with the min..max of the windows. Ratios compare figures of this run only.`,
    background(r),
    '',
    '## Method',
    '',
    ...r.method.map((l) => `- ${l}`),
    '',
    '## Results',
    '',
  ]
  for (const s of scenarios) lines.push(...scenarioTable(r, s))
  lines.push(...discoveryTable(r))
  const t = targets(r)
  if (scenarios.length === Object.keys(SCENARIOS).length) {
    lines.push('## Targets (2 cores, two processes, native backend)', '', '| target | measured | verdict |', '| --- | --- | --- |')
    for (const x of t) lines.push(`| ${x.name} | ${x.measured} | ${x.met === undefined ? 'not measured' : x.detail} |`)
    lines.push('')
  }
  lines.push('Charts: ' + scenarios.map((s) => `[${s}](e2e-${s}.svg)`).join(', ') + (r.results.some((x) => x.scenario === 'discovery') ? ', [discovery](e2e-discovery.svg)' : '') + '.', '')
  return lines.join('\n')
}

const esc = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;')
const COLORS: Record<string, string> = { 'two-process': '#2b6cb0', 'one-process': '#90cdf4', p50: '#2b6cb0', p99: '#f6ad55', native: '#2b6cb0', fallback: '#90cdf4' }

/** A horizontal bar chart: groups of bars (one per series) with value labels and min..max whiskers. */
export function barChart(title: string, caption: string, unit: string, groups: { label: string; bars: { series: string; f?: Figure; note?: string }[] }[], series: string[]): string {
  const W = 820
  const left = 170
  const right = 150
  const barH = 14
  const gap = 10
  const top = 48
  const plotW = W - left - right
  const max = Math.max(1e-9, ...groups.flatMap((g) => g.bars.map((b) => (b.f ? b.f.max : 0))))
  const scale = (v: number) => (v / max) * plotW
  const out: string[] = []
  let y = top
  for (const g of groups) {
    const h = series.length * barH
    out.push(`<text x="${left - 8}" y="${y + h / 2 + 4}" text-anchor="end" font-size="12">${esc(g.label)}</text>`)
    for (const s of series) {
      const b = g.bars.find((x) => x.series === s)
      if (b?.f) {
        const w = Math.max(1, scale(b.f.median))
        out.push(`<rect x="${left}" y="${y + 1}" width="${w.toFixed(1)}" height="${barH - 2}" fill="${COLORS[s] ?? '#888'}"/>`)
        const x0 = left + scale(b.f.min)
        const x1 = left + scale(b.f.max)
        out.push(`<line x1="${x0.toFixed(1)}" x2="${x1.toFixed(1)}" y1="${y + barH / 2}" y2="${y + barH / 2}" stroke="#222" stroke-width="1"/>`)
        out.push(`<text x="${(Math.max(x1, left + w) + 6).toFixed(1)}" y="${y + barH - 3}" font-size="11">${esc(fmt(b.f.median, unit))}</text>`)
      } else if (b) {
        out.push(`<text x="${left + 4}" y="${y + barH - 3}" font-size="10" fill="#a00">${esc((b.note ?? 'not run').slice(0, 110))}</text>`)
      }
      y += barH
    }
    y += gap
  }
  const H = y + 30
  const legend = series.map((s, i) => `<rect x="${left + i * 130}" y="${H - 20}" width="12" height="12" fill="${COLORS[s] ?? '#888'}"/><text x="${left + i * 130 + 16}" y="${H - 10}" font-size="11">${esc(s)}</text>`).join('')
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" font-family="sans-serif">`,
    `<rect width="${W}" height="${H}" fill="#fff"/>`,
    `<text x="12" y="22" font-size="14" font-weight="bold">${esc(title)}</text>`,
    `<text x="12" y="38" font-size="11" fill="#555">${esc(caption)}</text>`,
    `<line x1="${left}" x2="${left}" y1="${top - 4}" y2="${y - gap + 4}" stroke="#999"/>`,
    ...out,
    legend,
    '</svg>',
    '',
  ].join('\n')
}

export function charts(r: Report, scenarios: SocketScenario[], dir: string): string[] {
  const written: string[] = []
  const m = r.machine
  const sub = `${m.cpu}, ${m.cores} cores, Node ${m.node}`
  for (const s of scenarios) {
    const spec = SCENARIOS[s]
    const candidates = CANDIDATES.filter((c) => r.results.some((x) => x.scenario === s && x.candidate === c))
    let svg: string
    if (!spec.higherIsBetter) {
      const groups = candidates.map((c) => {
        const res = find(r, s, c, 'two-process')
        return { label: c, bars: [{ series: 'p50', f: res?.figure, note: res?.reason }, { series: 'p99', f: res?.p99, note: res?.reason }] }
      })
      svg = barChart(`${s}: ${spec.title}, two processes (${sub})`, 'us, lower is better; bar = median of the windows, line = min..max', 'us', groups, ['p50', 'p99'])
    } else {
      const groups = candidates.map((c) => ({
        label: c,
        bars: MODES.map((mode) => {
          const res = find(r, s, c, mode)
          return { series: mode, f: res?.figure, note: res?.reason }
        }),
      }))
      svg = barChart(`${s}: ${spec.title} (${sub})`, `${spec.unit}; bar = median of the windows, line = min..max`, spec.unit, groups, MODES)
    }
    const file = join(dir, `e2e-${s}.svg`)
    writeFileSync(file, svg)
    written.push(file)
  }
  const disc = r.results.filter((x) => x.scenario === 'discovery')
  if (disc.length > 0) {
    const ns = [...new Set(disc.map((d) => d.discovery!.n))].sort((a, b) => a - b)
    const groups = ns.map((n) => ({
      label: `N = ${n}`,
      bars: (['quorumnet-native', 'quorumnet-fallback'] as const).map((c) => {
        const d = disc.find((x) => x.candidate === c && x.discovery!.n === n)
        const series = c === 'quorumnet-native' ? 'native' : 'fallback'
        return d && !d.reason ? { series, f: { values: [d.discovery!.wallS], median: d.discovery!.wallS, min: d.discovery!.wallS, max: d.discovery!.wallS } } : { series, note: d ? d.reason : 'not run' }
      }),
    }))
    const file = join(dir, 'e2e-discovery.svg')
    writeFileSync(file, barChart(`discovery on the deterministic runtime: wall time to a full mesh (${sub})`, 'wall-clock seconds, lower is better (virtual time and peak memory in e2e.md)', 's', groups, ['native', 'fallback']))
    written.push(file)
  }
  return written
}
