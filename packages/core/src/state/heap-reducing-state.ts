import type { ReducingState, ReducingStateDescriptor } from '../api/state.js'
import { AbstractHeapState } from './abstract-heap-state.js'
import type { KeyContext } from './key-context.js'

/**
 * {@link ReducingState} on the heap: `add` folds the value into the current one with the descriptor's
 * `reduce(current, added)`; the first value added to a key is stored as is.
 */
export class HeapReducingState<T> extends AbstractHeapState<T, T> implements ReducingState<T> {
  private readonly reduce: (a: T, b: T) => T

  constructor(descriptor: ReducingStateDescriptor<T>, context: KeyContext, owner: string, clock: () => number) {
    super(descriptor, context, owner, clock)
    this.reduce = descriptor.reduce
  }

  get(): T | undefined {
    return this.readEntry()?.value
  }

  add(value: T): void {
    const entry = this.readEntryForUpdate()
    if (entry === undefined) {
      this.writeEntry(value)
    } else {
      entry.value = this.reduce(entry.value, value)
      this.touch(entry)
    }
  }

  protected encodeStored(value: T): unknown {
    return this.encodeElement(value)
  }

  protected decodeStored(payload: unknown, serializerVersion: number): T {
    return this.decodeElement(payload, serializerVersion)
  }
}
