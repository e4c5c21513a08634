/** Loads a JSON vector file from test/vectors/ (made by `npm run vectors` from the Rust crates). */
import { readFileSync } from 'node:fs'
import { join } from 'node:path'

export function loadVectors<T = Record<string, unknown>>(name: string): T {
  return JSON.parse(readFileSync(join(import.meta.dirname, '..', 'vectors', name), 'utf8')) as T
}
