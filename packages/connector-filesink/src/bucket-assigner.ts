import { InvalidBucketIdError } from './errors.js'

/**
 * What a {@link BucketAssigner} may look at besides the record (Flink's `BucketAssigner.Context`).
 * One object serves a whole batch: read it inside `getBucketId`, do not keep it.
 */
export interface BucketAssignerContext {
  /** Processing time (epoch ms), read once per batch handed to the sink writer. */
  currentProcessingTime(): number
  /** Event timestamp (epoch ms) of the record, or `undefined` if it has none. */
  timestamp(): number | undefined
  /** The subtask's current event-time watermark (`-Infinity` before the first one). */
  readonly currentWatermark: number
  /** Index of the record in its batch (for error messages). */
  readonly recordIndex: number
}

/**
 * Decides the bucket of each record: the sub-directory of the sink's base path its part file goes to
 * (Flink's `BucketAssigner`). Each bucket has its own in-progress part file per subtask.
 *
 * Called by the sink writer of one subtask, once per record, synchronously and never concurrently.
 * The returned id is a relative path under the base path, `/`-separated: `''` is the base path itself,
 * `'2024-05-01--13'` or `'country=fr/day=2024-05-01'` are sub-directories. Ids are checked the first time
 * a writer sees them (see {@link validateBucketId}); an invalid one fails the job with an
 * `InvalidBucketIdError` naming it.
 *
 * Bucket ids are persisted in checkpoints (as strings) and must be stable: the same record and context
 * must give the same id after a restart, or restored in-progress files would end up in other buckets
 * than the records replayed into them.
 */
export interface BucketAssigner<T> {
  getBucketId(record: T, context: BucketAssignerContext): string
}

/** Puts every part file directly into the base path: one global bucket, id `''` (Flink's `BasePathBucketAssigner`). */
export class BasePathBucketAssigner<T = unknown> implements BucketAssigner<T> {
  getBucketId(_record: T, _context: BucketAssignerContext): string {
    return ''
  }
  toString(): string {
    return 'BasePathBucketAssigner'
  }
}

/**
 * Checks that a bucket id is a safe relative path under the base path, and returns it.
 *
 * Allowed: `''` (the base path), or `/`-separated segments that are not empty, not `.` or `..`, do not
 * start with `.` (hidden names are where the sink keeps in-progress and pending files, and readers of
 * the output skip them) and hold no `\` or NUL character. So `a/b` is fine, while `/abs`, `a//b`, `a/`,
 * `../up`, `a/./b` and `.hidden` are refused.
 *
 * @throws InvalidBucketIdError naming the id (and the record's index in its batch, when given).
 */
export function validateBucketId(bucketId: unknown, recordIndex?: number): string {
  if (typeof bucketId !== 'string') throw new InvalidBucketIdError(bucketId, `expected a string, got ${typeof bucketId}`, recordIndex)
  if (bucketId === '') return bucketId
  if (bucketId.includes('\0')) throw new InvalidBucketIdError(bucketId, 'contains a NUL character', recordIndex)
  if (bucketId.includes('\\')) throw new InvalidBucketIdError(bucketId, "contains '\\'; use '/' to separate directories", recordIndex)
  if (bucketId.startsWith('/')) throw new InvalidBucketIdError(bucketId, 'is absolute; bucket ids are relative to the base path', recordIndex)
  for (const segment of bucketId.split('/')) {
    if (segment === '') throw new InvalidBucketIdError(bucketId, 'has an empty path segment', recordIndex)
    if (segment === '..' || segment === '.') {
      throw new InvalidBucketIdError(bucketId, `has a '${segment}' segment; buckets must stay inside the base path`, recordIndex)
    }
    if (segment.startsWith('.')) {
      throw new InvalidBucketIdError(bucketId, `segment '${segment}' starts with '.'; hidden names are reserved for in-progress files`, recordIndex)
    }
  }
  return bucketId
}
