import { gzipSync } from 'node:zlib'
import { IllegalStateError, SluiceError } from '@sluice/core'
import type { ParquetWriter, SchemaElement } from 'hyparquet-writer'
import type { BulkWriter } from './bulk-format.js'
import { FileOutput } from './file-output.js'
import type { ParquetFormatSpec } from './parquet-format-spec.js'
import { ParquetRecordError } from './parquet-record-error.js'
import { FieldMismatch, compileColumnConverters } from './record-converter.js'
import type { ColumnConverter } from './record-converter.js'
import type { LeafNode, SchemaNode } from './schema-tree.js'

type HyparquetWriter = typeof import('hyparquet-writer')

let hyparquetWriterModule: Promise<HyparquetWriter> | undefined

/**
 * Loaded on first use: hyparquet-writer is ESM-only, and a dynamic import keeps the CommonJS build of
 * this package loadable on Node versions without `require(esm)` for sinks that do not write Parquet.
 */
function loadHyparquetWriter(): Promise<HyparquetWriter> {
  hyparquetWriterModule ??= import('hyparquet-writer')
  return hyparquetWriterModule
}

type State = 'open' | 'failed' | 'finished' | 'aborted'

/**
 * A Parquet part file written column by column with hyparquet-writer (`writer: 'columnar'`, the default).
 *
 * Records are checked and their values appended to one array per top-level column; every `rowGroupSize`
 * rows the buffered columns are encoded as one row group (dictionary or plain encoding chosen per column,
 * min/max statistics in Parquet's orderings, offset indexes) and written to the file, so memory holds at
 * most one row group of values plus its encoded bytes — never the whole file. Pages are DATA_PAGE_V2 as
 * the specification defines them (levels uncompressed, values compressed), which DuckDB, hyparquet and
 * parquet-cpp read; hyparquet-writer has no V1 option.
 *
 * Longs are written exactly over the whole 64-bit range when given as bigint.
 *
 * Called by one sink writer, never concurrently (see {@link BulkWriter}).
 */
export class ColumnarBulkWriter<T> implements BulkWriter<T> {
  private state: State = 'open'
  private recordCount = 0
  private buffered = 0
  private columns: unknown[][]

  private constructor(
    private readonly path: string,
    private readonly output: FileOutput,
    private readonly byteWriter: FileByteWriter,
    private readonly writer: ParquetWriter,
    private readonly converters: readonly ColumnConverter[],
    private readonly rowGroupSize: number,
  ) {
    this.columns = converters.map(() => [])
  }

  /** Creates the file at `path`; the header is written with the first row group. */
  static async create<T>(path: string, spec: ParquetFormatSpec): Promise<ColumnarBulkWriter<T>> {
    const { ByteWriter, ParquetWriter } = await loadHyparquetWriter()
    const output = await FileOutput.create(path)
    const FileByteWriterClass = fileByteWriterClass(ByteWriter)
    const byteWriter = new FileByteWriterClass(output)
    try {
      const writer = new ParquetWriter({
        writer: byteWriter,
        schema: toSchemaElements(spec.schema.fields),
        codec: spec.compression,
        compressors: { GZIP: (input: Uint8Array) => gzipSync(input) },
        kvMetadata: Object.entries(spec.schema.metadata).map(([key, value]) => ({ key, value })),
      })
      const converters = compileColumnConverters(spec.schema.fields, 'columnar')
      return new ColumnarBulkWriter<T>(path, output, byteWriter, writer, converters, spec.rowGroupSize)
    } catch (error) {
      await output.abort()
      throw wrap(path, 'opening the writer failed', error)
    }
  }

  /** Bytes of encoded row groups written so far; rows still buffered for the current row group are not counted. */
  get bytesWritten(): number {
    return this.byteWriter.offset
  }

  /**
   * Checks and buffers the batch; a record that does not match rejects the whole batch with a
   * {@link ParquetRecordError} and leaves the writer usable. Returns a promise only when the batch
   * completed a row group that is being written.
   */
  addElements(elements: readonly T[]): Promise<void> | void {
    this.assertOpen('addElements')
    const columns = this.columns
    const converters = this.converters
    const columnCount = converters.length
    let i = 0
    let j = 0
    try {
      for (; i < elements.length; i++) {
        const record = elements[i] as Record<string, unknown>
        j = -1
        if (typeof record !== 'object' || record === null || Array.isArray(record)) {
          throw new FieldMismatch(`expected a record with fields ${converters.map((c) => c.name).join(', ')}`, record)
        }
        for (j = 0; j < columnCount; j++) {
          const converter = converters[j] as ColumnConverter
          ;(columns[j] as unknown[]).push(converter.convert(record[converter.name]))
        }
      }
    } catch (error) {
      // Drop what this batch appended: a batch is added whole or not at all.
      for (const column of columns) column.length = this.buffered
      if (!(error instanceof FieldMismatch)) throw error
      if (j >= 0) error.path.unshift((converters[j] as ColumnConverter).name)
      throw new ParquetRecordError(this.path, this.recordCount + i, error.fieldPath(), error.value, error.problem)
    }
    this.buffered += elements.length
    this.recordCount += elements.length
    if (this.buffered >= this.rowGroupSize) return this.writeRowGroups(false)
  }

  async finish(): Promise<void> {
    this.assertOpen('finish')
    try {
      if (this.buffered > 0) await this.writeRowGroups(true)
      // Writes the page indexes and the footer, then FileByteWriter.finish: flush, fsync, close.
      await this.writer.finish()
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
    this.columns = []
    await this.output.abort()
  }

  /** Writes the buffered full row groups (all buffered rows when `all`), keeping the remainder. */
  private async writeRowGroups(all: boolean): Promise<void> {
    const rows = all ? this.buffered : this.buffered - (this.buffered % this.rowGroupSize)
    const columns = this.columns
    const keep = rows === this.buffered
    this.columns = keep ? columns.map(() => []) : columns.map((column) => column.slice(rows))
    this.buffered -= rows
    const columnData = this.converters.map((converter, j) => {
      const column = columns[j] as unknown[]
      return { name: converter.name, data: keep ? column : column.slice(0, rows) }
    })
    try {
      await this.writer.write({ columnData, rowGroupSize: this.rowGroupSize })
    } catch (error) {
      this.state = 'failed'
      throw wrap(this.path, 'writing a row group failed', error)
    }
  }

  private assertOpen(operation: string): void {
    if (this.state !== 'open') {
      throw new IllegalStateError(`Parquet part file ${this.path}: ${operation} on a writer that is ${this.state}`)
    }
  }
}

function wrap(path: string, what: string, error: unknown): SluiceError {
  if (SluiceError.isInstance(error)) return error
  const reason = error instanceof Error ? error.message : String(error)
  return new SluiceError('PARQUET_WRITE_FAILED', `Parquet part file ${path}: ${what}: ${reason}`, { cause: error })
}

type FileByteWriter = InstanceType<ReturnType<typeof fileByteWriterClass>>

/**
 * hyparquet-writer's ByteWriter, emptied into the file after every row group (hyparquet-writer calls
 * `flush()` after each one and waits for its promise) and completed by `finish()`. Built on first use
 * because hyparquet-writer is loaded lazily.
 */
function fileByteWriterClass(ByteWriter: HyparquetWriter['ByteWriter']) {
  return class FileByteWriter extends ByteWriter {
    constructor(private readonly output: FileOutput) {
      super(1 << 20)
    }

    /** Writes the buffer out and reuses it; `offset` (the file position) keeps counting. */
    async flush(): Promise<void> {
      if (this.index === 0) return
      await this.output.append(new Uint8Array(this.buffer, 0, this.index))
      await this.output.flush()
      this.index = 0
    }

    override finish(): Promise<void> {
      return this.flush().then(() => this.output.finish())
    }
  }
}

type PhysicalType = NonNullable<SchemaElement['type']>
type ConvertedType = NonNullable<SchemaElement['converted_type']>

const leafElements: Readonly<Record<LeafNode['type'], { type: PhysicalType; converted_type?: ConvertedType }>> = {
  boolean: { type: 'BOOLEAN' },
  int: { type: 'INT32' },
  long: { type: 'INT64' },
  float: { type: 'FLOAT' },
  double: { type: 'DOUBLE' },
  string: { type: 'BYTE_ARRAY', converted_type: 'UTF8' },
  enum: { type: 'BYTE_ARRAY', converted_type: 'UTF8' },
  bytes: { type: 'BYTE_ARRAY' },
  fixed: { type: 'FIXED_LEN_BYTE_ARRAY' },
  date: { type: 'INT32', converted_type: 'DATE' },
  'timestamp-millis': { type: 'INT64', converted_type: 'TIMESTAMP_MILLIS' },
  'timestamp-micros': { type: 'INT64', converted_type: 'TIMESTAMP_MICROS' },
}

/**
 * Renders the schema tree as Parquet schema elements (depth-first, as in the file footer). Only converted
 * types are set, as parquetjs-lite does, so both writers produce the same schema; TIMESTAMP_MILLIS/MICROS
 * as converted types mean UTC-adjusted timestamps, which is what Avro's timestamp-millis/micros are.
 */
export function toSchemaElements(fields: readonly SchemaNode[]): SchemaElement[] {
  const elements: SchemaElement[] = [{ name: 'root', num_children: fields.length }]
  const visit = (node: SchemaNode): void => {
    const repetition_type = node.repetition
    switch (node.kind) {
      case 'leaf':
        elements.push({
          name: node.name,
          repetition_type,
          ...leafElements[node.type],
          ...(node.type === 'fixed' ? { type_length: node.size } : {}),
        })
        return
      case 'group':
        elements.push({ name: node.name, repetition_type, num_children: node.fields.length })
        node.fields.forEach(visit)
        return
      case 'list':
        elements.push({ name: node.name, repetition_type, converted_type: 'LIST', num_children: 1 })
        elements.push({ name: 'list', repetition_type: 'REPEATED', num_children: 1 })
        visit(node.element)
        return
      case 'map':
        elements.push({ name: node.name, repetition_type, converted_type: 'MAP', num_children: 1 })
        elements.push({ name: 'key_value', repetition_type: 'REPEATED', num_children: 2 })
        elements.push({ name: 'key', repetition_type: 'REQUIRED', type: 'BYTE_ARRAY', converted_type: 'UTF8' })
        visit(node.value)
        return
    }
  }
  fields.forEach(visit)
  return elements
}
