import type { CommitRequest, Committer, CommitterContext } from '../api/committer.js'
import type { SimpleVersionedSerializer } from '../api/serializer.js'
import type { Sink, SupportsCommitter } from '../api/sink.js'
import type { CommittingSinkWriter, WriterInitContext } from '../api/sink-writer.js'
import { SerializationError } from '../errors.js'
import { expectInteger, expectObject, expectString, jsonSerializer } from './json-serializer.js'

/**
 * The records one writer of a {@link CollectSink} handed over at one checkpoint.
 * `id` is unique across restarts of the job in this process: it is how the committer sees that a
 * committable replayed from a restored checkpoint was already applied.
 */
export interface CollectCommittable<T> {
  /** `${attemptNumber}-${subtaskId}-w${writer}-${sequence}`: unique per sink instance. */
  readonly id: string
  readonly subtaskId: number
  readonly attemptNumber: number
  /** Position among the committables of its writer, from 0. */
  readonly sequence: number
  readonly records: readonly T[]
}

/**
 * A two-phase-commit sink that gathers committed records in memory, for tests and examples: after a
 * job ran, `sink.results` holds exactly what an exactly-once sink would have made visible.
 *
 * - Writers buffer records. At each checkpoint `prepareCommit` hands the buffer over as one
 *   {@link CollectCommittable} (none when empty); the committer appends its records to `results` once
 *   the checkpoint is durable. Records written after the last completed checkpoint of a failed
 *   attempt are never committed, so they never appear in `results` (the source replays them).
 * - The committer remembers the ids of the committables it applied, so the same committable committed
 *   again after a restore is reported with `signalAlreadyCommitted()` and not applied twice.
 * - `results` and the committed ids live on the sink instance: they survive in-process restarts of
 *   a job (the runtime reuses the `Sink` instance), not a new process. Records of different subtasks
 *   appear in commit order; sort them if a test needs a fixed order.
 *
 * Committables are persisted as JSON (format version 1), so the records must be JSON-able: plain
 * objects, arrays, strings, finite numbers, booleans, `null`. A `Date` comes back as a string after a
 * restore, and `undefined`, functions and `BigInt`s do not survive.
 */
export class CollectSink<T> implements Sink<T>, SupportsCommitter<CollectCommittable<T>> {
  /** Every committed record, in commit order. Shared by all subtasks and all attempts of a job. */
  readonly results: T[] = []
  private readonly committedIds = new Set<string>()
  /** Numbers writers so that committable ids stay unique even if two writers share subtask and attempt. */
  private writersCreated = 0

  createWriter(context: WriterInitContext): CommittingSinkWriter<T, CollectCommittable<T>> {
    const writerNumber = this.writersCreated++
    return new CollectWriter<T>(context, writerNumber)
  }

  createCommitter(_context: CommitterContext): Committer<CollectCommittable<T>> {
    return {
      commit: async (requests: CommitRequest<CollectCommittable<T>>[]): Promise<void> => {
        for (const request of requests) this.apply(request)
      },
      close: () => {},
    }
  }

  /** JSON over UTF-8, format version 1; see the class comment for which records survive it. */
  committableSerializer(): SimpleVersionedSerializer<CollectCommittable<T>> {
    const what = 'collect sink committable'
    return jsonSerializer(what, (json) => {
      const object = expectObject(json, what)
      const records = object.records
      if (!Array.isArray(records)) throw new SerializationError(what, "field 'records' must be an array")
      return {
        id: expectString(object, 'id', what),
        subtaskId: expectInteger(object, 'subtaskId', what),
        attemptNumber: expectInteger(object, 'attemptNumber', what),
        sequence: expectInteger(object, 'sequence', what),
        records: records as T[],
      }
    })
  }

  /**
   * Forgets every result and every committed id. Call it between jobs, never while a job runs on
   * this sink: a committable replayed after `clear()` would be applied again.
   */
  clear(): void {
    this.results.length = 0
    this.committedIds.clear()
  }

  private apply(request: CommitRequest<CollectCommittable<T>>): void {
    const { id, records } = request.committable
    if (this.committedIds.has(id)) {
      request.signalAlreadyCommitted()
      return
    }
    // A loop rather than push(...records): spreading a large batch overflows the call stack.
    for (let index = 0; index < records.length; index++) this.results.push(records[index] as T)
    this.committedIds.add(id)
  }
}

/** Buffers the records of one subtask between checkpoints. */
class CollectWriter<T> implements CommittingSinkWriter<T, CollectCommittable<T>> {
  private readonly subtaskId: number
  private readonly attemptNumber: number
  private readonly writerNumber: number
  private buffer: T[] = []
  private sequence = 0

  constructor(context: WriterInitContext, writerNumber: number) {
    this.subtaskId = context.subtaskId
    this.attemptNumber = context.attemptNumber
    this.writerNumber = writerNumber
  }

  write(records: readonly T[]): void {
    for (let index = 0; index < records.length; index++) this.buffer.push(records[index] as T)
  }

  flush(_endOfInput: boolean): void {}

  prepareCommit(): CollectCommittable<T>[] {
    if (this.buffer.length === 0) return []
    const sequence = this.sequence++
    const committable: CollectCommittable<T> = {
      id: `${this.attemptNumber}-${this.subtaskId}-w${this.writerNumber}-${sequence}`,
      subtaskId: this.subtaskId,
      attemptNumber: this.attemptNumber,
      sequence,
      records: this.buffer,
    }
    this.buffer = []
    return [committable]
  }

  /** Drops the buffer: what was not handed over at a checkpoint is never committed. */
  close(): void {
    this.buffer = []
  }
}
