/**
 * @packageDocumentation
 * `@sluice/testkit`: what a connector author needs to prove a sink exactly-once under `kill -9`:
 * a transactional file sink that needs no external service, readers for its output, and the crash
 * harness that kills and restarts a job script at seeded random moments.
 */

// Exactly-once file sink for tests
export { TransactionalFileSink, type TransactionalFileSinkOptions } from './transactional-file-sink.js'
export { type FileCommittable, fileCommittableFormatVersion, fileCommittableSerializer } from './file-committable.js'
export {
  committedDirectoryOf,
  inProgressDirectoryOf,
  listCommittedFiles,
  listInProgressFiles,
  readCommittedRecords,
  type ReadCommittedRecordsOptions,
} from './committed-files.js'

// Crash harness
export { planKillDelays, runCrashLoop, type CrashLoopEvent, type CrashLoopOptions, type CrashLoopReport } from './crash-harness.js'
export { firstRecordMarker, reportRunning, type ReportRunningOptions, runCrashLoopChild, runningMarker } from './report-running.js'

// Errors
export { CommitFileMissingError, CommittedFileCorruptedError, CrashLoopError, type CrashLoopFailureReason } from './errors.js'
