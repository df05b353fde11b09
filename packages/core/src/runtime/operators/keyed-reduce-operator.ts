import type { ReduceFunction } from '../../api/functions.js'
import { type Key, type ValueState, ValueStateDescriptor } from '../../api/state.js'
import { AbstractStreamOperator } from '../abstract-stream-operator.js'
import type { Timestamps } from '../stream-element.js'

/** `keyBy(...).reduce(fn)`: keeps the running reduction per key and emits it after every record (Flink's StreamGroupedReduce). */
export class KeyedReduceOperator extends AbstractStreamOperator {
  private state!: ValueState<unknown>

  constructor(uid: string, name: string, keySelector: (value: unknown) => Key, private readonly reduce: ReduceFunction<unknown>) {
    super(uid, name, keySelector)
  }

  protected override openFunction(): void {
    this.state = this.requireBackend().getState(new ValueStateDescriptor<unknown>('_reduce'))
  }

  processBatch(values: unknown[], timestamps: Timestamps): void {
    const backend = this.requireBackend()
    const keySelector = this.keySelector as (value: unknown) => Key
    const state = this.state
    const reduce = this.reduce
    const out = new Array(values.length)
    for (let i = 0; i < values.length; i++) {
      const value = values[i]
      backend.setCurrentKey(keySelector(value))
      const current = state.value()
      const next = current === undefined ? value : reduce(current, value)
      state.update(next)
      out[i] = next
    }
    this.context.output.emitBatch(out, timestamps)
  }
}
