import type { ReduceFunction } from '../../api/functions.js'
import { type Key, type ValueState, ValueStateDescriptor } from '../../api/state.js'
import { AbstractStreamOperator } from '../abstract-stream-operator.js'
import type { Timestamps } from '../stream-element.js'

const REDUCE_STATE = '_reduce'

/**
 * `keyBy(...).reduce(fn)`: keeps the running reduction per key (Flink's StreamGroupedReduce). In
 * STREAMING mode it emits the new reduction after every record; in BATCH mode, as Flink does, only
 * the final reduction of each key, at the end of input.
 */
export class KeyedReduceOperator extends AbstractStreamOperator {
  private state!: ValueState<unknown>
  private emitEachRecord = true

  constructor(uid: string, name: string, keySelector: (value: unknown) => Key, private readonly reduce: ReduceFunction<unknown>) {
    super(uid, name, keySelector)
  }

  protected override openFunction(): void {
    this.state = this.requireBackend().getState(new ValueStateDescriptor<unknown>(REDUCE_STATE))
    this.emitEachRecord = this.context.runtimeMode === 'STREAMING'
  }

  processBatch(values: unknown[], timestamps: Timestamps): void {
    const backend = this.requireBackend()
    const keySelector = this.keySelector as (value: unknown) => Key
    const state = this.state
    const reduce = this.reduce
    const out = this.emitEachRecord ? new Array(values.length) : undefined
    for (let i = 0; i < values.length; i++) {
      const value = values[i]
      backend.setCurrentKey(keySelector(value))
      const current = state.value()
      const next = current === undefined ? value : reduce(current, value)
      state.update(next)
      if (out) out[i] = next
    }
    if (out) this.context.output.emitBatch(out, timestamps)
  }

  override endInput(): void {
    if (this.emitEachRecord) return
    const backend = this.requireBackend()
    for (const key of backend.keys(REDUCE_STATE)) {
      backend.setCurrentKey(key)
      this.context.output.collect(this.state.value(), undefined)
    }
  }
}
