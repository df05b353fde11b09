import type { ListState } from '../api/state.js'
import { AbstractHeapState } from './abstract-heap-state.js'

/**
 * {@link ListState} on the heap: one array per key.
 *
 * `get()` returns a copy the caller may keep or change; `update` copies its argument. An empty list is
 * no entry: `update([])` clears the key. With a TTL, the whole list of a key has one clock, restarted
 * by every `add`/`addAll`/`update` (and every `get` with `OnReadAndWrite`), and the whole list expires
 * at once; Flink keeps one clock per element instead. This keeps `add` O(1) without a timestamp per
 * element; a list that is appended to regularly never expires, one that is left alone expires whole.
 */
export class HeapListState<T> extends AbstractHeapState<T[], T> implements ListState<T> {
  get(): T[] {
    const entry = this.readEntry()
    return entry === undefined ? [] : entry.value.slice()
  }

  add(value: T): void {
    const entry = this.readEntryForUpdate()
    if (entry === undefined) {
      this.writeEntry([value])
    } else {
      entry.value.push(value)
      this.touch(entry)
    }
  }

  addAll(values: readonly T[]): void {
    if (values.length === 0) return
    const entry = this.readEntryForUpdate()
    if (entry === undefined) {
      this.writeEntry(values.slice())
    } else {
      // A loop, not push(...values): spreading a long array overflows the call stack.
      const list = entry.value
      for (let index = 0; index < values.length; index++) list.push(values[index] as T)
      this.touch(entry)
    }
  }

  update(values: readonly T[]): void {
    if (values.length === 0) this.clear()
    else this.writeEntry(values.slice())
  }

  protected encodeStored(list: T[]): unknown {
    if (this.serializer === undefined) return list
    return list.map((element) => this.encodeElement(element))
  }

  protected decodeStored(payload: unknown, serializerVersion: number): T[] {
    if (!Array.isArray(payload)) throw this.malformed(`expected a list, got ${typeof payload}`)
    if (serializerVersion === 0) return payload as T[]
    return payload.map((element) => this.decodeElement(element, serializerVersion))
  }
}
