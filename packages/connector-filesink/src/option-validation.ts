import { ConfigError } from '@sluice/core'

/**
 * Checks for the file sink's options. Each runs once, when the sink is built (before any file is
 * opened), and throws a {@link ConfigError} whose path names the option, e.g.
 * `fileSink.rollingPolicy.maxPartSize: expected a positive integer (bytes), got -1`.
 */

/** Renders a rejected value the way a person typed it: strings quoted, functions by kind. */
export function describeValue(value: unknown): string {
  if (typeof value === 'string') return `'${value}'`
  if (typeof value === 'bigint') return `${value}n`
  if (typeof value === 'function') return 'a function'
  if (typeof value === 'number' || value === undefined || typeof value === 'symbol') return String(value)
  try {
    return JSON.stringify(value) ?? String(value)
  } catch {
    return String(value)
  }
}

/** Returns the options object (an empty one when omitted), rejecting keys that are not known. */
export function optionsObject<T extends object>(value: T | undefined, path: string, known: readonly (keyof T & string)[]): Partial<T> {
  if (value === undefined) return {}
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new ConfigError(path, `expected an options object, got ${describeValue(value)}`)
  }
  for (const key of Object.keys(value)) {
    // A typo such as `maxPartsize` would otherwise silently fall back to the default.
    if (!(known as readonly string[]).includes(key)) {
      throw new ConfigError(`${path}.${key}`, `unknown option (known: ${known.join(', ')})`)
    }
  }
  return value
}

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
