/**
 * Runs the `quorumnet` command (bin/quorumnet.mjs against dist/) as a child process and waits on what
 * it prints: lines of stdout, JSON log lines of stderr, and its exit. Everything is event-driven; the
 * only clock is the test timeout.
 */
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process'
import { existsSync } from 'node:fs'
import { join } from 'node:path'
import { createInterface } from 'node:readline'

export const root = join(import.meta.dirname, '..', '..')
export const BIN = join(root, 'bin', 'quorumnet.mjs')
/** dist/ is built by `npm install` (the prepare script); without it the command cannot run. */
export const built = existsSync(join(root, 'dist', 'cli', 'main.js'))

export interface Cli {
  proc: ChildProcessWithoutNullStreams
  stdout: string[]
  logs: Record<string, unknown>[]
  stderr: string[]
  /** Resolves once `predicate` holds for the output so far (checked at every new line). */
  until(predicate: (c: Cli) => boolean): Promise<void>
  /** Resolves with the exit code. */
  exited: Promise<number | null>
}

/** Start `quorumnet <args>`; `prefix` runs it through another command (e.g. `ip netns exec ns`). */
export function startCli(args: string[], env: Record<string, string> = {}, prefix: string[] = []): Cli {
  const [cmd, ...cmdArgs] = [...prefix, process.execPath, BIN, ...args] as [string, ...string[]]
  const proc = spawn(cmd, cmdArgs, { cwd: root, env: { ...process.env, ...env }, stdio: ['pipe', 'pipe', 'pipe'], timeout: 60_000 })
  const waiters: { predicate: (c: Cli) => boolean; resolve: () => void }[] = []
  const cli: Cli = {
    proc,
    stdout: [],
    logs: [],
    stderr: [],
    until: (predicate) => (predicate(cli) ? Promise.resolve() : new Promise((resolve) => waiters.push({ predicate, resolve }))),
    exited: new Promise((resolve) => proc.on('close', (code) => resolve(code))),
  }
  const check = () => {
    for (const w of [...waiters]) {
      if (w.predicate(cli)) {
        waiters.splice(waiters.indexOf(w), 1)
        w.resolve()
      }
    }
  }
  createInterface({ input: proc.stdout }).on('line', (line) => {
    cli.stdout.push(line)
    check()
  })
  createInterface({ input: proc.stderr }).on('line', (line) => {
    cli.stderr.push(line)
    try {
      cli.logs.push(JSON.parse(line) as Record<string, unknown>)
    } catch {
      // not a log line (an error line); kept in stderr
    }
    check()
  })
  return cli
}

/** Run to completion; resolves with the exit code and the output. */
export async function runCli(args: string[], env: Record<string, string> = {}): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const cli = startCli(args, env)
  cli.proc.stdin.end()
  const code = await cli.exited
  return { code, stdout: cli.stdout.join('\n'), stderr: cli.stderr.join('\n') }
}
