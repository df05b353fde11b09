import { ConfigError } from '@sluice/core'
import { describeValue, optionsObject } from './option-validation.js'

/**
 * Turns one record into the bytes it takes in a row-format part file (Flink's `Encoder`).
 *
 * Called by the sink writer of one subtask, once per record, synchronously and never concurrently.
 * The result is appended to the bucket's in-progress part file as is: a `string` is written as UTF-8,
 * a `Uint8Array` byte for byte. The encoder adds its own delimiter (a line encoder returns `"...\n"`).
 *
 * Must be deterministic and keep no state between records: after a failure the records written since
 * the last checkpoint are written again, and the part file is cut back to its checkpointed length,
 * so the bytes of a record must not depend on what came before it.
 *
 * To reject a record, throw: the job fails with a `RecordEncodingError` naming the record's index in
 * its batch, its bucket and a preview of its value (and the thrown error as `cause`).
 */
export interface Encoder<T> {
  encode(record: T): string | Uint8Array
}

/** Text encodings a {@link SimpleStringEncoder} can write (Node's names; `utf-8` is `utf8`). */
export type StringEncoderCharset = 'utf-8' | 'utf8' | 'latin1' | 'ascii' | 'utf16le'

/** Options of {@link SimpleStringEncoder}. */
export interface SimpleStringEncoderOptions {
  /** Default `utf-8`. */
  charset?: StringEncoderCharset
  /** Written after every record. Default `'\n'`. */
  delimiter?: string
}

const charsets: readonly StringEncoderCharset[] = ['utf-8', 'utf8', 'latin1', 'ascii', 'utf16le']

/**
 * Writes `String(record)` and a line break per record: the seed's `SimpleStringEncoder<String>("UTF-8")`
 * and the default encoder of `FileSink.forRowFormat`. `null` and `undefined` are rejected (Flink's
 * `toString()` on null fails too). A record that itself contains the delimiter is written as is, so
 * it reads back as several lines; use {@link JsonLinesEncoder} for text that may hold line breaks.
 */
export class SimpleStringEncoder<T = string> implements Encoder<T> {
  readonly charset: StringEncoderCharset
  readonly delimiter: string
  private readonly utf8: boolean

  /** @throws ConfigError naming `simpleStringEncoder.<option>` for an unknown charset or an empty delimiter. */
  constructor(options: SimpleStringEncoderOptions | StringEncoderCharset = {}) {
    const resolved = typeof options === 'string' ? { charset: options } : options
    const checked = optionsObject(resolved, 'simpleStringEncoder', ['charset', 'delimiter'])
    const charset = (typeof checked.charset === 'string' ? checked.charset.toLowerCase() : checked.charset) ?? 'utf-8'
    if (!charsets.includes(charset as StringEncoderCharset)) {
      throw new ConfigError('simpleStringEncoder.charset', `expected ${charsets.map((c) => `'${c}'`).join(' | ')}, got ${describeValue(checked.charset)}`)
    }
    if (checked.delimiter !== undefined && (typeof checked.delimiter !== 'string' || checked.delimiter.length === 0)) {
      throw new ConfigError('simpleStringEncoder.delimiter', `expected a non-empty string, got ${describeValue(checked.delimiter)}`)
    }
    this.charset = charset as StringEncoderCharset
    this.delimiter = checked.delimiter ?? '\n'
    this.utf8 = this.charset === 'utf-8' || this.charset === 'utf8'
  }

  encode(record: T): string | Uint8Array {
    if (record === null || record === undefined) throw new TypeError(`SimpleStringEncoder cannot encode ${record}`)
    const text = `${typeof record === 'string' ? record : String(record)}${this.delimiter}`
    // Strings are written as UTF-8 by the writer without a copy per record; other charsets convert here.
    return this.utf8 ? text : Buffer.from(text, this.charset as BufferEncoding)
  }
}

/**
 * Writes each record as one line of JSON (`JSON.stringify(record) + '\n'`): JSON Lines / NDJSON.
 * Line breaks inside strings are escaped by JSON, so every record is exactly one line. Rejects what
 * JSON cannot hold: `undefined`, functions, symbols, `BigInt`s and cyclic values.
 */
export class JsonLinesEncoder<T = unknown> implements Encoder<T> {
  encode(record: T): string {
    const text = JSON.stringify(record)
    if (text === undefined) throw new TypeError(`JSON cannot represent ${typeof record === 'function' ? 'a function' : String(record)}`)
    return `${text}\n`
  }
}
