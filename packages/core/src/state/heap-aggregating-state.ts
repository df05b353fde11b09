import type { AggregateFunction, AggregatingState, AggregatingStateDescriptor } from '../api/state.js'
import { AbstractHeapState } from './abstract-heap-state.js'
import type { KeyContext } from './key-context.js'

/**
 * {@link AggregatingState} on the heap: holds one accumulator per key (what is checkpointed, through
 * the descriptor's serializer of `Acc`); `add` folds a value in with `aggregate.add`, starting from
 * `createAccumulator()`; `get` returns `getResult(accumulator)`, or `undefined` when nothing was added.
 */
export class HeapAggregatingState<In, Acc, Out> extends AbstractHeapState<Acc, Acc> implements AggregatingState<In, Out> {
  private readonly aggregate: AggregateFunction<In, Acc, Out>

  constructor(descriptor: AggregatingStateDescriptor<In, Acc, Out>, context: KeyContext, owner: string, clock: () => number) {
    super(descriptor, context, owner, clock)
    this.aggregate = descriptor.aggregate
  }

  get(): Out | undefined {
    const entry = this.readEntry()
    return entry === undefined ? undefined : this.aggregate.getResult(entry.value)
  }

  add(value: In): void {
    const entry = this.readEntryForUpdate()
    if (entry === undefined) {
      this.writeEntry(this.aggregate.add(value, this.aggregate.createAccumulator()))
    } else {
      entry.value = this.aggregate.add(value, entry.value)
      this.touch(entry)
    }
  }

  protected encodeStored(accumulator: Acc): unknown {
    return this.encodeElement(accumulator)
  }

  protected decodeStored(payload: unknown, serializerVersion: number): Acc {
    return this.decodeElement(payload, serializerVersion)
  }
}
