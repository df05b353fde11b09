import { mkdir } from 'node:fs/promises'
import path from 'node:path'
import type { CommittingSinkWriter, SinkWriterContext, StatefulSinkWriter, WriterInitContext } from '@sluice/core'
import type { BucketAssigner, BucketAssignerContext } from './bucket-assigner.js'
import { validateBucketId } from './bucket-assigner.js'
import { BulkPartFile } from './bulk-part-file.js'
import { compactPendingFiles } from './compaction.js'
import { BucketAssignmentError, messageOf, PartFileWriteError, RecordEncodingError } from './errors.js'
import type { FileSinkCommittable } from './file-sink-committable.js'
import type { FileSinkConfig } from './file-sink-config.js'
import type { FileSinkWriterState, InProgressFileState } from './file-writer-state.js'
import { scanPartFiles } from './part-file-recovery.js'
import { RowPartFile, rowWriteBufferBytes } from './row-part-file.js'

/** One bucket of one subtask: its directory and its in-progress part file, if any. */
interface Bucket<T> {
  readonly id: string
  readonly directory: string
  directoryReady: boolean
  part: RowPartFile | BulkPartFile<T> | undefined
  /** Bulk formats: records of the current batch, grouped per bucket before `addElements`. */
  batch: T[]
}

/** The context handed to bucket assigners: one mutable object per writer, updated per record. */
class AssignerContext implements BucketAssignerContext {
  recordIndex = 0
  processingTime = 0
  writerContext: SinkWriterContext | undefined
  currentProcessingTime(): number {
    return this.processingTime
  }
  timestamp(): number | undefined {
    return this.writerContext?.timestampOf(this.recordIndex)
  }
  get currentWatermark(): number {
    return this.writerContext?.currentWatermark ?? Number.NEGATIVE_INFINITY
  }
}

/**
 * Writes the records of one subtask of a {@link FileSink} into part files, one in-progress part file
 * per bucket, and hands the part files that rolled over to the committer at each checkpoint.
 *
 * Called by one task, never concurrently. Per checkpoint: `write* → flush(false) → prepareCommit() →
 * snapshotState(id)`; at the end of bounded input `flush(true)` first, so `prepareCommit` rolls every
 * part file and the final checkpoint publishes everything. `close` once, also after a failure.
 *
 * - `write`: per record, the bucket assigner picks the bucket, the rolling policy may roll the open
 *   part file (it is closed, fsynced and becomes pending), the record is encoded and buffered. Every
 *   `bucketCheckInterval` (checked per batch and per checkpoint; no timer runs) open part files are
 *   offered to `shouldRollOnProcessingTime`.
 * - `prepareCommit`: rolls what the policy says (`shouldRollOnCheckpoint`; every file for bulk formats
 *   and at end of input), fsyncs the row part files that stay open, drops buckets that have no open
 *   part file (released after inactivity), and returns one committable per pending part file.
 * - `snapshotState`: the open row part files with their fsynced length, and the part counter.
 * - recovery ({@link FileSinkWriter.open} with states): truncates restored in-progress files to their
 *   checkpointed length and keeps appending; deletes leftover hidden files opened after the restored
 *   checkpoint; continues part counters past the highest counter found on disk.
 */
export class FileSinkWriter<T>
  implements CommittingSinkWriter<T, FileSinkCommittable>, StatefulSinkWriter<T, FileSinkWriterState>
{
  private readonly buckets = new Map<string, Bucket<T>>()
  /** Pending part files rolled since the last `prepareCommit`. */
  private rolled: FileSinkCommittable[] = []
  private readonly assignerContext = new AssignerContext()
  private lastProcessingTimeCheck: number
  private endOfInput = false
  private closed = false
  /** Bulk formats: buckets that got records in the current batch. */
  private readonly touched: Bucket<T>[] = []
  /** Row formats: part files that got records in the current batch. */
  private readonly touchedParts: RowPartFile[] = []
  private batchNumber = 0

  private constructor(
    private readonly config: FileSinkConfig<T>,
    private readonly subtaskId: number,
    /** The part counter of the next new part file. */
    private nextCounter: number,
    /** Id of the last checkpoint this writer snapshotted (or restored); new files get epoch `+ 1`. */
    private lastCheckpointId: number,
    now: number,
  ) {
    this.lastProcessingTimeCheck = now
  }

  /**
   * Opens the writer of one subtask: fresh (`states` undefined) or from the states of a restored
   * checkpoint (see the class comment for what recovery does).
   */
  static async open<T>(config: FileSinkConfig<T>, context: WriterInitContext, states: readonly FileSinkWriterState[] | undefined): Promise<FileSinkWriter<T>> {
    const restored = states ?? []
    const keep = new Set<string>(restored.flatMap((s) => s.inProgress.map((f) => f.path)))
    const scan = await scanPartFiles({
      basePath: config.basePath,
      naming: config.naming,
      subtaskId: context.subtaskId,
      parallelism: context.parallelism,
      restoredCheckpointId: context.restoredCheckpointId,
      keep,
    })
    const counterFromState = Math.max(0, ...restored.filter((s) => s.subtaskId === context.subtaskId).map((s) => s.nextCounter))
    const writer = new FileSinkWriter<T>(config, context.subtaskId, Math.max(scan.maxCounter + 1, counterFromState), context.restoredCheckpointId ?? 0, Date.now())
    try {
      for (const state of restored) {
        for (const file of state.inProgress) await writer.recoverInProgress(file, state.subtaskId === context.subtaskId, context.restoredCheckpointId)
      }
    } catch (error) {
      await writer.close()
      throw error
    }
    return writer
  }

  async write(records: readonly T[], context: SinkWriterContext): Promise<void> {
    const now = Date.now()
    if (now - this.lastProcessingTimeCheck >= this.config.bucketCheckInterval) await this.rollOnProcessingTime(now)
    const assignerContext = this.assignerContext
    assignerContext.processingTime = now
    assignerContext.writerContext = context
    if (this.config.format.kind === 'row') await this.writeRows(records, now)
    else await this.writeBulk(records, now)
  }

  /** Writes out buffered bytes (no fsync: `prepareCommit` fsyncs once per checkpoint). */
  async flush(endOfInput: boolean): Promise<void> {
    if (endOfInput) this.endOfInput = true
    for (const bucket of this.buckets.values()) if (bucket.part instanceof RowPartFile) await bucket.part.drain()
  }

  async prepareCommit(): Promise<FileSinkCommittable[]> {
    const now = Date.now()
    if (!this.endOfInput && now - this.lastProcessingTimeCheck >= this.config.bucketCheckInterval) await this.rollOnProcessingTime(now)
    const policy = this.config.rollingPolicy
    const bulk = this.config.format.kind === 'bulk'
    await settleAll(
      [...this.buckets.values()].map((bucket) => {
        const part = bucket.part
        if (part === undefined) return undefined
        if (this.endOfInput || bulk || policy.shouldRollOnCheckpoint(part)) return this.roll(bucket)
        // Stays in progress: the checkpoint records its length, which must be durable first.
        return (part as RowPartFile).sync()
      }),
    )
    this.releaseIdleBuckets()
    const rolled = this.rolled
    this.rolled = []
    if (this.config.compactionTargetFileSize === undefined || rolled.length < 2) return rolled
    return compactPendingFiles(rolled, this.config.compactionTargetFileSize, (bucketId) => this.newPartPaths(bucketId))
  }

  snapshotState(checkpointId: number): FileSinkWriterState[] {
    this.lastCheckpointId = Math.max(this.lastCheckpointId, checkpointId)
    const inProgress: InProgressFileState[] = []
    for (const bucket of this.buckets.values()) {
      const part = bucket.part
      if (!(part instanceof RowPartFile)) continue
      inProgress.push({
        bucketId: bucket.id,
        path: part.path,
        finalPath: part.finalPath,
        validLength: part.size,
        creationTime: part.creationTime,
        lastUpdateTime: part.lastUpdateTime,
      })
    }
    return [{ subtaskId: this.subtaskId, nextCounter: this.nextCounter, inProgress }]
  }

  /**
   * Closes open part files without publishing anything (Sluice calls `close` after a failure, and
   * after the final checkpoint when nothing is open any more). What stays on disk is hidden and is
   * resumed or deleted by the next recovery.
   */
  async close(): Promise<void> {
    if (this.closed) return
    this.closed = true
    const parts = [...this.buckets.values()].map((b) => b.part)
    this.buckets.clear()
    await Promise.all(parts.map((part) => part?.abort()))
  }

  /** Ids of the buckets that have an open part file (for tests and metrics). */
  activeBucketIds(): string[] {
    return [...this.buckets.keys()]
  }

  // ------------------------------------------------------------------ write paths

  private async writeRows(records: readonly T[], now: number): Promise<void> {
    const { bucketAssigner, rollingPolicy } = this.config
    const encoder = (this.config.format as { encoder: { encode(record: T): string | Uint8Array } }).encoder
    const context = this.assignerContext
    const touched = this.touchedParts
    const batch = ++this.batchNumber
    let lastId: string | undefined
    let lastBucket: Bucket<T> | undefined
    try {
      for (let index = 0; index < records.length; index++) {
        const record = records[index] as T
        context.recordIndex = index
        const bucketId = assignBucket(bucketAssigner, record, context, index)
        let bucket = bucketId === lastId ? (lastBucket as Bucket<T>) : this.buckets.get(bucketId)
        if (bucket === undefined) bucket = this.addBucket(bucketId, index)
        lastId = bucketId
        lastBucket = bucket
        let encoded: string | Uint8Array
        try {
          encoded = encoder.encode(record)
        } catch (error) {
          throw new RecordEncodingError(index, bucketId, record, messageOf(error), { cause: error })
        }
        if (typeof encoded !== 'string' && !(encoded instanceof Uint8Array)) {
          throw new RecordEncodingError(index, bucketId, record, `the encoder returned ${encoded === null ? 'null' : typeof encoded}, expected a string or a Uint8Array`)
        }
        let part = bucket.part as RowPartFile | undefined
        if (part !== undefined && rollingPolicy.shouldRollOnEvent(part, record)) {
          await this.roll(bucket)
          part = undefined
        }
        if (part === undefined) part = (await this.openPart(bucket, now)) as RowPartFile
        if (part.batchMark !== batch) {
          part.batchMark = batch
          touched.push(part)
        }
        part.append(encoded)
        part.lastUpdateTime = now
      }
    } finally {
      // One UTF-8 conversion per part file and batch.
      for (const part of touched) part.seal()
    }
    // Then write out the part files that buffered enough (a rolled one has nothing buffered).
    for (const part of touched) if (part.bufferedBytes >= rowWriteBufferBytes) await part.drain()
    touched.length = 0
  }

  private async writeBulk(records: readonly T[], now: number): Promise<void> {
    const { bucketAssigner, rollingPolicy } = this.config
    const context = this.assignerContext
    const touched = this.touched
    let lastId: string | undefined
    let lastBucket: Bucket<T> | undefined
    for (let index = 0; index < records.length; index++) {
      const record = records[index] as T
      context.recordIndex = index
      const bucketId = assignBucket(bucketAssigner, record, context, index)
      let bucket = bucketId === lastId ? (lastBucket as Bucket<T>) : this.buckets.get(bucketId)
      if (bucket === undefined) bucket = this.addBucket(bucketId, index)
      lastId = bucketId
      lastBucket = bucket
      if (bucket.batch.length === 0) touched.push(bucket)
      bucket.batch.push(record)
    }
    try {
      for (const bucket of touched) {
        const batch = bucket.batch
        let part = bucket.part as BulkPartFile<T> | undefined
        // Bulk writers take batches: the policy is asked once per bucket and batch, with its first record.
        if (part !== undefined && rollingPolicy.shouldRollOnEvent(part, batch[0] as T)) {
          await this.roll(bucket)
          part = undefined
        }
        if (part === undefined) part = (await this.openPart(bucket, now)) as BulkPartFile<T>
        await part.addElements(batch)
        part.lastUpdateTime = now
      }
    } finally {
      for (const bucket of touched) bucket.batch = []
      touched.length = 0
    }
  }

  // ------------------------------------------------------------------ buckets and part files

  private addBucket(bucketId: string, recordIndex?: number): Bucket<T> {
    validateBucketId(bucketId, recordIndex)
    const bucket: Bucket<T> = { id: bucketId, directory: path.join(this.config.basePath, bucketId), directoryReady: false, part: undefined, batch: [] }
    this.buckets.set(bucketId, bucket)
    return bucket
  }

  private newPartPaths(bucketId: string): { path: string; finalPath: string } {
    const counter = this.nextCounter++
    const directory = path.join(this.config.basePath, bucketId)
    const naming = this.config.naming
    return {
      path: path.join(directory, naming.hiddenName(this.subtaskId, counter, this.lastCheckpointId + 1)),
      finalPath: path.join(directory, naming.finishedName(this.subtaskId, counter)),
    }
  }

  private async openPart(bucket: Bucket<T>, now: number): Promise<RowPartFile | BulkPartFile<T>> {
    if (!bucket.directoryReady) {
      try {
        await mkdir(bucket.directory, { recursive: true })
      } catch (error) {
        throw new PartFileWriteError('create bucket directory', bucket.directory, error)
      }
      bucket.directoryReady = true
    }
    const { path: partPath, finalPath } = this.newPartPaths(bucket.id)
    const format = this.config.format
    bucket.part =
      format.kind === 'row'
        ? await RowPartFile.create(bucket.id, partPath, finalPath, now)
        : await BulkPartFile.create(format.bulkFormat, bucket.id, partPath, finalPath, now)
    return bucket.part
  }

  /** Closes the bucket's part file (complete, fsynced): it becomes pending, committed after the next checkpoint. */
  private async roll(bucket: Bucket<T>): Promise<void> {
    const part = bucket.part
    if (part === undefined) return
    bucket.part = undefined
    const size = await part.close()
    this.rolled.push({ bucketId: bucket.id, pendingPath: part.path, finalPath: part.finalPath, size })
  }

  private async rollOnProcessingTime(now: number): Promise<void> {
    this.lastProcessingTimeCheck = now
    const policy = this.config.rollingPolicy
    await settleAll([...this.buckets.values()].map((bucket) => (bucket.part !== undefined && policy.shouldRollOnProcessingTime(bucket.part, now) ? this.roll(bucket) : undefined)))
    this.releaseIdleBuckets()
  }

  /** Buckets without an open part file hold nothing: forget them (Flink's inactive bucket cleanup). */
  private releaseIdleBuckets(): void {
    for (const [id, bucket] of this.buckets) if (bucket.part === undefined) this.buckets.delete(id)
  }

  /**
   * A restored in-progress file: this subtask's own is resumed (truncated to its checkpointed length,
   * then appended to). One adopted from another subtask after a rescale, or a second one for a bucket
   * that already has an open file, is truncated and rolled at once, so it is published at the next
   * checkpoint and every bucket keeps one open file.
   */
  private async recoverInProgress(file: InProgressFileState, own: boolean, checkpointId: number | undefined): Promise<void> {
    const part = await RowPartFile.resume(file, checkpointId)
    const bucket = this.buckets.get(file.bucketId) ?? this.addBucket(file.bucketId)
    bucket.directoryReady = true
    if (own && bucket.part === undefined) {
      bucket.part = part
      return
    }
    const size = await part.close()
    this.rolled.push({ bucketId: file.bucketId, pendingPath: part.path, finalPath: part.finalPath, size })
  }
}

function assignBucket<T>(assigner: BucketAssigner<T>, record: T, context: BucketAssignerContext, index: number): string {
  let bucketId: string
  try {
    bucketId = assigner.getBucketId(record, context)
  } catch (error) {
    throw new BucketAssignmentError(index, describeAssigner(assigner), record, messageOf(error), { cause: error })
  }
  return bucketId
}

function describeAssigner(assigner: object): string {
  if (typeof assigner.toString === 'function' && assigner.toString !== Object.prototype.toString) return String(assigner)
  return `bucket assigner ${assigner.constructor?.name ?? ''}`.trim()
}

/** Runs the operations together (fsyncs of many buckets overlap) and throws the first failure after all settled. */
async function settleAll(operations: (Promise<void> | undefined)[]): Promise<void> {
  const results = await Promise.allSettled(operations)
  for (const result of results) if (result.status === 'rejected') throw result.reason
}
