import type { Collector, KeyedProcessFunction, ProcessFunction } from '../../api/functions.js'
import type { Key } from '../../api/state.js'
import { AbstractStreamOperator, perSubtaskInstance } from '../abstract-stream-operator.js'
import type { Timestamps } from '../stream-element.js'

/** `process` on a non-keyed stream: a ProcessFunction (no keyed state, no timers). */
export class ProcessOperator extends AbstractStreamOperator {
  private processContext!: ReturnType<AbstractStreamOperator['createProcessContext']>
  private collector!: Collector<unknown>

  constructor(uid: string, name: string, private fn: ProcessFunction<unknown, unknown>) {
    super(uid, name)
  }

  protected override openFunction(): Promise<void> | void {
    this.fn = perSubtaskInstance(this.fn)
    this.processContext = this.createProcessContext()
    const output = this.context.output
    this.collector = { collect: (value) => output.collect(value, this.getCurrentTimestamp()) }
    return this.fn.open?.(this.runtimeContext())
  }

  processBatch(values: unknown[], timestamps: Timestamps): void {
    const fn = this.fn
    for (let i = 0; i < values.length; i++) {
      this.setCurrentTimestamp(timestamps === null ? undefined : timestamps[i])
      fn.processElement(values[i], this.processContext, this.collector)
    }
  }

  override close(): Promise<void> | void {
    return this.fn.close?.()
  }
}

/** `process` on a keyed stream: a KeyedProcessFunction with keyed state and timers. */
export class KeyedProcessOperator extends AbstractStreamOperator {
  private processContext!: ReturnType<AbstractStreamOperator['createProcessContext']>
  private collector!: Collector<unknown>

  constructor(
    uid: string,
    name: string,
    keySelector: (value: unknown) => Key,
    private fn: KeyedProcessFunction<Key, unknown, unknown>,
  ) {
    super(uid, name, keySelector)
  }

  protected override openFunction(): Promise<void> | void {
    this.fn = perSubtaskInstance(this.fn)
    this.processContext = this.createProcessContext()
    const output = this.context.output
    this.collector = { collect: (value) => output.collect(value, this.getCurrentTimestamp()) }
    return this.fn.open?.(this.keyedRuntimeContext())
  }

  processBatch(values: unknown[], timestamps: Timestamps): void {
    const fn = this.fn
    const backend = this.requireBackend()
    const keySelector = this.keySelector as (value: unknown) => Key
    for (let i = 0; i < values.length; i++) {
      const value = values[i]
      backend.setCurrentKey(keySelector(value))
      this.setCurrentTimestamp(timestamps === null ? undefined : timestamps[i])
      fn.processElement(value, this.processContext, this.collector)
    }
  }

  protected override onTimer(timestamp: number, domain: 'EVENT_TIME' | 'PROCESSING_TIME'): void {
    if (!this.fn.onTimer) return
    this.processContext.domain = domain
    this.fn.onTimer(timestamp, this.processContext, this.collector)
  }

  override close(): Promise<void> | void {
    return this.fn.close?.()
  }
}
