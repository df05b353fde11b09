/**
 * Independent readers for the Parquet files the tests write: DuckDB (C++, through @duckdb/node-api) and
 * hyparquet (JS, a different code base from hyparquet-writer's encoder). Neither shares code with the
 * writers under test, so a file they read value by value is a file other tools read.
 */
import { readFile } from 'node:fs/promises'
import { gunzipSync } from 'node:zlib'
import { DuckDBInstance } from '@duckdb/node-api'
import type { DuckDBConnection } from '@duckdb/node-api'
import { asyncBufferFromFile, parquetMetadataAsync, parquetReadObjects } from 'hyparquet'
import type { FileMetaData } from 'hyparquet'
import { parquetHeader } from 'hyparquet/src/column.js'

let connection: Promise<DuckDBConnection> | undefined

function duckdb(): Promise<DuckDBConnection> {
  connection ??= DuckDBInstance.create().then((instance) => instance.connect())
  return connection
}

const quote = (path: string): string => `'${path.replaceAll("'", "''")}'`

/** Rows of `select <columns> from read_parquet(file)` as DuckDB's JS values, with DuckDB's column types. */
export async function readWithDuckDB(
  file: string,
  columns = '*',
  orderBy?: string,
): Promise<{ types: Record<string, string>; rows: Record<string, unknown>[] }> {
  const db = await duckdb()
  const result = await db.runAndReadAll(
    `select ${columns} from read_parquet(${quote(file)})${orderBy ? ` order by ${orderBy}` : ''}`,
  )
  const names = result.columnNames()
  const types = Object.fromEntries(result.columnTypes().map((type, i) => [names[i], type.toString()]))
  return { types, rows: result.getRowObjectsJS() as Record<string, unknown>[] }
}

/** One SQL query's rows (for aggregates over large files). */
export async function queryDuckDB(sql: string): Promise<unknown[][]> {
  const db = await duckdb()
  return (await db.runAndReadAll(sql)).getRowsJS() as unknown[][]
}

/** The Parquet schema as DuckDB reads it from the footer: name → (type, converted type, repetition). */
export async function duckdbParquetSchema(
  file: string,
): Promise<{ name: string; type: string | null; converted_type: string | null; repetition_type: string | null }[]> {
  const db = await duckdb()
  const result = await db.runAndReadAll(
    `select name, type, converted_type, repetition_type from parquet_schema(${quote(file)})`,
  )
  return result.getRowObjectsJS() as never
}

/** All rows with hyparquet; unannotated BYTE_ARRAY stays bytes (`utf8: false`). */
export async function readWithHyparquet(file: string): Promise<Record<string, unknown>[]> {
  return (await parquetReadObjects({
    file: await asyncBufferFromFile(file),
    utf8: false,
    compressors: { GZIP: (input: Uint8Array) => new Uint8Array(gunzipSync(input)) },
  })) as Record<string, unknown>[]
}

/** The footer, read by hyparquet. */
export async function readMetadata(file: string): Promise<FileMetaData> {
  return parquetMetadataAsync(await asyncBufferFromFile(file))
}

/** The page type of the first data page of every column chunk (`DATA_PAGE` is V1, `DATA_PAGE_V2` is V2). */
export async function dataPageTypes(file: string): Promise<Set<string>> {
  const metadata = await readMetadata(file)
  const bytes = await readFile(file)
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength)
  const types = new Set<string>()
  for (const rowGroup of metadata.row_groups) {
    for (const column of rowGroup.columns) {
      const meta = column.meta_data
      if (!meta) continue
      const header = parquetHeader({ view, offset: Number(meta.data_page_offset) })
      types.add(header.type)
    }
  }
  return types
}
