import { ConfigError } from '../errors.js'
import { describeValue } from '../option-checks.js'

/**
 * Checks for the options objects of the built-in connectors. Each check runs once, when the
 * connector is built (before the job opens anything), and throws a {@link ConfigError} whose path
 * names the option, e.g. `datagen.count: expected a non-negative integer, got -1`.
 */

/** Records a source emits per `pollNext` when its `batchSize` option is not given: the runtime's default batch size. */
export const defaultSourceBatchSize = 1024

export { describeValue, optionsObject } from '../option-checks.js'

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
