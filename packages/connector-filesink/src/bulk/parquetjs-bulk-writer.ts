import { IllegalStateError, SluiceError } from '@sluice/core'
import type { BulkWriter } from './bulk-format.js'
import { FileOutput } from './file-output.js'
import type { ParquetCompression, ParquetFormatSpec } from './parquet-format-spec.js'
import { ParquetRecordError } from './parquet-record-error.js'
import { FieldMismatch, compileRecordConverter } from './record-converter.js'
import type { Convert } from './record-converter.js'
import type { LeafNode, SchemaNode } from './schema-tree.js'

/** The part of parquetjs-lite 0.8 this writer uses (the package ships no type declarations). */
interface Parquetjs {
  ParquetSchema: new (definition: Record<string, unknown>) => unknown
  ParquetWriter: {
    openStream(schema: unknown, stream: ParquetjsOutputStream, options: Record<string, unknown>): Promise<ParquetjsWriter>
  }
}
interface ParquetjsOutputStream {
  write(chunk: Buffer, callback: (error?: unknown) => void): void
  end(callback: (error?: unknown) => void): void
}
interface ParquetjsWriter {
  appendRow(row: unknown): Promise<void>
  close(): Promise<void>
  setMetadata(key: string, value: string): void
}

let parquetjsModule: Promise<Parquetjs> | undefined

/** Loaded on first use, so that sinks not writing Parquet do not load it. */
function loadParquetjs(): Promise<Parquetjs> {
  parquetjsModule ??= import(
    // @ts-expect-error parquetjs-lite has no type declarations; the shape used is typed by `Parquetjs` above
    'parquetjs-lite'
  ).then((module: { default?: Parquetjs } & Parquetjs) => module.default ?? module)
  return parquetjsModule
}

type State = 'open' | 'failed' | 'finished' | 'aborted'

/**
 * A Parquet part file written row by row with parquetjs-lite (`writer: 'parquetjs'`).
 *
 * Writes data page V1 (`useDataPageV2: false`): parquetjs-lite's default V2 pages compress the
 * repetition/definition levels together with the values, which the Parquet specification forbids and
 * which pyarrow/parquet-cpp cannot read. Limitations of this writer, each refused per record with a
 * {@link ParquetRecordError} rather than written wrong: longs beyond ±(2^53 − 1) (it converts through JS
 * numbers), NaN, timestamps outside the Date range, and microsecond timestamps before 1970 that are not
 * whole milliseconds. It writes no min/max statistics for strings, bytes, floating-point and
 * microsecond-timestamp columns (its comparisons do not follow Parquet's orderings), and writes `-0` as `0`.
 *
 * Called by one sink writer, never concurrently (see {@link BulkWriter}). Memory: one row group of
 * shredded rows (`rowGroupSize` rows) plus the encoded row group while it is written.
 */
export class ParquetjsBulkWriter<T> implements BulkWriter<T> {
  private state: State = 'open'
  private recordCount = 0

  private constructor(
    private readonly path: string,
    private readonly output: FileOutput,
    private readonly writer: ParquetjsWriter,
    private readonly convert: Convert,
  ) {}

  /** Creates the file at `path` and writes the Parquet header. */
  static async create<T>(path: string, spec: ParquetFormatSpec): Promise<ParquetjsBulkWriter<T>> {
    const parquetjs = await loadParquetjs()
    const schema = new parquetjs.ParquetSchema(toParquetjsDefinition(spec.schema.fields, spec.compression))
    const output = await FileOutput.create(path)
    const stream: ParquetjsOutputStream = {
      // parquetjs-lite does not wait for some of its writes (header, page indexes), so a failure passed to
      // its callback would become an unhandled rejection. The callback only paces it (it runs once the
      // bytes are written); failures stick in the FileOutput and are raised by flush() and finish().
      write: (chunk, callback) => {
        output.append(chunk).then(
          () => callback(),
          () => callback(),
        )
      },
      // Completion (flush, fsync, close) is ours, in finish().
      end: (callback) => callback(),
    }
    try {
      const writer = await parquetjs.ParquetWriter.openStream(schema, stream, {
        useDataPageV2: false,
        rowGroupSize: spec.rowGroupSize,
      })
      for (const [key, value] of Object.entries(spec.schema.metadata)) writer.setMetadata(key, value)
      return new ParquetjsBulkWriter<T>(path, output, writer, compileRecordConverter(spec.schema.fields, 'parquetjs'))
    } catch (error) {
      await output.abort()
      throw wrap(path, 'opening the writer failed', error)
    }
  }

  get bytesWritten(): number {
    return this.output.bytesAppended
  }

  /**
   * Checks every record of the batch first; a record that does not match rejects the whole batch with a
   * {@link ParquetRecordError} and leaves the writer usable. Then appends the rows; a row group is encoded
   * and written each `rowGroupSize` rows.
   */
  async addElements(elements: readonly T[]): Promise<void> {
    this.assertOpen('addElements')
    const rows = new Array<unknown>(elements.length)
    for (let i = 0; i < elements.length; i++) {
      try {
        rows[i] = this.convert(elements[i])
      } catch (error) {
        throw this.recordError(error, i)
      }
    }
    try {
      for (const row of rows) await this.writer.appendRow(row)
      await this.output.flush()
    } catch (error) {
      this.state = 'failed'
      throw wrap(this.path, 'writing a row group failed', error)
    }
    this.recordCount += elements.length
  }

  async finish(): Promise<void> {
    this.assertOpen('finish')
    try {
      await this.writer.close()
      await this.output.finish()
      this.state = 'finished'
    } catch (error) {
      this.state = 'failed'
      await this.output.abort()
      throw wrap(this.path, 'finishing the file failed', error)
    }
  }

  async abort(): Promise<void> {
    if (this.state === 'finished' || this.state === 'aborted') return
    this.state = 'aborted'
    await this.output.abort()
  }

  private assertOpen(operation: string): void {
    if (this.state !== 'open') {
      throw new IllegalStateError(`Parquet part file ${this.path}: ${operation} on a writer that is ${this.state}`)
    }
  }

  private recordError(error: unknown, index: number): unknown {
    if (!(error instanceof FieldMismatch)) return error
    return new ParquetRecordError(this.path, this.recordCount + index, error.fieldPath(), error.value, error.problem)
  }
}

function wrap(path: string, what: string, error: unknown): SluiceError {
  if (SluiceError.isInstance(error)) return error
  // parquetjs-lite throws strings as well as Errors.
  const reason = error instanceof Error ? error.message : String(error)
  return new SluiceError('PARQUET_WRITE_FAILED', `Parquet part file ${path}: ${what}: ${reason}`, { cause: error })
}

const parquetjsTypes: Readonly<Record<LeafNode['type'], string>> = {
  boolean: 'BOOLEAN',
  int: 'INT32',
  long: 'INT64',
  float: 'FLOAT',
  double: 'DOUBLE',
  string: 'UTF8',
  enum: 'UTF8',
  bytes: 'BYTE_ARRAY',
  fixed: 'FIXED_LEN_BYTE_ARRAY',
  date: 'DATE',
  'timestamp-millis': 'TIMESTAMP_MILLIS',
  'timestamp-micros': 'TIMESTAMP_MICROS',
}

/**
 * Columns whose min/max parquetjs-lite computes with JS comparisons that differ from Parquet's order
 * (UTF-16 vs UTF-8 byte order, Buffers compared as strings, NaN/-0) or over mixed units (microsecond
 * timestamps given as numbers and as Dates): written without statistics rather than with wrong ones.
 */
const withoutStatistics: ReadonlySet<LeafNode['type']> = new Set([
  'float',
  'double',
  'string',
  'enum',
  'bytes',
  'fixed',
  'timestamp-micros',
])

/** Renders the schema tree in parquetjs-lite's schema definition format. */
export function toParquetjsDefinition(fields: readonly SchemaNode[], compression: ParquetCompression): Record<string, unknown> {
  const definition: Record<string, unknown> = {}
  for (const field of fields) definition[field.name] = toParquetjsField(field, compression)
  return definition
}

function toParquetjsField(node: SchemaNode, compression: ParquetCompression): Record<string, unknown> {
  const optional = node.repetition === 'OPTIONAL'
  switch (node.kind) {
    case 'leaf':
      return {
        type: parquetjsTypes[node.type],
        optional,
        compression,
        ...(node.type === 'fixed' ? { typeLength: node.size } : {}),
        ...(withoutStatistics.has(node.type) ? { statistics: false } : {}),
      }
    case 'group':
      return { optional, fields: toParquetjsDefinition(node.fields, compression) }
    case 'list':
      return {
        type: 'LIST',
        optional,
        fields: { list: { repeated: true, fields: { element: toParquetjsField(node.element, compression) } } },
      }
    case 'map':
      return {
        type: 'MAP',
        optional,
        fields: {
          key_value: {
            repeated: true,
            fields: {
              key: { type: 'UTF8', compression, statistics: false },
              value: toParquetjsField(node.value, compression),
            },
          },
        },
      }
  }
}
