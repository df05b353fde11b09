import type { ValueState, ValueStateDescriptor } from '../api/state.js'
import { AbstractHeapState } from './abstract-heap-state.js'
import type { KeyContext } from './key-context.js'

/**
 * {@link ValueState} on the heap. `value()` is one `Map.get` (plus a clock read with a TTL).
 *
 * Values are held by reference, as in Flink's heap backend: mutating a returned object changes the
 * state (call `update` anyway, it restarts the TTL clock and keeps the code portable). The descriptor's
 * `defaultValue` is returned itself, not a copy, so it should be immutable. `update(undefined)` clears.
 */
export class HeapValueState<T> extends AbstractHeapState<T, T> implements ValueState<T> {
  private readonly defaultValue: T | undefined

  constructor(descriptor: ValueStateDescriptor<T>, context: KeyContext, owner: string, clock: () => number) {
    super(descriptor, context, owner, clock)
    this.defaultValue = descriptor.defaultValue
  }

  value(): T | undefined {
    const entry = this.readEntry()
    return entry === undefined ? this.defaultValue : entry.value
  }

  update(value: T | undefined): void {
    if (value === undefined) this.clear()
    else this.writeEntry(value)
  }

  protected encodeStored(value: T): unknown {
    return this.encodeElement(value)
  }

  protected decodeStored(payload: unknown, serializerVersion: number): T {
    return this.decodeElement(payload, serializerVersion)
  }
}
