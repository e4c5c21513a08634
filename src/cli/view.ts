/**
 * The demo's terminal view: a table of per-node figures, redrawn in place on a terminal and printed
 * as plain blocks when stdout is a pipe or a file.
 *
 * ## Design
 * Pure formatting (`renderTable`) is separate from drawing (`LiveView`), so the table is testable and
 * the escape codes live in one place. On a TTY the previous frame is overwritten (cursor up, clear
 * line); elsewhere every `everyFrames`-th frame is printed, so CI logs stay short.
 *
 * ## Not provided
 * Terminal resizing or colours.
 *
 * ## Example
 * ```ts
 * const view = new LiveView(process.stdout, process.stdout.isTTY === true)
 * view.draw(['header', ...renderTable(rows)])
 * ```
 */

/** One row of the demo table. */
export interface NodeRow {
  index: number
  key: string
  peers: number
  reached: number
  of: number
  msgsInPerSec: number
  bytesInPerSec: number
  rttP50Ms: number | undefined
  rttP99Ms: number | undefined
}

const ms = (v: number | undefined): string => (v === undefined ? '-' : v < 10 ? `${v.toFixed(2)} ms` : `${v.toFixed(0)} ms`)

/** Human units for a byte rate. */
export function rate(bytesPerSec: number): string {
  if (bytesPerSec >= 1 << 20) return `${(bytesPerSec / (1 << 20)).toFixed(1)} MiB/s`
  if (bytesPerSec >= 1 << 10) return `${(bytesPerSec / (1 << 10)).toFixed(1)} KiB/s`
  return `${bytesPerSec.toFixed(0)} B/s`
}

/** The table's lines: a header, then one line per node. */
export function renderTable(rows: NodeRow[]): string[] {
  const cells = [
    ['node', 'key', 'peers', 'reached', 'msgs/s in', 'bytes/s in', 'rtt p50', 'rtt p99'],
    ...rows.map((r) => [
      String(r.index),
      r.key.slice(0, 8),
      `${r.peers}/${r.of}`,
      `${r.reached}/${r.of}`,
      r.msgsInPerSec.toFixed(0),
      rate(r.bytesInPerSec),
      ms(r.rttP50Ms),
      ms(r.rttP99Ms),
    ]),
  ]
  const widths = cells[0]!.map((_, c) => Math.max(...cells.map((row) => row[c]!.length)))
  return cells.map((row) => row.map((cell, c) => (c < 2 ? cell.padEnd(widths[c]!) : cell.padStart(widths[c]!))).join('  '))
}

/** Draws frames of lines: in place on a TTY, every `everyFrames`-th frame otherwise. */
export class LiveView {
  #lines = 0
  #frames = 0

  constructor(
    private readonly out: { write(s: string): unknown },
    private readonly tty: boolean,
    private readonly everyFrames = 5,
  ) {}

  draw(lines: string[]): void {
    this.#frames++
    if (!this.tty) {
      if (this.#frames % this.everyFrames === 0) this.out.write(lines.join('\n') + '\n\n')
      return
    }
    const up = this.#lines > 0 ? `\x1b[${this.#lines}A` : ''
    this.out.write(up + lines.map((l) => `\x1b[2K${l}`).join('\n') + '\n')
    this.#lines = lines.length
  }
}
