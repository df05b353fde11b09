import { ConfigError } from '../errors.js'

/**
 * Checks for the options objects of the built-in connectors. Each check runs once, when the
 * connector is built (before the job opens anything), and throws a {@link ConfigError} whose path
 * names the option, e.g. `datagen.count: expected a non-negative integer, got -1`.
 */

/** Records a source emits per `pollNext` when its `batchSize` option is not given: the runtime's default batch size. */
export const defaultSourceBatchSize = 1024

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

/** Returns the options object (an empty one when omitted), rejecting keys the connector does not know. */
export function optionsObject<T extends object>(value: T | undefined, path: string, known: readonly (keyof T & string)[]): Partial<T> {
  if (value === undefined) return {}
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new ConfigError(path, `expected an options object, got ${describeValue(value)}`)
  }
  for (const key of Object.keys(value)) {
    // A typo such as `recordPerSecond` would otherwise silently fall back to the default.
    if (!(known as readonly string[]).includes(key)) {
      throw new ConfigError(`${path}.${key}`, `unknown option (known: ${known.join(', ')})`)
    }
  }
  return value
}

export function nonNegativeIntegerOption(value: unknown, path: string): number | undefined {
  if (value === undefined) return undefined
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 0) {
    throw new ConfigError(path, `expected a non-negative integer, got ${describeValue(value)}`)
  }
  return value
}

export function positiveIntegerOption(value: unknown, path: string): number | undefined {
  if (value === undefined) return undefined
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 1) {
    throw new ConfigError(path, `expected a positive integer, got ${describeValue(value)}`)
  }
  return value
}

export function integerInRangeOption(value: unknown, path: string, min: number, max: number): number | undefined {
  if (value === undefined) return undefined
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < min || value > max) {
    throw new ConfigError(path, `expected an integer in [${min}, ${max}], got ${describeValue(value)}`)
  }
  return value
}

export function positiveNumberOption(value: unknown, path: string): number | undefined {
  if (value === undefined) return undefined
  if (typeof value !== 'number' || !Number.isFinite(value) || value <= 0) {
    throw new ConfigError(path, `expected a positive finite number, got ${describeValue(value)}`)
  }
  return value
}

export function nonEmptyStringOption(value: unknown, path: string): string | undefined {
  if (value === undefined) return undefined
  if (typeof value !== 'string' || value.length === 0) {
    throw new ConfigError(path, `expected a non-empty string, got ${describeValue(value)}`)
  }
  return value
}

export function stringOption(value: unknown, path: string): string | undefined {
  if (value === undefined) return undefined
  if (typeof value !== 'string') throw new ConfigError(path, `expected a string, got ${describeValue(value)}`)
  return value
}

// biome-ignore lint/suspicious/noExplicitAny: any function signature; the caller narrows the type
export function functionOption<F extends (...args: any[]) => unknown>(value: unknown, path: string): F | undefined {
  if (value === undefined) return undefined
  if (typeof value !== 'function') throw new ConfigError(path, `expected a function, got ${describeValue(value)}`)
  return value as F
}

export function oneOfOption<T extends string>(value: unknown, path: string, allowed: readonly T[]): T | undefined {
  if (value === undefined) return undefined
  if (typeof value !== 'string' || !(allowed as readonly string[]).includes(value)) {
    throw new ConfigError(path, `expected ${allowed.map((a) => `'${a}'`).join(' | ')}, got ${describeValue(value)}`)
  }
  return value as T
}
