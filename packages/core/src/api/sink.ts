import type { Committer, CommitterContext } from './committer.js'
import type { GlobalCommitter } from './global-committer.js'
import type { SimpleVersionedSerializer } from './serializer.js'
import type { SinkWriter, WriterInitContext } from './sink-writer.js'

/**
 * A factory for the writers of a sink (Flink's sink2 design). The base contract only writes; what
 * else a sink can do is said by the small interfaces it also implements:
 * - {@link SupportsWriterState}: its writers keep state across checkpoints (open files, buffers).
 * - {@link SupportsCommitter}: two-phase commit: writers hand committables over at each checkpoint and
 *   a {@link Committer} makes them visible once the checkpoint is durable.
 * - {@link SupportsGlobalCommitter}: the committables of all subtasks are combined and committed once.
 *
 * Called by the runtime when a job (re)starts: `createWriter` once per parallel subtask on a fresh
 * start, `restoreWriter` with the subtask's checkpointed writer states after a restore. The same
 * `Sink` instance is reused across restarts and must open nothing by itself.
 */
export interface Sink<In> {
  createWriter(context: WriterInitContext): SinkWriter<In> | Promise<SinkWriter<In>>
}

/** A sink whose writers have state that must survive a restart. */
export interface SupportsWriterState<In, WriterState> {
  /**
   * Creates a writer from the states that the writers of the restored checkpoint snapshotted.
   * With the same parallelism each subtask gets its own subtask's states; after a rescale, the
   * states of all old subtasks are spread round-robin over the new ones.
   */
  restoreWriter(context: WriterInitContext, recoveredState: WriterState[]): SinkWriter<In> | Promise<SinkWriter<In>>
  writerStateSerializer(): SimpleVersionedSerializer<WriterState>
}

/** A sink that commits in two phases: prepared by writers at a checkpoint, committed after it is durable. */
export interface SupportsCommitter<Committable> {
  createCommitter(context: CommitterContext): Committer<Committable> | Promise<Committer<Committable>>
  committableSerializer(): SimpleVersionedSerializer<Committable>
}

/** A sink whose committables of one checkpoint are combined over all subtasks and committed once. */
export interface SupportsGlobalCommitter<Committable, GlobalCommittable> {
  createGlobalCommitter(): GlobalCommitter<Committable, GlobalCommittable> | Promise<GlobalCommitter<Committable, GlobalCommittable>>
  globalCommittableSerializer(): SimpleVersionedSerializer<GlobalCommittable>
}

export function supportsWriterState<In>(sink: Sink<In>): sink is Sink<In> & SupportsWriterState<In, unknown> {
  return typeof (sink as Partial<SupportsWriterState<In, unknown>>).restoreWriter === 'function'
}

export function supportsCommitter<In>(sink: Sink<In>): sink is Sink<In> & SupportsCommitter<unknown> {
  return typeof (sink as Partial<SupportsCommitter<unknown>>).createCommitter === 'function'
}

export function supportsGlobalCommitter<In>(
  sink: Sink<In>,
): sink is Sink<In> & SupportsGlobalCommitter<unknown, unknown> {
  return typeof (sink as Partial<SupportsGlobalCommitter<unknown, unknown>>).createGlobalCommitter === 'function'
}
