/**
 * Bulk formats of the file sink: contracts, and the Parquet format with its two writers.
 * Re-exported from the package entry point.
 */
export type { BulkFormat, BulkWriter } from './bulk-format.js'
export { parquetBulkFormat, parquetBulkFormatDefaults } from './parquet-bulk-format.js'
export type { ParquetBulkFormatOptions, ParquetWriterKind } from './parquet-bulk-format.js'
export type { ParquetCompression } from './parquet-format-spec.js'
export type {
  ParquetFieldDefinition,
  ParquetGroupDefinition,
  ParquetLeafDefinition,
  ParquetLeafTypeName,
  ParquetSchemaDefinition,
} from './parquet-schema-definition.js'
export { ParquetRecordError } from './parquet-record-error.js'
