import { JobGraphError } from '../errors.js'
import type { DataStream } from './data-stream.js'
import type { MapStateDescriptor } from './state.js'

/**
 * A stream whose records go to every parallel subtask of the operator it is connected to, together
 * with the descriptors of the broadcast state that operator keeps: the result of
 * `stream.broadcast(descriptor, ...)` (Flink's BroadcastStream). It has no operations of its own; use
 * it as the argument of `nonBroadcast.connect(broadcastStream)`.
 *
 * Subtasks run in one process and records are not copied between them: every subtask receives the same
 * object for a broadcast element. Treat broadcast elements (and what is put into broadcast state from
 * them) as immutable; Flink gives each subtask its own deserialized copy, Sluice does not.
 */
export class BroadcastStream<T> {
  /** @internal */ readonly stream: DataStream<T>
  readonly descriptors: readonly MapStateDescriptor<unknown, unknown>[]

  /** @internal Built by `DataStream.broadcast(...descriptors)`. */
  constructor(stream: DataStream<T>, descriptors: readonly MapStateDescriptor<unknown, unknown>[]) {
    const names = new Set<string>()
    for (const descriptor of descriptors) {
      if (descriptor?.kind !== 'map') {
        throw new JobGraphError(`broadcast(...): broadcast state is map state; expected MapStateDescriptors, got ${describe(descriptor)}`)
      }
      if (typeof descriptor.name !== 'string' || descriptor.name.length === 0) {
        throw new JobGraphError('broadcast(...): every broadcast state descriptor needs a non-empty name')
      }
      if (names.has(descriptor.name)) throw new JobGraphError(`broadcast(...): two descriptors are named '${descriptor.name}'; names must be unique`)
      names.add(descriptor.name)
    }
    this.stream = stream
    this.descriptors = descriptors
  }
}

function describe(value: unknown): string {
  if (value === null || typeof value !== 'object') return String(value)
  return `a ${(value as { kind?: unknown }).kind ?? 'non-'} state descriptor`
}
