import { ConfigError, describeValue } from '@sluice/core'

/**
 * Checks for the file sink's options. Each runs once, when the sink is built (before any file is
 * opened), and throws a {@link ConfigError} whose path names the option, e.g.
 * `fileSink.rollingPolicy.maxPartSize: expected a positive integer (bytes), got -1`.
 */

export { describeValue, optionsObject } from '@sluice/core'

export function positiveIntegerOption(value: unknown, path: string, fallback: number, unit = ''): number {
  if (value === undefined) return fallback
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 1) {
    throw new ConfigError(path, `expected a positive integer${unit ? ` (${unit})` : ''}, got ${describeValue(value)}`)
  }
  return value
}

export function booleanOption(value: unknown, path: string, fallback: boolean): boolean {
  if (value === undefined) return fallback
  if (typeof value !== 'boolean') throw new ConfigError(path, `expected true or false, got ${describeValue(value)}`)
  return value
}

export function functionOption<F>(value: unknown, path: string): F | undefined {
  if (value === undefined) return undefined
  if (typeof value !== 'function') throw new ConfigError(path, `expected a function, got ${describeValue(value)}`)
  return value as F
}
