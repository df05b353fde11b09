import { describe, expect, it } from 'vitest'
import type { SimpleVersionedSerializer } from '../api/serializer.js'
import { MapStateDescriptor } from '../api/state.js'
import { IllegalStateError, SerializationError, UnsupportedVersionError } from '../errors.js'
import { BROADCAST_STATE_FORMAT_VERSION, HeapBroadcastState } from './heap-broadcast-state.js'

const owner = "operator 'enrich' (1/2)"

describe('HeapBroadcastState', () => {
  it('is a map: composite keys by value, null keys, fresh entry pairs', () => {
    const state = new HeapBroadcastState(new MapStateDescriptor<unknown, number>('config'), owner)
    state.put(['a', 1], 1)
    state.put(['a', 1], 2)
    state.put(null, 3)
    state.putAll([['b', 4]])
    expect(state.get(['a', 1])).toBe(2)
    expect(state.get(null)).toBe(3)
    expect(state.size).toBe(3)
    const [first] = state.entries()
    ;(first as [unknown, number])[1] = 99
    expect(state.get(['a', 1])).toBe(2)
    state.remove('b')
    expect([...state.keys()]).toEqual([['a', 1], null])
    state.clear()
    expect(state.isEmpty()).toBe(true)
  })

  it('hands out a read-only view whose writes throw an IllegalStateError naming the state', () => {
    const state = new HeapBroadcastState(new MapStateDescriptor<string, number>('rules'), owner)
    state.put('x', 1)
    const view = state.readOnly as unknown as { put(k: string, v: number): void; clear(): void; get(k: string): number | undefined }
    expect(view.get('x')).toBe(1)
    expect(() => view.put('y', 2)).toThrow(IllegalStateError)
    expect(() => view.clear()).toThrow(
      "broadcast state 'rules' of operator 'enrich' (1/2) is read-only here: clear() was called from processElement or onTimer; only processBroadcastElement may modify broadcast state (so that every subtask keeps the same copy)",
    )
    expect(state.size).toBe(1)
  })

  it('round-trips through a snapshot with the CBOR codec and with a descriptor serializer', () => {
    const plain = new HeapBroadcastState(new MapStateDescriptor<string, { n: bigint }>('plain'), owner)
    plain.put('a', { n: 10n ** 20n })
    const item = plain.snapshot()
    expect(item.version).toBe(BROADCAST_STATE_FORMAT_VERSION)
    const restored = new HeapBroadcastState(new MapStateDescriptor<string, { n: bigint }>('plain'), owner)
    restored.restore(item, 'checkpoint 7')
    expect(restored.get('a')).toEqual({ n: 10n ** 20n })

    const text: SimpleVersionedSerializer<string> = {
      version: 2,
      serialize: (value) => new TextEncoder().encode(value.toUpperCase()),
      deserialize: (version, bytes) => `${new TextDecoder().decode(bytes)}/v${version}`,
    }
    const withSerializer = new HeapBroadcastState(new MapStateDescriptor<string, string>('names', { serializer: text }), owner)
    withSerializer.put('u1', 'zhang')
    const back = new HeapBroadcastState(new MapStateDescriptor<string, string>('names', { serializer: text }), owner)
    back.restore(withSerializer.snapshot(), 'checkpoint 7')
    expect(back.get('u1')).toBe('ZHANG/v2')
  })

  it('refuses newer layouts and serializer versions, naming the state and the checkpoint', () => {
    const state = new HeapBroadcastState(new MapStateDescriptor<string, number>('rules'), owner)
    state.put('a', 1)
    const item = state.snapshot()
    expect(() => state.restore({ ...item, version: 9 }, 'checkpoint 3')).toThrow(UnsupportedVersionError)
    const newer: SimpleVersionedSerializer<number> = { version: 5, serialize: () => new Uint8Array([1]), deserialize: () => 1 }
    const older: SimpleVersionedSerializer<number> = { version: 4, serialize: () => new Uint8Array([1]), deserialize: () => 1 }
    const written = new HeapBroadcastState(new MapStateDescriptor<string, number>('rules', { serializer: newer }), owner)
    written.put('a', 1)
    const reader = new HeapBroadcastState(new MapStateDescriptor<string, number>('rules', { serializer: older }), owner)
    expect(() => reader.restore(written.snapshot(), 'checkpoint 3')).toThrow(/values of broadcast state 'rules'.*checkpoint 3.*version 5/)
    expect(() => state.restore({ version: 1, bytes: new Uint8Array([0xff, 0x00]) }, 'checkpoint 3')).toThrow(SerializationError)
  })

  it('names the state and the key when a value cannot be written', () => {
    const state = new HeapBroadcastState(new MapStateDescriptor<string, unknown>('fns'), owner)
    state.put('f', () => 1)
    expect(() => state.snapshot()).toThrow(/broadcast state 'fns' of operator 'enrich' \(1\/2\): cannot encode/)
  })
})
