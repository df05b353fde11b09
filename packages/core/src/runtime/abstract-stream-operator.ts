import type { KeySelector, KeyedRuntimeContext, OnTimerContext, RuntimeContext, TimerService } from '../api/functions.js'
import type { Key } from '../api/state.js'
import { IllegalStateError } from '../errors.js'
import { HeapKeyedStateBackend } from '../state/heap-keyed-state-backend.js'
import { keyGroupRangeForSubtask } from '../state/key-groups.js'
import type { OperatorContext, OperatorSubtaskState, StreamOperator } from './stream-operator.js'
import type { Timestamps } from './stream-element.js'

type TimeDomain = 'EVENT_TIME' | 'PROCESSING_TIME'

/**
 * Base of the built-in operators: lifecycle defaults, and for keyed operators the keyed state
 * backend, the timer service and a runtime context handing out keyed state.
 */
export abstract class AbstractStreamOperator implements StreamOperator {
  protected context!: OperatorContext
  protected backend: HeapKeyedStateBackend | undefined
  private currentTimestamp: number | undefined

  constructor(
    readonly uid: string,
    readonly name: string,
    /** Set for operators on a keyed stream: selects the key of each input record. */
    protected readonly keySelector?: KeySelector<unknown, Key>,
    protected readonly keySelector2?: KeySelector<unknown, Key>,
  ) {}

  open(context: OperatorContext): Promise<void> | void {
    this.context = context
    if (this.keySelector) {
      const range = keyGroupRangeForSubtask(context.maxParallelism, context.parallelism, context.subtaskId)
      this.backend = new HeapKeyedStateBackend({
        maxParallelism: context.maxParallelism,
        keyGroupRange: range,
        owner: `operator '${this.name}' (${context.subtaskId + 1}/${context.parallelism})`,
      })
      const keyed = context.restoredState?.keyed
      if (keyed) this.backend.restore(keyed)
      const next = this.backend.nextTimerTimestamp('PROCESSING_TIME')
      // A timer at +Infinity (end of time) never fires: no wake-up for it.
      if (next !== undefined && Number.isFinite(next)) context.processingTime.requestWakeup(next)
    }
    return this.openFunction()
  }

  /** Opens the user function; the runtime context is ready. */
  protected openFunction(): Promise<void> | void {}

  abstract processBatch(values: unknown[], timestamps: Timestamps, inputIndex: 1 | 2): Promise<void> | void

  processWatermark(watermark: number): void {
    this.backend?.fireTimers('EVENT_TIME', watermark, (timestamp) => this.fireTimer(timestamp, 'EVENT_TIME'))
  }

  onProcessingTime(now: number): void {
    const backend = this.backend
    if (!backend) return
    backend.fireTimers('PROCESSING_TIME', now, (timestamp) => this.fireTimer(timestamp, 'PROCESSING_TIME'))
    const next = backend.nextTimerTimestamp('PROCESSING_TIME')
    if (next !== undefined) this.context.processingTime.requestWakeup(next)
  }

  private fireTimer(timestamp: number, domain: TimeDomain): void {
    this.currentTimestamp = domain === 'EVENT_TIME' ? timestamp : undefined
    this.onTimer(timestamp, domain)
  }

  /** Called with the timer's key current. Operators without timers never get here. */
  protected onTimer(_timestamp: number, _domain: TimeDomain): void {}

  endInput(): Promise<void> | void {}

  prepareSnapshotPreBarrier(_checkpointId: number): Promise<void> | void {}

  snapshotState(_checkpointId: number): Promise<OperatorSubtaskState> | OperatorSubtaskState {
    return this.backend ? { keyed: this.backend.snapshot() } : {}
  }

  notifyCheckpointComplete(_checkpointId: number): Promise<void> | void {}

  notifyCheckpointAborted(_checkpointId: number): void {}

  close(): Promise<void> | void {}

  // ---- helpers for subclasses ----

  protected setCurrentTimestamp(timestamp: number | undefined): void {
    this.currentTimestamp = timestamp
  }

  protected getCurrentTimestamp(): number | undefined {
    return this.currentTimestamp
  }

  protected requireBackend(): HeapKeyedStateBackend {
    if (!this.backend) throw new IllegalStateError(`operator '${this.name}': keyed state is only available on a keyed stream (use keyBy first)`)
    return this.backend
  }

  protected runtimeContext(): RuntimeContext {
    const context = this.context
    return {
      subtaskId: context.subtaskId,
      parallelism: context.parallelism,
      maxParallelism: context.maxParallelism,
      taskName: context.taskName,
      attemptNumber: context.attemptNumber,
    }
  }

  protected keyedRuntimeContext(): KeyedRuntimeContext {
    const backend = this.requireBackend()
    return {
      ...this.runtimeContext(),
      getState: (descriptor) => backend.getState(descriptor),
      getListState: (descriptor) => backend.getListState(descriptor),
      getMapState: (descriptor) => backend.getMapState(descriptor),
      getReducingState: (descriptor) => backend.getReducingState(descriptor),
      getAggregatingState: (descriptor) => backend.getAggregatingState(descriptor),
    }
  }

  protected timerService(): TimerService {
    const backend = this.requireBackend()
    const context = this.context
    return {
      currentProcessingTime: () => context.processingTime.now(),
      currentWatermark: () => context.currentWatermark(),
      registerProcessingTimeTimer: (timestamp) => {
        backend.registerTimer('PROCESSING_TIME', timestamp)
        context.processingTime.requestWakeup(timestamp)
      },
      registerEventTimeTimer: (timestamp) => backend.registerTimer('EVENT_TIME', timestamp),
      deleteProcessingTimeTimer: (timestamp) => backend.deleteTimer('PROCESSING_TIME', timestamp),
      deleteEventTimeTimer: (timestamp) => backend.deleteTimer('EVENT_TIME', timestamp),
    }
  }

  /** The context object handed to process functions; reused across calls (no allocation per record). */
  protected createProcessContext<K extends Key>(): OnTimerContext<K> & { domain: TimeDomain } {
    const output = this.context.output
    let timers: TimerService | undefined
    const processContext = {
      domain: 'EVENT_TIME' as TimeDomain,
      timestamp: () => this.currentTimestamp,
      output: (tag: { id: string }, value: unknown) => output.collectSide(tag.id, value, this.currentTimestamp),
      currentWatermark: () => this.context.currentWatermark(),
      getCurrentKey: () => this.requireBackend().getCurrentKey() as K,
      timerService: () => {
        timers ??= this.timerService()
        return timers
      },
      timeDomain: () => processContext.domain,
    }
    return processContext
  }
}

/**
 * The function object as this subtask sees it: a new object whose prototype is the user's, so that
 * what `open` stores on `this` (state handles, counters) is per subtask, as with Flink's serialized
 * copies of a function, while methods and shared config come from the user's object.
 */
export function perSubtaskInstance<F extends object>(fn: F): F {
  return Object.create(fn) as F
}
