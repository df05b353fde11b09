import type { BucketAssigner } from './bucket-assigner.js'
import type { BulkFormat } from './bulk/bulk-format.js'
import type { Encoder } from './encoder.js'
import type { PartFileNaming } from './part-file-names.js'
import type { RollingPolicy } from './rolling-policy.js'

/** How part files are encoded: one encoder call per record, or a bulk writer per part file. */
export type PartFileFormat<T> = { readonly kind: 'row'; readonly encoder: Encoder<T> } | { readonly kind: 'bulk'; readonly bulkFormat: BulkFormat<T> }

/** The options of a built {@link FileSink}: validated, with every default filled in. Internal. */
export interface FileSinkConfig<T> {
  /** Absolute. */
  readonly basePath: string
  readonly format: PartFileFormat<T>
  readonly bucketAssigner: BucketAssigner<T>
  readonly rollingPolicy: RollingPolicy<T>
  readonly naming: PartFileNaming
  /** ms between processing-time rolling checks. */
  readonly bucketCheckInterval: number
  /** Bytes; undefined when compaction is off. */
  readonly compactionTargetFileSize: number | undefined
  readonly warnWithoutCheckpointing: boolean
  readonly onWarning: (message: string) => void
}
