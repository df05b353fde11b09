import { SerializationError } from '@sluice/core'

const marker = Symbol.for('sluice.error.ParquetRecordError')

/**
 * A record does not match the Parquet bulk format's schema, or holds a value the chosen writer cannot
 * write faithfully (a long beyond 2^53 given as a number, a timestamp outside the Date range...).
 *
 * Raised by `BulkWriter.addElements`. The whole batch is rejected — none of its records was added — and
 * the writer stays usable. `code` is `SERIALIZATION_FAILED`; the message reads e.g.
 * `Parquet part file /out/.part-0-3.inprogress, record 17: field 'lines[2].count': expected int (32-bit integer), got "3" (string)`.
 *
 * Its `name` is `SerializationError` (the class it refines); recognise it with {@link ParquetRecordError.isInstance}.
 */
export class ParquetRecordError extends SerializationError {
  /** The part file being written. */
  readonly partFile: string
  /** Index of the record among all records offered to this part file's writer (0-based). */
  readonly recordIndex: number
  /** Path of the offending field inside the record, e.g. `lines[2].count`; empty for the record itself. */
  readonly field: string
  /** The offending value. */
  readonly value: unknown

  constructor(partFile: string, recordIndex: number, field: string, value: unknown, problem: string) {
    super(
      `Parquet part file ${partFile}, record ${recordIndex}`,
      `${field === '' ? 'the record' : `field '${field}'`}: ${problem}, got ${formatValue(value)}`,
    )
    this.partFile = partFile
    this.recordIndex = recordIndex
    this.field = field
    this.value = value
    // SluiceError marks each class by its name; set ours explicitly so a bundler renaming the class cannot break it.
    ;(this as unknown as Record<symbol, boolean>)[marker] = true
  }

  static override isInstance(error: unknown): error is ParquetRecordError {
    return typeof error === 'object' && error !== null && marker in error
  }
}

const maxLength = 80

/** Renders a value with its type for an error message: `"3" (string)`, `9007199254740993 (number)`, `12n (bigint)`. */
export function formatValue(value: unknown): string {
  if (value === undefined) return 'undefined (missing)'
  if (value === null) return 'null'
  switch (typeof value) {
    case 'string':
      return `${truncate(JSON.stringify(value))} (string)`
    case 'bigint':
      return `${value}n (bigint)`
    case 'number':
    case 'boolean':
      return `${value} (${typeof value})`
    case 'object': {
      if (value instanceof Date) return `Date(${Number.isNaN(value.getTime()) ? 'invalid' : value.toISOString()})`
      if (value instanceof Uint8Array) return `${value.constructor.name} of ${value.length} bytes`
      if (Array.isArray(value)) return `an array of ${value.length}`
      if (value instanceof Map) return `a Map of ${value.size}`
      let text: string
      try {
        text = JSON.stringify(value, (_key, v: unknown) => (typeof v === 'bigint' ? `${v}n` : v))
      } catch {
        text = Object.prototype.toString.call(value)
      }
      return `${truncate(text)} (object)`
    }
    default:
      return `a ${typeof value}`
  }
}

function truncate(text: string): string {
  return text.length > maxLength ? `${text.slice(0, maxLength)}…` : text
}
