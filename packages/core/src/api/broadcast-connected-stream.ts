import { JobGraphError } from '../errors.js'
import { CoBroadcastWithKeyedOperator, CoBroadcastWithNonKeyedOperator } from '../runtime/operators/co-broadcast-operator.js'
import type { BroadcastProcessFunction, KeyedBroadcastProcessFunction } from './broadcast-process-function.js'
import type { BroadcastStream } from './broadcast-stream.js'
import type { DataStream, SingleOutputStream } from './data-stream.js'
import type { KeySelector } from './functions.js'
import type { Key } from './state.js'

/**
 * A non-keyed stream connected to a {@link BroadcastStream}: `stream.connect(broadcastStream)` (Flink's
 * BroadcastConnectedStream). The non-broadcast input keeps its partitioning (forward, or rebalance at
 * another parallelism); the broadcast input reaches every subtask of the operator.
 */
export class BroadcastConnectedStream<In1, In2> {
  /** @internal Built by `DataStream.connect(broadcastStream)`. */
  constructor(
    readonly first: DataStream<In1>,
    readonly broadcastStream: BroadcastStream<In2>,
  ) {}

  /** Applies a {@link BroadcastProcessFunction}; its broadcast state is the descriptors given to `broadcast(...)`. */
  process<Out>(fn: BroadcastProcessFunction<In1, In2, Out>, name = 'Broadcast Process'): SingleOutputStream<Out> {
    checkFunction(fn, name)
    const descriptors = this.broadcastStream.descriptors
    const nonKeyed = fn as BroadcastProcessFunction<unknown, unknown, unknown>
    return this.first.twoInput<Out>(this.broadcastStream.stream.transformation, name, (uid, n) => new CoBroadcastWithNonKeyedOperator(uid, n, nonKeyed, descriptors))
  }
}

/**
 * A keyed stream connected to a {@link BroadcastStream}: `keyed.connect(broadcastStream)`. The keyed input
 * is partitioned by key; the broadcast input reaches every subtask.
 */
export class KeyedBroadcastConnectedStream<In1, In2, K extends Key> {
  /** @internal Built by `KeyedStream.connect(broadcastStream)`. */
  constructor(
    readonly first: DataStream<In1>,
    readonly broadcastStream: BroadcastStream<In2>,
    /** @internal */ readonly keySelector: KeySelector<In1, K>,
  ) {}

  /**
   * Applies a {@link KeyedBroadcastProcessFunction}: keyed state and timers on the keyed side,
   * `applyToKeyedState` on the broadcast side, broadcast state from the descriptors given to `broadcast(...)`.
   */
  process<Out>(fn: KeyedBroadcastProcessFunction<K, In1, In2, Out>, name = 'Keyed Broadcast Process'): SingleOutputStream<Out> {
    checkFunction(fn, name)
    const descriptors = this.broadcastStream.descriptors
    const keyed = fn as unknown as KeyedBroadcastProcessFunction<Key, unknown, unknown, unknown>
    const keySelector = this.keySelector as KeySelector<unknown, Key>
    return this.first.twoInput<Out>(
      this.broadcastStream.stream.transformation,
      name,
      (uid, n) => new CoBroadcastWithKeyedOperator(uid, n, keyed, descriptors, keySelector),
    )
  }
}

function checkFunction(fn: { processElement?: unknown; processBroadcastElement?: unknown } | undefined, name: string): void {
  if (typeof fn?.processElement !== 'function' || typeof fn.processBroadcastElement !== 'function') {
    throw new JobGraphError(`'${name}': the function needs processElement and processBroadcastElement methods`)
  }
}
