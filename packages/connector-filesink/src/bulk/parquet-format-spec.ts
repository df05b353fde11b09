import type { SchemaTree } from './schema-tree.js'

/** Parquet compression codecs both writers support. */
export type ParquetCompression = 'UNCOMPRESSED' | 'SNAPPY' | 'GZIP'

/**
 * What a Parquet bulk writer needs, validated: produced once by `parquetBulkFormat(...).validate()` and
 * shared by every writer of the sink (it is immutable).
 */
export interface ParquetFormatSpec {
  readonly schema: SchemaTree
  readonly compression: ParquetCompression
  /** Rows per row group. */
  readonly rowGroupSize: number
}
