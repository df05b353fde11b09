import type { Collector, FilterFunction, FlatMapFunction, MapFunction } from '../../api/functions.js'
import { AbstractStreamOperator } from '../abstract-stream-operator.js'
import type { Timestamps } from '../stream-element.js'

/** `map`: one output per input; the batch is mapped in one pass and keeps its timestamps. */
export class MapOperator extends AbstractStreamOperator {
  constructor(uid: string, name: string, private readonly fn: MapFunction<unknown, unknown>) {
    super(uid, name)
  }
  processBatch(values: unknown[], timestamps: Timestamps): void {
    const fn = this.fn
    const out = new Array(values.length)
    for (let i = 0; i < values.length; i++) out[i] = fn(values[i])
    this.context.output.emitBatch(out, timestamps)
  }
}

/** `filter`: keeps the records for which the predicate holds. */
export class FilterOperator extends AbstractStreamOperator {
  constructor(uid: string, name: string, private readonly fn: FilterFunction<unknown>) {
    super(uid, name)
  }
  processBatch(values: unknown[], timestamps: Timestamps): void {
    const fn = this.fn
    const kept: unknown[] = []
    if (timestamps === null) {
      for (let i = 0; i < values.length; i++) if (fn(values[i])) kept.push(values[i])
      this.context.output.emitBatch(kept, null)
      return
    }
    const keptTimestamps: (number | undefined)[] = []
    for (let i = 0; i < values.length; i++) {
      if (fn(values[i])) {
        kept.push(values[i])
        keptTimestamps.push(timestamps[i])
      }
    }
    this.context.output.emitBatch(kept, keptTimestamps)
  }
}

/** `flatMap`: any number of outputs per input, each with the input's timestamp. */
export class FlatMapOperator extends AbstractStreamOperator {
  private timestamp: number | undefined
  private collector!: Collector<unknown>

  constructor(uid: string, name: string, private readonly fn: FlatMapFunction<unknown, unknown>) {
    super(uid, name)
  }
  protected override openFunction(): void {
    const output = this.context.output
    this.collector = { collect: (value) => output.collect(value, this.timestamp) }
  }
  processBatch(values: unknown[], timestamps: Timestamps): void {
    const fn = this.fn
    const collector = this.collector
    for (let i = 0; i < values.length; i++) {
      this.timestamp = timestamps === null ? undefined : timestamps[i]
      fn(values[i], collector)
    }
  }
}
