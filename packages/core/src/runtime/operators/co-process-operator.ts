import type { Collector, CoProcessFunction, KeyedCoProcessFunction } from '../../api/functions.js'
import type { Key } from '../../api/state.js'
import { AbstractStreamOperator, perSubtaskInstance } from '../abstract-stream-operator.js'
import type { Timestamps } from '../stream-element.js'

/**
 * Two inputs (`connect`): input 1 goes to `processElement1`, input 2 to `processElement2`. With key
 * selectors for both inputs it is keyed (KeyedCoProcessFunction: keyed state shared by both sides, timers).
 */
export class CoProcessOperator extends AbstractStreamOperator {
  private processContext!: ReturnType<AbstractStreamOperator['createProcessContext']>
  private collector!: Collector<unknown>

  constructor(
    uid: string,
    name: string,
    private fn: CoProcessFunction<unknown, unknown, unknown> | KeyedCoProcessFunction<Key, unknown, unknown, unknown>,
    keySelector1?: (value: unknown) => Key,
    keySelector2?: (value: unknown) => Key,
  ) {
    super(uid, name, keySelector1, keySelector2)
  }

  protected override openFunction(): Promise<void> | void {
    this.fn = perSubtaskInstance(this.fn)
    this.processContext = this.createProcessContext()
    const output = this.context.output
    this.collector = { collect: (value) => output.collect(value, this.getCurrentTimestamp()) }
    const fn = this.fn as KeyedCoProcessFunction<Key, unknown, unknown, unknown>
    return fn.open?.(this.backend ? this.keyedRuntimeContext() : (this.runtimeContext() as never))
  }

  processBatch(values: unknown[], timestamps: Timestamps, inputIndex: 1 | 2): void {
    const fn = this.fn as KeyedCoProcessFunction<Key, unknown, unknown, unknown>
    const backend = this.backend
    const keySelector = inputIndex === 1 ? this.keySelector : this.keySelector2
    const context = this.processContext
    const collector = this.collector
    for (let i = 0; i < values.length; i++) {
      const value = values[i]
      if (backend && keySelector) backend.setCurrentKey(keySelector(value))
      this.setCurrentTimestamp(timestamps === null ? undefined : timestamps[i])
      if (inputIndex === 1) fn.processElement1(value, context, collector)
      else fn.processElement2(value, context, collector)
    }
  }

  protected override onTimer(timestamp: number, domain: 'EVENT_TIME' | 'PROCESSING_TIME'): void {
    const fn = this.fn as KeyedCoProcessFunction<Key, unknown, unknown, unknown>
    if (!fn.onTimer) return
    this.processContext.domain = domain
    fn.onTimer(timestamp, this.processContext, this.collector)
  }

  override close(): Promise<void> | void {
    return this.fn.close?.()
  }
}
