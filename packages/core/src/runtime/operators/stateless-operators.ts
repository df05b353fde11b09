import type { Collector, FilterFunction, FlatMapFunction, MapFunction } from '../../api/functions.js'
import { AbstractStreamOperator } from '../abstract-stream-operator.js'
import type { Timestamps } from '../stream-element.js'
import type { StreamOperator } from '../stream-operator.js'

/** `map`: one output per input; the batch is mapped in one pass and keeps its timestamps. */
export class MapOperator extends AbstractStreamOperator {
  constructor(uid: string, name: string, readonly fn: MapFunction<unknown, unknown>) {
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
  constructor(uid: string, name: string, readonly fn: FilterFunction<unknown>) {
    super(uid, name)
  }
  processBatch(values: unknown[], timestamps: Timestamps): void {
    const fn = this.fn
    // Allocated at the input's size and cut to what was kept: cheaper than growing by push.
    const kept: unknown[] = new Array(values.length)
    let count = 0
    if (timestamps === null) {
      for (let i = 0; i < values.length; i++) {
        const value = values[i]
        if (fn(value)) kept[count++] = value
      }
      kept.length = count
      this.context.output.emitBatch(kept, null)
      return
    }
    const keptTimestamps: (number | undefined)[] = new Array(values.length)
    for (let i = 0; i < values.length; i++) {
      const value = values[i]
      if (fn(value)) {
        keptTimestamps[count] = timestamps[i]
        kept[count++] = value
      }
    }
    kept.length = count
    keptTimestamps.length = count
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

type FusedStep = { readonly filter: false; readonly fn: MapFunction<unknown, unknown> } | { readonly filter: true; readonly fn: FilterFunction<unknown> }

/**
 * Adjacent `map`/`filter` operators of one chain run as one pass over the batch: no intermediate
 * array per step. They are stateless, so fusing them changes nothing a checkpoint sees.
 */
export class FusedMapFilterOperator extends AbstractStreamOperator {
  private readonly steps: FusedStep[]

  constructor(operators: (MapOperator | FilterOperator)[]) {
    const first = operators[0] as MapOperator | FilterOperator
    super(first.uid, operators.map((o) => o.name).join(' -> '))
    this.steps = operators.map((o) => (o instanceof FilterOperator ? { filter: true, fn: o.fn } : { filter: false, fn: (o as MapOperator).fn }))
  }

  processBatch(values: unknown[], timestamps: Timestamps): void {
    const steps = this.steps
    const stepCount = steps.length
    // Allocated at the input's size and cut to what passed: cheaper than growing by push.
    const out: unknown[] = new Array(values.length)
    const outTimestamps: (number | undefined)[] | null = timestamps === null ? null : new Array(values.length)
    let count = 0
    records: for (let i = 0; i < values.length; i++) {
      let value = values[i]
      for (let s = 0; s < stepCount; s++) {
        const step = steps[s] as FusedStep
        if (step.filter) {
          if (!step.fn(value)) continue records
        } else {
          value = step.fn(value)
        }
      }
      if (outTimestamps !== null) outTimestamps[count] = (timestamps as (number | undefined)[])[i]
      out[count++] = value
    }
    out.length = count
    if (outTimestamps !== null) outTimestamps.length = count
    this.context.output.emitBatch(out, outTimestamps)
  }
}

/**
 * Replaces each run of two or more adjacent map/filter operators of a chain by one fused operator.
 * `indexMap[i]` is the new position of the operator that was at position `i`.
 */
export function fuseStatelessOperators(operators: StreamOperator[]): { operators: StreamOperator[]; indexMap: number[] } {
  const result: StreamOperator[] = []
  const indexMap: number[] = []
  let run: (MapOperator | FilterOperator)[] = []
  const flush = () => {
    if (run.length >= 2) {
      for (let k = 0; k < run.length; k++) indexMap.push(result.length)
      result.push(new FusedMapFilterOperator(run))
    } else {
      for (const operator of run) {
        indexMap.push(result.length)
        result.push(operator)
      }
    }
    run = []
  }
  for (const operator of operators) {
    if (operator instanceof MapOperator || operator instanceof FilterOperator) {
      run.push(operator)
    } else {
      flush()
      indexMap.push(result.length)
      result.push(operator)
    }
  }
  flush()
  return { operators: result, indexMap }
}
