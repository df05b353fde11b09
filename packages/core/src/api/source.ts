import type { SimpleVersionedSerializer } from './serializer.js'
import type { SourceReader, SourceReaderContext } from './source-reader.js'
import type { SourceSplit } from './source-split.js'
import type { SplitEnumerator, SplitEnumeratorContext } from './split-enumerator.js'

/** Whether a source ends by itself (files, `fromElements`) or runs forever (Kafka, sockets). */
export type Boundedness = 'BOUNDED' | 'CONTINUOUS_UNBOUNDED'

/**
 * A factory for the parts of a source (Flink's FLIP-27 design): one {@link SplitEnumerator} per job
 * that discovers splits and assigns them, and one {@link SourceReader} per parallel subtask that reads
 * the splits assigned to it.
 *
 * Called by the runtime when a job (re)starts: `createEnumerator` on a fresh start,
 * `restoreEnumerator` with the enumerator's checkpointed state after a failure or from a savepoint,
 * and `createReader` once per subtask (readers get their splits back through `addSplits`).
 * A `Source` must be a description only: it opens nothing until these are called, and the same
 * instance is reused across restarts.
 */
export interface Source<T, Split extends SourceSplit, EnumState> {
  readonly boundedness: Boundedness
  createEnumerator(context: SplitEnumeratorContext<Split>): SplitEnumerator<Split, EnumState>
  restoreEnumerator(context: SplitEnumeratorContext<Split>, checkpoint: EnumState): SplitEnumerator<Split, EnumState>
  createReader(context: SourceReaderContext): SourceReader<T, Split>
  splitSerializer(): SimpleVersionedSerializer<Split>
  enumeratorCheckpointSerializer(): SimpleVersionedSerializer<EnumState>
}

// biome-ignore lint/suspicious/noExplicitAny: a source of any split and state type
export type AnySource<T> = Source<T, any, any>
