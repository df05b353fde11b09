import type {
  BroadcastContext,
  BroadcastProcessFunction,
  KeyedBroadcastContext,
  KeyedBroadcastOnTimerContext,
  KeyedBroadcastProcessFunction,
  ReadOnlyBroadcastContext,
} from '../../api/broadcast-process-function.js'
import type { Collector, KeySelector, OutputTag } from '../../api/functions.js'
import type { AnyStateDescriptor, Key, MapStateDescriptor } from '../../api/state.js'
import { IllegalStateError } from '../../errors.js'
import type { HeapKeyedStateBackend } from '../../state/heap-keyed-state-backend.js'
import { HeapBroadcastState } from '../../state/heap-broadcast-state.js'
import { AbstractStreamOperator, perSubtaskInstance } from '../abstract-stream-operator.js'
import type { Timestamps } from '../stream-element.js'
import type { OperatorSubtaskState, VersionedItem } from '../stream-operator.js'

type AnyBroadcastState = HeapBroadcastState<unknown, unknown>
type TimeDomain = 'EVENT_TIME' | 'PROCESSING_TIME'

/**
 * The two-input operator behind `connect(broadcastStream).process(fn)`: input 1 is the non-broadcast
 * stream, input 2 the broadcast stream (every subtask receives all of it). Holds one
 * {@link HeapBroadcastState} per descriptor given to `broadcast(...)`, snapshots them at every
 * checkpoint under `broadcast` and restores them before the function opens. Broadcast states found in
 * the checkpoint without a descriptor are carried over unchanged.
 */
abstract class AbstractCoBroadcastOperator extends AbstractStreamOperator {
  private readonly states = new Map<string, AnyBroadcastState>()
  private carried: Record<string, VersionedItem> = {}
  protected collector!: Collector<unknown>

  constructor(
    uid: string,
    name: string,
    private readonly descriptors: readonly MapStateDescriptor<unknown, unknown>[],
    keySelector?: KeySelector<unknown, Key>,
  ) {
    super(uid, name, keySelector)
  }

  protected override openFunction(): Promise<void> | void {
    const context = this.context
    const owner = `operator '${this.name}' (${context.subtaskId + 1}/${context.parallelism})`
    for (const descriptor of this.descriptors) this.states.set(descriptor.name, new HeapBroadcastState(descriptor, owner))
    const restored = context.restoredState?.broadcast
    if (restored !== undefined) {
      const where = `checkpoint ${context.restoredCheckpointId}`
      for (const [name, item] of Object.entries(restored)) {
        const state = this.states.get(name)
        if (state === undefined) this.carried[name] = item
        else state.restore(item, where)
      }
    }
    const output = context.output
    this.collector = { collect: (value) => output.collect(value, this.getCurrentTimestamp()) }
    return this.openUserFunction()
  }

  protected abstract openUserFunction(): Promise<void> | void

  protected broadcastState(descriptor: MapStateDescriptor<unknown, unknown>): AnyBroadcastState {
    const state = this.states.get(descriptor?.name)
    if (state === undefined) {
      throw new IllegalStateError(
        `operator '${this.name}': there is no broadcast state '${descriptor?.name}'; ` +
          `pass its descriptor to stream.broadcast(...) (registered: ${[...this.states.keys()].map((n) => `'${n}'`).join(', ') || 'none'})`,
      )
    }
    return state
  }

  /** Reused context fields: timestamp, side output, clocks. */
  protected baseContext() {
    const context = this.context
    return {
      timestamp: () => this.getCurrentTimestamp(),
      output: <X>(tag: OutputTag<X>, value: X) => context.output.collectSide(tag.id, value, this.getCurrentTimestamp()),
      currentWatermark: () => context.currentWatermark(),
      currentProcessingTime: () => context.processingTime.now(),
    }
  }

  override snapshotState(checkpointId: number): OperatorSubtaskState {
    const state = super.snapshotState(checkpointId) as OperatorSubtaskState
    const broadcast: Record<string, VersionedItem> = { ...this.carried }
    for (const [name, broadcastState] of this.states) broadcast[name] = broadcastState.snapshot()
    return { ...state, broadcast }
  }
}

/** `nonKeyed.connect(broadcastStream).process(BroadcastProcessFunction)`. Flink's CoBroadcastWithNonKeyedOperator. */
export class CoBroadcastWithNonKeyedOperator extends AbstractCoBroadcastOperator {
  private readOnlyContext!: ReadOnlyBroadcastContext
  private fullContext!: BroadcastContext

  constructor(
    uid: string,
    name: string,
    private fn: BroadcastProcessFunction<unknown, unknown, unknown>,
    descriptors: readonly MapStateDescriptor<unknown, unknown>[],
  ) {
    super(uid, name, descriptors)
  }

  protected openUserFunction(): Promise<void> | void {
    this.fn = perSubtaskInstance(this.fn)
    const base = this.baseContext()
    this.readOnlyContext = {
      ...base,
      getBroadcastState: (descriptor) => this.broadcastState(descriptor as MapStateDescriptor<unknown, unknown>).readOnly as never,
    }
    this.fullContext = {
      ...base,
      getBroadcastState: (descriptor) => this.broadcastState(descriptor as MapStateDescriptor<unknown, unknown>) as never,
    }
    return this.fn.open?.(this.runtimeContext())
  }

  processBatch(values: unknown[], timestamps: Timestamps, inputIndex: 1 | 2): void {
    const fn = this.fn
    const collector = this.collector
    if (inputIndex === 1) {
      const context = this.readOnlyContext
      for (let i = 0; i < values.length; i++) {
        this.setCurrentTimestamp(timestamps === null ? undefined : timestamps[i])
        fn.processElement(values[i], context, collector)
      }
    } else {
      const context = this.fullContext
      for (let i = 0; i < values.length; i++) {
        this.setCurrentTimestamp(timestamps === null ? undefined : timestamps[i])
        fn.processBroadcastElement(values[i], context, collector)
      }
    }
  }

  override close(): Promise<void> | void {
    return this.fn.close?.()
  }
}

/**
 * `keyed.connect(broadcastStream).process(KeyedBroadcastProcessFunction)`: keyed state and timers on the
 * keyed side (input 1), `applyToKeyedState` on the broadcast side (input 2). Flink's CoBroadcastWithKeyedOperator.
 */
export class CoBroadcastWithKeyedOperator extends AbstractCoBroadcastOperator {
  private readOnlyContext!: KeyedBroadcastOnTimerContext<Key> & { domain: TimeDomain }
  private fullContext!: KeyedBroadcastContext<Key>

  constructor(
    uid: string,
    name: string,
    private fn: KeyedBroadcastProcessFunction<Key, unknown, unknown, unknown>,
    descriptors: readonly MapStateDescriptor<unknown, unknown>[],
    keySelector: KeySelector<unknown, Key>,
  ) {
    super(uid, name, descriptors, keySelector)
  }

  protected openUserFunction(): Promise<void> | void {
    this.fn = perSubtaskInstance(this.fn)
    const base = this.baseContext()
    const backend = this.requireBackend()
    const timers = this.timerService()
    const readOnlyContext = {
      ...base,
      domain: 'EVENT_TIME' as TimeDomain,
      getBroadcastState: (descriptor: MapStateDescriptor<unknown, unknown>) => this.broadcastState(descriptor).readOnly as never,
      getCurrentKey: () => backend.getCurrentKey(),
      timerService: () => timers,
      timeDomain: () => readOnlyContext.domain,
    }
    this.readOnlyContext = readOnlyContext
    this.fullContext = {
      ...base,
      getBroadcastState: (descriptor) => this.broadcastState(descriptor as MapStateDescriptor<unknown, unknown>) as never,
      applyToKeyedState: (descriptor, fn) => applyToKeyedState(backend, descriptor, fn as (key: Key, state: unknown) => void),
    }
    return this.fn.open?.(this.keyedRuntimeContext())
  }

  processBatch(values: unknown[], timestamps: Timestamps, inputIndex: 1 | 2): void {
    const fn = this.fn
    const collector = this.collector
    if (inputIndex === 1) {
      const backend = this.backend as HeapKeyedStateBackend
      const keySelector = this.keySelector as KeySelector<unknown, Key>
      const context = this.readOnlyContext
      for (let i = 0; i < values.length; i++) {
        const value = values[i]
        backend.setCurrentKey(keySelector(value))
        this.setCurrentTimestamp(timestamps === null ? undefined : timestamps[i])
        fn.processElement(value, context, collector)
      }
    } else {
      const context = this.fullContext
      for (let i = 0; i < values.length; i++) {
        this.setCurrentTimestamp(timestamps === null ? undefined : timestamps[i])
        fn.processBroadcastElement(values[i], context, collector)
      }
    }
  }

  protected override onTimer(timestamp: number, domain: TimeDomain): void {
    if (!this.fn.onTimer) return
    this.readOnlyContext.domain = domain
    this.fn.onTimer(timestamp, this.readOnlyContext, this.collector)
  }

  override close(): Promise<void> | void {
    return this.fn.close?.()
  }
}

/** Calls `fn` for every key of this subtask with an entry in the descriptor's state, that key current. */
function applyToKeyedState(backend: HeapKeyedStateBackend, descriptor: AnyStateDescriptor, fn: (key: Key, state: unknown) => void): void {
  let state: unknown
  switch (descriptor.kind) {
    case 'value':
      state = backend.getState(descriptor)
      break
    case 'list':
      state = backend.getListState(descriptor)
      break
    case 'map':
      state = backend.getMapState(descriptor)
      break
    case 'reducing':
      state = backend.getReducingState(descriptor)
      break
    case 'aggregating':
      state = backend.getAggregatingState(descriptor)
      break
    default:
      throw new IllegalStateError(`applyToKeyedState: unknown state descriptor kind '${String((descriptor as { kind?: unknown }).kind)}'`)
  }
  // Keys first: fn may clear the state of the key it is given.
  for (const key of backend.keys(descriptor.name)) {
    backend.setCurrentKey(key)
    fn(key, state)
  }
}
