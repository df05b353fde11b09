/**
 * Turns one kind of persisted object (a split, an enumerator checkpoint, a committable, a writer's
 * state) into bytes and back, tagged with a format version.
 *
 * Every object Sluice writes into a checkpoint or savepoint goes through one of these, so that a job
 * upgraded to a new format can still read the checkpoints the old one wrote:
 * - `serialize` always writes the current {@link SimpleVersionedSerializer.version}.
 * - `deserialize(version, bytes)` must read every version it ever wrote; for a version newer than it
 *   knows it must throw (the runtime turns this into an error naming the checkpoint file).
 *
 * Called by the checkpointing thread of the task that owns the object; implementations must be
 * stateless (the same instance serves all subtasks).
 */
export interface SimpleVersionedSerializer<T> {
  /** The format version `serialize` writes. A positive integer, raised on every format change. */
  readonly version: number
  serialize(value: T): Uint8Array
  deserialize(version: number, serialized: Uint8Array): T
}

/** Bytes together with the serializer version that wrote them, as stored in a checkpoint. */
export interface VersionedBytes {
  readonly version: number
  readonly bytes: Uint8Array
}
