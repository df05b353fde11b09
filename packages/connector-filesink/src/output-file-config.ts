import { ConfigError } from '@sluice/core'
import { describeValue, optionsObject } from './option-validation.js'

/** Prefix and suffix of part file names (Flink's `OutputFileConfig`). */
export interface OutputFileConfigOptions {
  /** Default `part`. */
  partPrefix?: string
  /** Default `''` for row formats and the format's extension (e.g. `.parquet`) for bulk formats. */
  partSuffix?: string
}

/**
 * Names of part files: a finished part file is `<partPrefix>-<subtask>-<counter><partSuffix>`, e.g.
 * `part-0-7` or, with the seed's config, `prefix-0-7.txt`. Build it Flink's way or from an object:
 *
 * ```ts
 * OutputFileConfig.builder().withPartPrefix('prefix').withPartSuffix('.txt').build()
 * OutputFileConfig.create({ partPrefix: 'prefix', partSuffix: '.txt' })
 * ```
 *
 * The prefix must be non-empty, must not start with `.` and, like the suffix, must hold no `/`, `\`
 * or NUL; the suffix must not start with a digit (the counter could not be read back from the name).
 * Two sinks writing into the same base path must use different prefixes.
 */
export class OutputFileConfig {
  readonly partPrefix: string
  /** `undefined`: the format's default (none for rows, the bulk format's extension). */
  readonly partSuffix: string | undefined

  private constructor(partPrefix: string, partSuffix: string | undefined) {
    this.partPrefix = partPrefix
    this.partSuffix = partSuffix
  }

  /** @throws ConfigError naming `outputFileConfig.partPrefix` or `.partSuffix`. */
  static create(options: OutputFileConfigOptions = {}, path = 'outputFileConfig'): OutputFileConfig {
    const checked = optionsObject(options, path, ['partPrefix', 'partSuffix'])
    const prefix = checked.partPrefix ?? 'part'
    if (typeof prefix !== 'string' || prefix.length === 0) throw new ConfigError(`${path}.partPrefix`, `expected a non-empty string, got ${describeValue(prefix)}`)
    if (prefix.startsWith('.')) throw new ConfigError(`${path}.partPrefix`, `must not start with '.' (hidden names are for in-progress files), got '${prefix}'`)
    checkNamePart(prefix, `${path}.partPrefix`)
    const suffix = checked.partSuffix
    if (suffix !== undefined) {
      if (typeof suffix !== 'string') throw new ConfigError(`${path}.partSuffix`, `expected a string, got ${describeValue(suffix)}`)
      checkNamePart(suffix, `${path}.partSuffix`)
      if (/^[0-9]/.test(suffix)) throw new ConfigError(`${path}.partSuffix`, `must not start with a digit (it follows the part counter), got '${suffix}'`)
    }
    return new OutputFileConfig(prefix, suffix)
  }

  static builder(): OutputFileConfigBuilder {
    return new OutputFileConfigBuilder()
  }

  toString(): string {
    return `OutputFileConfig{partPrefix='${this.partPrefix}', partSuffix=${this.partSuffix === undefined ? 'default' : `'${this.partSuffix}'`}}`
  }
}

/** Flink-style builder of an {@link OutputFileConfig}; `build()` validates. */
export class OutputFileConfigBuilder {
  private readonly options: OutputFileConfigOptions = {}
  withPartPrefix(prefix: string): this {
    this.options.partPrefix = prefix
    return this
  }
  withPartSuffix(suffix: string): this {
    this.options.partSuffix = suffix
    return this
  }
  build(): OutputFileConfig {
    return OutputFileConfig.create(this.options)
  }
}

function checkNamePart(value: string, path: string): void {
  if (/[/\\\0]/.test(value)) throw new ConfigError(path, `must not contain '/', '\\' or NUL, got ${describeValue(value)}`)
}
