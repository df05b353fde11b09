import { ConfigError } from './errors.js'

/**
 * Building blocks for validating a connector's options once, when it is built (before anything
 * opens), with errors that name the option path and the value as a person typed it — what the core's
 * own options and built-in connectors use, exported so third-party connectors read the same.
 */

/** Renders a rejected value the way a person typed it: strings quoted, bigints with `n`, functions by kind. */
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

/**
 * Returns the options object (an empty one when omitted), rejecting anything but a plain object and
 * keys that are not `known`: a typo such as `recordPerSecond` would otherwise silently fall back to
 * the default. Errors are {@link ConfigError}s with paths like `datagen.recordPerSecond`.
 */
export function optionsObject<T extends object>(value: T | undefined, path: string, known: readonly (keyof T & string)[]): Partial<T> {
  if (value === undefined) return {}
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new ConfigError(path, `expected an options object, got ${describeValue(value)}`)
  }
  for (const key of Object.keys(value)) {
    if (!(known as readonly string[]).includes(key)) {
      throw new ConfigError(`${path}.${key}`, `unknown option (known: ${known.join(', ')})`)
    }
  }
  return value
}
