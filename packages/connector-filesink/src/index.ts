/**
 * @packageDocumentation
 * `@sluice/connector-filesink`: the seed's StreamingFileSink / FileSink as a Sluice sink. Row formats
 * (an encoder per record) and bulk formats (a writer per part file), buckets, rolling policies,
 * exactly-once under crashes through two-phase commit on checkpoints.
 */

// The sink and its builders
export { FileSink, RowFormatBuilder, BulkFormatBuilder, defaultBucketCheckInterval, type CompactionOptions } from './file-sink.js'

// Formats
export { type Encoder, SimpleStringEncoder, type SimpleStringEncoderOptions, type StringEncoderCharset, JsonLinesEncoder } from './encoder.js'
// Bulk formats: the BulkFormat / BulkWriter contracts and Parquet (src/bulk; README "Parquet")
export * from './bulk/index.js'

// Buckets
export { type BucketAssigner, type BucketAssignerContext, BasePathBucketAssigner, validateBucketId } from './bucket-assigner.js'
export {
  DateTimeBucketAssigner,
  type DateTimeBucketAssignerOptions,
  type BucketTimeSource,
  defaultDateTimeBucketFormat,
} from './date-time-bucket-assigner.js'

// Rolling
export { type RollingPolicy, type PartFileInfo, CheckpointRollingPolicy, OnCheckpointRollingPolicy } from './rolling-policy.js'
export {
  DefaultRollingPolicy,
  DefaultRollingPolicyBuilder,
  type DefaultRollingPolicyOptions,
  defaultMaxPartSize,
  defaultRolloverInterval,
  defaultInactivityInterval,
} from './default-rolling-policy.js'

// Part file names
export { OutputFileConfig, OutputFileConfigBuilder, type OutputFileConfigOptions } from './output-file-config.js'

// Persisted objects (for tools reading checkpoints)
export { type FileSinkCommittable, fileSinkCommittableSerializer, fileSinkCommittableVersion } from './file-sink-committable.js'
export { type FileSinkWriterState, type InProgressFileState, fileSinkWriterStateSerializer, fileSinkWriterStateVersion } from './file-writer-state.js'

// Errors
export {
  FileSinkError,
  RecordEncodingError,
  InvalidBucketIdError,
  BucketAssignmentError,
  PartFileWriteError,
  PartFileRecoveryError,
  PendingFileMissingError,
  PendingFileMismatchError,
} from './errors.js'
