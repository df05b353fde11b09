import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import type { SimpleVersionedSerializer } from '../api/serializer.js'
import {
  type AggregateFunction,
  AggregatingStateDescriptor,
  type Key,
  ListStateDescriptor,
  MapStateDescriptor,
  ReducingStateDescriptor,
  type StateTtlConfig,
  ValueStateDescriptor,
} from '../api/state.js'
import { ConfigError, IllegalStateError, SerializationError, UnsupportedVersionError } from '../errors.js'
import { HeapKeyedStateBackend, type KeyGroupSnapshot } from './heap-keyed-state-backend.js'
import { assignToKeyGroup, keyGroupRangeForSubtask, operatorIndexForKeyGroup, subtaskForKey } from './key-groups.js'

const MAX_PARALLELISM = 128

function caught(action: () => unknown): unknown {
  try {
    action()
  } catch (error) {
    return error
  }
  throw new Error('expected an error')
}

function createBackend(parallelism = 1, subtask = 0, clock?: () => number, maxParallelism = MAX_PARALLELISM): HeapKeyedStateBackend {
  return new HeapKeyedStateBackend({
    maxParallelism,
    keyGroupRange: keyGroupRangeForSubtask(maxParallelism, parallelism, subtask),
    owner: `operator 'sum' (${subtask + 1}/${parallelism})`,
    ...(clock ? { clock } : {}),
  })
}

/** Deals key-group snapshots out to the subtasks of a new parallelism, as the checkpoint coordinator does. */
function redistribute(snapshots: KeyGroupSnapshot[], parallelism: number, maxParallelism = MAX_PARALLELISM): KeyGroupSnapshot[][] {
  const perSubtask: KeyGroupSnapshot[][] = Array.from({ length: parallelism }, () => [])
  for (const snapshot of snapshots) perSubtask[operatorIndexForKeyGroup(maxParallelism, parallelism, snapshot.keyGroup)]?.push(snapshot)
  return perSubtask
}

/** Backends of a new parallelism restored from the snapshots of all subtasks of the old one. */
function rescale(snapshots: KeyGroupSnapshot[], parallelism: number): HeapKeyedStateBackend[] {
  return redistribute(snapshots, parallelism).map((part, subtask) => {
    const backend = createBackend(parallelism, subtask)
    backend.restore(part)
    return backend
  })
}

const average: AggregateFunction<number, { sum: number; count: number }, number> = {
  createAccumulator: () => ({ sum: 0, count: 0 }),
  add: (value, accumulator) => ({ sum: accumulator.sum + value, count: accumulator.count + 1 }),
  getResult: (accumulator) => accumulator.sum / accumulator.count,
  merge: (a, b) => ({ sum: a.sum + b.sum, count: a.count + b.count }),
}

const descriptors = {
  total: () => new ValueStateDescriptor<bigint>('total'),
  events: () => new ListStateDescriptor<string>('events'),
  attributes: () => new MapStateDescriptor<string, unknown>('attributes'),
  maximum: () => new ReducingStateDescriptor<number>('maximum', (a, b) => Math.max(a, b)),
  average: () => new AggregatingStateDescriptor('average', average),
}

describe('HeapKeyedStateBackend: state semantics', () => {
  it('ValueState: default, update, clear, and one entry per key', () => {
    const backend = createBackend()
    const count = backend.getState(new ValueStateDescriptor<number>('count', { defaultValue: 0 }))
    const label = backend.getState(new ValueStateDescriptor<string>('label'))
    backend.setCurrentKey('alice')
    expect(count.value()).toBe(0)
    expect(label.value()).toBeUndefined()
    count.update((count.value() ?? 0) + 1)
    count.update((count.value() ?? 0) + 1)
    label.update('A')
    backend.setCurrentKey('bob')
    expect(count.value()).toBe(0)
    count.update(10)
    backend.setCurrentKey('alice')
    expect(count.value()).toBe(2)
    expect(label.value()).toBe('A')
    label.update(undefined)
    expect(label.value()).toBeUndefined()
    count.clear()
    expect(count.value()).toBe(0)
    backend.setCurrentKey('bob')
    expect(count.value()).toBe(10)
    expect(backend.keys('count')).toEqual(['bob'])
    expect(backend.keys('label')).toEqual([])
  })

  it('distinguishes key types and compares composite keys by value', () => {
    const backend = createBackend()
    const state = backend.getState(new ValueStateDescriptor<string>('who'))
    const keys: Key[] = [1, '1', 1n, true, 'true', ['tenant', 1], ['tenant', '1'], [1, 'tenant']]
    for (const key of keys) {
      backend.setCurrentKey(key)
      state.update(JSON.stringify(key, (_, value) => (typeof value === 'bigint' ? `${value}n` : value)))
    }
    for (const key of keys) {
      backend.setCurrentKey(Array.isArray(key) ? [...key] : key) // a new array: value identity, not reference
      expect(state.value()).toBe(JSON.stringify(key, (_, value) => (typeof value === 'bigint' ? `${value}n` : value)))
    }
    backend.setCurrentKey(-0)
    expect(backend.keys('who')).toHaveLength(keys.length)
    state.update('zero')
    backend.setCurrentKey(0)
    expect(state.value()).toBe('zero')
    expect(backend.getCurrentKey()).toBe(0)
    expect(() => backend.setCurrentKey({} as unknown as Key)).toThrow(IllegalStateError)
  })

  it('ListState: add, addAll, update, get returns a copy, empty means cleared', () => {
    const backend = createBackend()
    const events = backend.getListState(new ListStateDescriptor<string>('events'))
    backend.setCurrentKey('k1')
    expect(events.get()).toEqual([])
    events.add('a')
    events.addAll(['b', 'c'])
    const copy = events.get()
    copy.push('not stored')
    expect(events.get()).toEqual(['a', 'b', 'c'])
    const replacement = ['x']
    events.update(replacement)
    replacement.push('not stored either')
    expect(events.get()).toEqual(['x'])
    backend.setCurrentKey('k2')
    events.addAll([])
    expect(backend.keys('events')).toEqual(['k1'])
    events.addAll(Array.from({ length: 200_000 }, (_, index) => `e${index}`))
    expect(events.get()).toHaveLength(200_000)
    backend.setCurrentKey('k1')
    events.update([])
    expect(events.get()).toEqual([])
    expect(backend.keys('events')).toEqual(['k2'])
  })

  it('MapState: put, get, contains, remove, iteration, putAll, isEmpty, clear', () => {
    const backend = createBackend()
    const map = backend.getMapState(new MapStateDescriptor<string | (string | number)[], number | undefined>('map'))
    backend.setCurrentKey('k1')
    expect(map.isEmpty()).toBe(true)
    expect(map.get('a')).toBeUndefined()
    map.put('a', 1)
    map.putAll([
      ['b', 2],
      [['pair', 1], 3],
    ])
    map.put('nothing', undefined)
    expect(map.get('a')).toBe(1)
    expect(map.get(['pair', 1])).toBe(3) // composite user keys compare by value
    expect(map.contains('nothing')).toBe(true)
    expect(map.get('nothing')).toBeUndefined()
    expect(map.contains('missing')).toBe(false)
    expect([...map.entries()]).toEqual([
      ['a', 1],
      ['b', 2],
      [['pair', 1], 3],
      ['nothing', undefined],
    ])
    expect([...map.keys()]).toEqual(['a', 'b', ['pair', 1], 'nothing'])
    expect([...map.values()]).toEqual([1, 2, 3, undefined])
    map.put('a', 100)
    expect(map.get('a')).toBe(100)
    backend.setCurrentKey('k2')
    expect(map.isEmpty()).toBe(true)
    map.putAll([])
    expect(backend.keys('map')).toEqual(['k1'])
    map.put('only', 1)
    map.remove('only')
    expect(map.isEmpty()).toBe(true)
    expect(backend.keys('map')).toEqual(['k1'])
    backend.setCurrentKey('k1')
    map.remove(['pair', 1])
    expect(map.contains(['pair', 1])).toBe(false)
    map.clear()
    expect(map.isEmpty()).toBe(true)
    expect(backend.keys('map')).toEqual([])
  })

  it('ReducingState folds with reduce; AggregatingState with the aggregate function', () => {
    const backend = createBackend()
    const maximum = backend.getReducingState(descriptors.maximum())
    const mean = backend.getAggregatingState(descriptors.average())
    backend.setCurrentKey('k')
    expect(maximum.get()).toBeUndefined()
    expect(mean.get()).toBeUndefined()
    for (const value of [3, 9, 4]) {
      maximum.add(value)
      mean.add(value)
    }
    expect(maximum.get()).toBe(9)
    expect(mean.get()).toBeCloseTo(16 / 3)
    backend.setCurrentKey('other')
    maximum.add(-5)
    expect(maximum.get()).toBe(-5)
    backend.setCurrentKey('k')
    maximum.clear()
    mean.clear()
    expect(maximum.get()).toBeUndefined()
    expect(mean.get()).toBeUndefined()
  })

  it('returns the same object for the same name, and refuses the same name as another kind', () => {
    const backend = createBackend()
    const first = backend.getState(new ValueStateDescriptor<number>('total'))
    expect(backend.getState(new ValueStateDescriptor<number>('total'))).toBe(first)
    const error = caught(() => backend.getListState(new ListStateDescriptor<number>('total')))
    expect(IllegalStateError.isInstance(error)).toBe(true)
    expect((error as Error).message).toContain("'total'")
    expect((error as Error).message).toContain("operator 'sum' (1/1)")
    expect((error as Error).message).toContain('value')
    expect((error as Error).message).toContain('list')
  })

  it('refuses state access and timers without a current key, and invalid descriptors', () => {
    const backend = createBackend()
    const state = backend.getState(new ValueStateDescriptor<number>('total'))
    expect(() => state.value()).toThrow(IllegalStateError)
    expect(() => state.update(1)).toThrow(IllegalStateError)
    expect(() => backend.registerTimer('EVENT_TIME', 5)).toThrow(IllegalStateError)
    expect(() => backend.getCurrentKey()).toThrow(IllegalStateError)
    backend.setCurrentKey('k')
    expect(() => backend.registerTimer('EVENT_TIME', Number.NaN)).toThrow(IllegalStateError)
    const ttlError = caught(() => backend.getState(new ValueStateDescriptor('short', { ttl: { ttlMs: 0 } })))
    expect(ConfigError.isInstance(ttlError) && ttlError.path).toBe('ttl.ttlMs')
    const badSerializer = { version: 0, serialize: () => new Uint8Array(), deserialize: () => 1 }
    expect(() => backend.getState(new ValueStateDescriptor('bad', { serializer: badSerializer }))).toThrow(ConfigError)
    expect(
      () => new HeapKeyedStateBackend({ maxParallelism: 128, keyGroupRange: { start: 100, end: 200 }, owner: 'x' }),
    ).toThrow(ConfigError)
    expect(() => new HeapKeyedStateBackend({ maxParallelism: 40_000, keyGroupRange: { start: 0, end: 1 }, owner: 'x' })).toThrow(
      ConfigError,
    )
  })
})

describe('HeapKeyedStateBackend: the last looked-up entry and the index of small integer keys', () => {
  type Operation = { op: 'value' | 'clear' | 'increment' | 'list-add' | 'list-clear' | 'map-put' | 'map-remove' | 'snapshot'; key: number }
  // Keys chosen to meet the edge cases of the cache's key comparison (NaN never equals itself, -0 is 0)
  // and of the array index of small integer keys (its last key, the first one past it, negative and
  // fractional numbers, a string that looks like an indexed number).
  const keys: Key[] = [1, 2, Number.NaN, -0, 0, 'a', ['a', 1], 65_535, 65_536, -1, 2.5, '1']

  it('agrees with a plain model over random reads, writes, clears, removals and snapshots', () => {
    fc.assert(
      fc.property(
        fc.array(
          fc.record({
            op: fc.constantFrom('value', 'clear', 'increment', 'list-add', 'list-clear', 'map-put', 'map-remove', 'snapshot'),
            key: fc.integer({ min: 0, max: keys.length - 1 }),
          }),
          { maxLength: 150 },
        ),
        (operations: Operation[]) => {
          let backend = createBackend()
          const open = (target: HeapKeyedStateBackend) => ({
            count: target.getState(new ValueStateDescriptor<number>('count')),
            list: target.getListState(new ListStateDescriptor<number>('list')),
            map: target.getMapState(new MapStateDescriptor<string, number>('map')),
          })
          let states = open(backend)
          // The model: by normalized key (-0 and 0 are one key, NaN is one key).
          const name = (key: Key) => (Object.is(key, -0) ? '0' : JSON.stringify(key) ?? String(key))
          const model = { count: new Map<string, number>(), list: new Map<string, number[]>(), map: new Map<string, number>() }
          for (const [step, { op, key: index }] of operations.entries()) {
            const key = keys[index] as Key
            const id = name(Number.isNaN(key) ? 'NaN' : key)
            backend.setCurrentKey(key)
            switch (op) {
              case 'value':
                expect(states.count.value()).toBe(model.count.get(id))
                expect(states.list.get()).toEqual(model.list.get(id) ?? [])
                expect(states.map.get('x')).toBe(model.map.get(id))
                break
              case 'clear':
                states.count.clear()
                model.count.delete(id)
                break
              case 'increment':
                states.count.update((states.count.value() ?? 0) + 1)
                model.count.set(id, (model.count.get(id) ?? 0) + 1)
                break
              case 'list-add':
                states.list.add(step)
                model.list.set(id, [...(model.list.get(id) ?? []), step])
                break
              case 'list-clear':
                states.list.update([])
                model.list.delete(id)
                break
              case 'map-put':
                states.map.put('x', step)
                model.map.set(id, step)
                break
              case 'map-remove':
                // Removing the only item removes the key's entry.
                states.map.remove('x')
                model.map.delete(id)
                break
              case 'snapshot': {
                const restored = createBackend()
                restored.restore(backend.snapshot())
                backend = restored
                states = open(backend)
                break
              }
            }
          }
          expect(new Set(backend.keys('count').map((key) => name(Number.isNaN(key) ? 'NaN' : key)))).toEqual(new Set(model.count.keys()))
          expect(backend.keys('map')).toHaveLength(model.map.size)
        },
      ),
      { numRuns: 300 },
    )
  })

  it('never writes into an entry that expired or was cleaned up by a checkpoint', () => {
    const clock = { now: 1_000 }
    const backend = createBackend(1, 0, () => clock.now)
    const state = backend.getState(new ValueStateDescriptor<number>('count', { ttl: { ttlMs: 100 } }))
    backend.setCurrentKey('k')
    state.update(1)
    expect(state.value()).toBe(1)
    clock.now = 1_200
    expect(state.value()).toBeUndefined() // expired: removed by this read
    state.update(7)
    expect(state.value()).toBe(7)
    expect(backend.keys('count')).toEqual(['k'])
    clock.now = 1_400
    expect(backend.snapshot()).toEqual([]) // expired: removed by the checkpoint
    expect(backend.keys('count')).toEqual([])
    state.update(9)
    expect(backend.keys('count')).toEqual(['k'])
    expect(state.value()).toBe(9)
  })
})

describe('HeapKeyedStateBackend: timers', () => {
  it('deduplicates (key, timestamp), deletes, and polls due timers in timestamp then registration order', () => {
    const backend = createBackend()
    expect(backend.nextTimerTimestamp('EVENT_TIME')).toBeUndefined()
    const register = (key: Key, timestamp: number) => {
      backend.setCurrentKey(key)
      backend.registerTimer('EVENT_TIME', timestamp)
    }
    register('c', 30)
    register('a', 10)
    register('b', 20)
    register('a', 10) // duplicate
    register('b', 10) // same timestamp, registered after a
    register(['x', 1], 20)
    register('d', 40)
    backend.setCurrentKey('d')
    backend.deleteTimer('EVENT_TIME', 40)
    backend.deleteTimer('EVENT_TIME', 999) // no such timer: no-op
    backend.setCurrentKey('p')
    backend.registerTimer('PROCESSING_TIME', 15)
    expect(backend.nextTimerTimestamp('EVENT_TIME')).toBe(10)
    expect(backend.nextTimerTimestamp('PROCESSING_TIME')).toBe(15)
    expect(backend.pollTimers('EVENT_TIME', 5)).toEqual([])
    const due = backend.pollTimers('EVENT_TIME', 20).map(({ timestamp, key }) => ({ timestamp, key }))
    expect(due).toEqual([
      { timestamp: 10, key: 'a' },
      { timestamp: 10, key: 'b' },
      { timestamp: 20, key: 'b' },
      { timestamp: 20, key: ['x', 1] },
    ])
    expect(backend.nextTimerTimestamp('EVENT_TIME')).toBe(30)
    expect(backend.pollTimers('EVENT_TIME', Number.POSITIVE_INFINITY).map((timer) => timer.key)).toEqual(['c'])
    expect(backend.nextTimerTimestamp('EVENT_TIME')).toBeUndefined()
    // A fired timer can be registered again.
    register('a', 10)
    expect(backend.nextTimerTimestamp('EVENT_TIME')).toBe(10)
    expect(backend.pollTimers('PROCESSING_TIME', 15).map((timer) => timer.key)).toEqual(['p'])
  })

  it('keeps heap order under many random registrations and deletions', () => {
    const backend = createBackend()
    const expected = new Map<string, number>()
    let seed = 12345
    const random = () => {
      seed = (Math.imul(seed, 1103515245) + 12345) >>> 0
      return seed / 2 ** 32
    }
    for (let step = 0; step < 5000; step++) {
      const key = `k${Math.floor(random() * 200)}`
      const timestamp = Math.floor(random() * 1000)
      backend.setCurrentKey(key)
      if (random() < 0.3) {
        backend.deleteTimer('PROCESSING_TIME', timestamp)
        expected.delete(`${key}@${timestamp}`)
      } else {
        backend.registerTimer('PROCESSING_TIME', timestamp)
        expected.set(`${key}@${timestamp}`, timestamp)
      }
    }
    const fired = backend.pollTimers('PROCESSING_TIME', 500)
    const timestamps = fired.map((timer) => timer.timestamp)
    expect(timestamps).toEqual([...timestamps].sort((a, b) => a - b))
    expect(new Set(fired.map((timer) => `${String(timer.key)}@${timer.timestamp}`))).toEqual(
      new Set([...expected].filter(([, timestamp]) => timestamp <= 500).map(([id]) => id)),
    )
    expect(backend.nextTimerTimestamp('PROCESSING_TIME')).toBe(Math.min(...[...expected.values()].filter((timestamp) => timestamp > 500)))
  })
})

describe('HeapKeyedStateBackend: snapshot and restore', () => {
  function fill(backend: HeapKeyedStateBackend, keys: Key[]): void {
    const total = backend.getState(descriptors.total())
    const events = backend.getListState(descriptors.events())
    const attributes = backend.getMapState(descriptors.attributes())
    const maximum = backend.getReducingState(descriptors.maximum())
    const mean = backend.getAggregatingState(descriptors.average())
    keys.forEach((key, index) => {
      backend.setCurrentKey(key)
      total.update(BigInt(index) * 10n ** 20n)
      events.addAll([`created-${index}`, `updated-${index}`])
      attributes.put('index', index)
      attributes.put('seen', new Date(1_700_000_000_000 + index))
      attributes.put('tags', new Map([['k', [index, -0]]]))
      maximum.add(index)
      maximum.add(index / 2)
      mean.add(index)
      mean.add(index + 2)
      backend.registerTimer('EVENT_TIME', 1000 + (index % 7))
      if (index % 3 === 0) backend.registerTimer('PROCESSING_TIME', 5000 + index)
    })
  }

  function expectFilled(backend: HeapKeyedStateBackend, key: Key, index: number): void {
    backend.setCurrentKey(key)
    expect(backend.getState(descriptors.total()).value()).toBe(BigInt(index) * 10n ** 20n)
    expect(backend.getListState(descriptors.events()).get()).toEqual([`created-${index}`, `updated-${index}`])
    const attributes = backend.getMapState(descriptors.attributes())
    expect(attributes.get('index')).toBe(index)
    expect(attributes.get('seen')).toEqual(new Date(1_700_000_000_000 + index))
    const tags = attributes.get('tags') as Map<string, number[]>
    expect(tags).toBeInstanceOf(Map)
    expect(Object.is(tags.get('k')?.[1], -0)).toBe(true)
    expect(backend.getReducingState(descriptors.maximum()).get()).toBe(index)
    expect(backend.getAggregatingState(descriptors.average()).get()).toBe(index + 1)
  }

  it('restores identical values, timers and keys into a new backend', () => {
    const keys: Key[] = ['alice', 42, 7n, true, ['tenant', 3], 'émoji 🎉']
    const source = createBackend()
    fill(source, keys)
    const snapshots = source.snapshot()
    expect(snapshots.length).toBeGreaterThan(0)
    expect(snapshots.map((snapshot) => snapshot.keyGroup)).toEqual([...new Set(keys.map((key) => assignToKeyGroup(key, MAX_PARALLELISM)))].sort((a, b) => a - b))

    const target = createBackend()
    target.restore(snapshots)
    // Keys and timers are readable before any descriptor asks for the states.
    expect(new Set(target.keys('total'))).toEqual(new Set(keys))
    keys.forEach((key, index) => {
      expectFilled(target, key, index)
    })
    expect(new Set(target.keys('attributes'))).toEqual(new Set(keys))
    const fired = target.pollTimers('EVENT_TIME', Number.POSITIVE_INFINITY)
    expect(fired.map((timer) => timer.timestamp)).toEqual([...fired.map((timer) => timer.timestamp)].sort((a, b) => a - b))
    expect(new Set(fired.map((timer) => JSON.stringify([String(timer.key), timer.timestamp])))).toEqual(
      new Set(keys.map((key, index) => JSON.stringify([String(key), 1000 + (index % 7)]))),
    )
    expect(target.pollTimers('PROCESSING_TIME', Number.POSITIVE_INFINITY).map((timer) => [timer.key, timer.timestamp])).toEqual([
      ['alice', 5000],
      [true, 5003],
    ])
  })

  it('is not affected by mutations after the snapshot', () => {
    const source = createBackend()
    const profile = source.getState(new ValueStateDescriptor<{ name: string; visits: number[] }>('profile'))
    const events = source.getListState(new ListStateDescriptor<string>('events'))
    source.setCurrentKey('k')
    const value = { name: 'before', visits: [1] }
    profile.update(value)
    events.add('first')
    const snapshots = source.snapshot()
    value.name = 'after'
    value.visits.push(2)
    events.add('second')
    source.registerTimer('EVENT_TIME', 1)
    const target = createBackend()
    target.restore(snapshots)
    target.setCurrentKey('k')
    expect(target.getState(new ValueStateDescriptor('profile')).value()).toEqual({ name: 'before', visits: [1] })
    expect(target.getListState(new ListStateDescriptor('events')).get()).toEqual(['first'])
    expect(target.nextTimerTimestamp('EVENT_TIME')).toBeUndefined()
  })

  it('carries restored states that nobody asked for into the next snapshot', () => {
    const first = createBackend()
    fill(first, ['a', 'b'])
    const second = createBackend()
    second.restore(first.snapshot())
    // Only one state is used in the second run; the others pass through untouched.
    const total = second.getState(descriptors.total())
    second.setCurrentKey('c')
    total.update(3n)
    const third = createBackend()
    third.restore(second.snapshot())
    expectFilled(third, 'a', 0)
    expectFilled(third, 'b', 1)
    third.setCurrentKey('c')
    expect(third.getState(descriptors.total()).value()).toBe(3n)
    expect(third.getListState(descriptors.events()).get()).toEqual([])
  })

  it('rescales 1 -> 3 -> 1 and 2 -> 3 -> 1: every key lands on the subtask subtaskForKey names', () => {
    const keys: Key[] = Array.from({ length: 1000 }, (_, index) => (index % 4 === 0 ? index : index % 4 === 3 ? ['user', index] : `user-${index}`))
    const single = createBackend(1, 0)
    fill(single, keys)
    const fromOne = single.snapshot()
    expect(fromOne.length).toBeGreaterThan(100) // nearly all 128 key groups hold keys

    const three = rescale(fromOne, 3)
    const identity = (key: Key) => `${typeof key}:${String(key)}`
    const held = three.map((backend) => new Set(backend.keys('total').map(identity)))
    const misplaced: string[] = []
    keys.forEach((key, index) => {
      const owner = subtaskForKey(key, MAX_PARALLELISM, 3)
      held.forEach((keysOfSubtask, subtask) => {
        if (keysOfSubtask.has(identity(key)) !== (subtask === owner)) misplaced.push(`${String(key)} on ${subtask}`)
      })
      expectFilled(three[owner] as HeapKeyedStateBackend, key, index)
    })
    expect(misplaced).toEqual([])
    expect(three.reduce((sum, backend) => sum + backend.keys('total').length, 0)).toBe(keys.length)
    // Each subtask has the timers of its own keys only.
    three.forEach((backend, subtask) => {
      for (const timer of backend.pollTimers('EVENT_TIME', Number.POSITIVE_INFINITY)) {
        if (subtaskForKey(timer.key, MAX_PARALLELISM, 3) !== subtask) misplaced.push(`timer of ${String(timer.key)} on ${subtask}`)
      }
    })
    expect(misplaced).toEqual([])

    // 3 -> 1 from a fresh 3-way restore (the timers above were polled).
    const [merged] = rescale(rescale(fromOne, 3).flatMap((backend) => backend.snapshot()), 1)
    keys.forEach((key, index) => {
      expectFilled(merged as HeapKeyedStateBackend, key, index)
    })
    expect(merged?.pollTimers('EVENT_TIME', Number.POSITIVE_INFINITY)).toHaveLength(keys.length)

    // 2 -> 3 -> 1: start from two subtasks fed by the partitioner.
    const two = [createBackend(2, 0), createBackend(2, 1)]
    const perSubtask: Key[][] = [[], []]
    for (const key of keys) perSubtask[subtaskForKey(key, MAX_PARALLELISM, 2)]?.push(key)
    two.forEach((backend, subtask) => {
      fill(backend, perSubtask[subtask] as Key[])
    })
    const indexOf = new Map(two.flatMap((_, subtask) => (perSubtask[subtask] as Key[]).map((key, index) => [identity(key), index] as const)))
    const roundTrip = rescale(
      rescale(two.flatMap((backend) => backend.snapshot()), 3).flatMap((backend) => backend.snapshot()),
      1,
    )[0] as HeapKeyedStateBackend
    expect(roundTrip.keys('total')).toHaveLength(keys.length)
    for (const key of keys) expectFilled(roundTrip, key, indexOf.get(identity(key)) as number)
    expect(roundTrip.pollTimers('PROCESSING_TIME', Number.POSITIVE_INFINITY).length).toBe(
      perSubtask.reduce((sum, part) => sum + part.filter((_, index) => index % 3 === 0).length, 0),
    )
  })

  it('refuses key groups outside the range, twice-given key groups, and late or repeated restore', () => {
    const source = createBackend()
    fill(source, Array.from({ length: 50 }, (_, index) => `k${index}`))
    const snapshots = source.snapshot()
    const firstHalf = createBackend(2, 0)
    const outside = snapshots.find((snapshot) => snapshot.keyGroup > 63) as KeyGroupSnapshot
    const error = caught(() => firstHalf.restore([outside]))
    expect(IllegalStateError.isInstance(error)).toBe(true)
    expect((error as Error).message).toContain(`key group ${outside.keyGroup}`)
    expect((error as Error).message).toContain("operator 'sum' (1/2)")

    const inside = snapshots[0] as KeyGroupSnapshot
    expect(() => createBackend().restore([inside, inside])).toThrow(IllegalStateError)
    const twice = createBackend()
    twice.restore([])
    expect(() => twice.restore([inside])).toThrow(IllegalStateError)
    const late = createBackend()
    late.getState(descriptors.total())
    expect(() => late.restore([inside])).toThrow(IllegalStateError)
  })

  it('refuses an unknown layout version and corrupted bytes', () => {
    const source = createBackend()
    fill(source, ['a'])
    const [snapshot] = source.snapshot() as [KeyGroupSnapshot]
    const newer = snapshot.bytes.slice()
    newer[0] = 9
    const versionError = caught(() => createBackend().restore([{ keyGroup: snapshot.keyGroup, bytes: newer }]))
    expect(UnsupportedVersionError.isInstance(versionError) && versionError.version).toBe(9)
    expect((versionError as Error).message).toContain("operator 'sum' (1/1)")

    const truncated = snapshot.bytes.subarray(0, snapshot.bytes.length - 3)
    expect(() => createBackend().restore([{ keyGroup: snapshot.keyGroup, bytes: truncated }])).toThrow(SerializationError)
    expect(() => createBackend().restore([{ keyGroup: snapshot.keyGroup, bytes: new Uint8Array() }])).toThrow(SerializationError)
    // Bytes of another key group: the keys do not hash to the group they claim.
    const otherGroup = (snapshot.keyGroup + 1) % MAX_PARALLELISM
    const misfiled = caught(() => createBackend().restore([{ keyGroup: otherGroup, bytes: snapshot.bytes }]))
    expect(SerializationError.isInstance(misfiled)).toBe(true)
    expect((misfiled as Error).message).toContain(`belongs to key group ${snapshot.keyGroup}`)
  })

  it('refuses a restored state asked for as another kind', () => {
    const source = createBackend()
    fill(source, ['a'])
    const target = createBackend()
    target.restore(source.snapshot())
    const error = caught(() => target.getListState(new ListStateDescriptor('total')))
    expect(IllegalStateError.isInstance(error)).toBe(true)
    expect((error as Error).message).toMatch(/'total'.*value.*list/)
  })

  it('names the state and key when a value cannot be encoded', () => {
    const backend = createBackend()
    const state = backend.getState(new ValueStateDescriptor<unknown>('callbacks'))
    backend.setCurrentKey('k1')
    state.update({ onDone: () => 1 })
    const error = caught(() => backend.snapshot())
    expect(SerializationError.isInstance(error)).toBe(true)
    expect((error as Error).message).toContain("keyed state 'callbacks' of operator 'sum' (1/1)")
    expect((error as Error).message).toContain('"k1"')
  })

  it('refuses to snapshot state of a key outside its key-group range (records routed to the wrong subtask)', () => {
    const backend = createBackend(2, 0)
    const state = backend.getState(descriptors.total())
    const foreignKey = Array.from({ length: 100 }, (_, index) => `k${index}`).find((key) => subtaskForKey(key, MAX_PARALLELISM, 2) === 1) as string
    backend.setCurrentKey(foreignKey)
    state.update(1n)
    expect(() => backend.snapshot()).toThrow(/wrong subtask/)
  })
})

describe('HeapKeyedStateBackend: custom serializers', () => {
  /** Stores a name as UTF-8; version 1 wrote it lower-case, version 2 writes it as is with a marker byte. */
  function nameSerializer(version: number): SimpleVersionedSerializer<string> & { calls: number[] } {
    const calls: number[] = []
    return {
      version,
      calls,
      serialize: (value) => (version === 1 ? new TextEncoder().encode(value.toLowerCase()) : new Uint8Array([0x02, ...new TextEncoder().encode(value)])),
      deserialize(storedVersion, bytes) {
        calls.push(storedVersion)
        if (storedVersion > version) throw new Error('unreachable: the backend checks the version first')
        return storedVersion === 1 ? `v1:${new TextDecoder().decode(bytes)}` : new TextDecoder().decode(bytes.subarray(1))
      },
    }
  }

  it('writes through the serializer, stores its version, and reads older versions', () => {
    const writer = nameSerializer(1)
    const source = createBackend()
    const names = source.getListState(new ListStateDescriptor('names', { serializer: writer }))
    const byId = source.getMapState(new MapStateDescriptor<number, string>('byId', { serializer: writer }))
    source.setCurrentKey('k')
    names.addAll(['Ada', 'Grace'])
    byId.put(1, 'Linus')
    const snapshots = source.snapshot()

    const reader = nameSerializer(2)
    const target = createBackend()
    target.restore(snapshots)
    target.setCurrentKey('k')
    expect(target.getListState(new ListStateDescriptor('names', { serializer: reader })).get()).toEqual(['v1:ada', 'v1:grace'])
    expect(target.getMapState(new MapStateDescriptor<number, string>('byId', { serializer: reader })).get(1)).toBe('v1:linus')
    expect(reader.calls).toEqual([1, 1, 1])

    // And the new version round-trips with itself.
    const again = createBackend()
    again.restore(target.snapshot())
    again.setCurrentKey('k')
    const newReader = nameSerializer(2)
    expect(again.getListState(new ListStateDescriptor('names', { serializer: newReader })).get()).toEqual(['v1:ada', 'v1:grace'])
    expect(newReader.calls).toEqual([2, 2])
  })

  it('refuses values written by a newer serializer version, naming the state and owner', () => {
    const source = createBackend()
    source.getState(new ValueStateDescriptor('name', { serializer: nameSerializer(3) }))
    source.setCurrentKey('k')
    source.getState(new ValueStateDescriptor('name', { serializer: nameSerializer(3) })).update('Ada')
    const snapshots = source.snapshot()
    const target = createBackend()
    target.restore(snapshots)
    const error = caught(() => target.getState(new ValueStateDescriptor('name', { serializer: nameSerializer(2) })))
    expect(UnsupportedVersionError.isInstance(error)).toBe(true)
    expect(UnsupportedVersionError.isInstance(error) && [error.version, error.supportedVersion]).toEqual([3, 2])
    expect((error as Error).message).toContain("keyed state 'name'")
    expect((error as Error).message).toContain("operator 'sum' (1/1)")
    // Without a serializer the bytes cannot be read either.
    expect(() => target.getState(new ValueStateDescriptor('name'))).toThrow(SerializationError)
    // The failed requests did not consume the restored values.
    target.setCurrentKey('k')
    expect(target.getState(new ValueStateDescriptor('name', { serializer: nameSerializer(3) })).value()).toBe('Ada')
  })

  it('wraps a failing serializer in a SerializationError naming the state', () => {
    const failing: SimpleVersionedSerializer<number> = {
      version: 1,
      serialize: () => {
        throw new Error('disk full')
      },
      deserialize: () => 0,
    }
    const backend = createBackend()
    backend.setCurrentKey('k')
    backend.getReducingState(new ReducingStateDescriptor<number>('sum', (a, b) => a + b, { serializer: failing })).add(1)
    const error = caught(() => backend.snapshot())
    expect(SerializationError.isInstance(error)).toBe(true)
    expect((error as Error).message).toMatch(/keyed state 'sum'.*"k".*disk full/)
  })
})

describe('HeapKeyedStateBackend: TTL', () => {
  function ttlBackend(): { backend: HeapKeyedStateBackend; clock: { now: number } } {
    const clock = { now: 1_000 }
    return { backend: createBackend(1, 0, () => clock.now), clock }
  }

  it('OnCreateAndWrite + NeverReturnExpired: expires ttlMs after the last write; reads do not extend', () => {
    const { backend, clock } = ttlBackend()
    const state = backend.getState(new ValueStateDescriptor<string>('session', { ttl: { ttlMs: 100 }, defaultValue: 'none' }))
    backend.setCurrentKey('k')
    state.update('v1')
    clock.now = 1_099
    expect(state.value()).toBe('v1')
    clock.now = 1_100
    expect(state.value()).toBe('none')
    expect(backend.keys('session')).toEqual([])
    state.update('v2')
    clock.now = 1_150
    state.update('v3') // a write restarts the clock
    clock.now = 1_249
    expect(state.value()).toBe('v3')
    clock.now = 1_250
    expect(state.value()).toBe('none')
  })

  it('OnReadAndWrite: every read restarts the clock', () => {
    const { backend, clock } = ttlBackend()
    const ttl: StateTtlConfig = { ttlMs: 100, updateType: 'OnReadAndWrite' }
    const state = backend.getReducingState(new ReducingStateDescriptor<number>('sum', (a, b) => a + b, { ttl }))
    backend.setCurrentKey('k')
    state.add(1)
    for (let step = 0; step < 5; step++) {
      clock.now += 90
      expect(state.get()).toBe(1)
    }
    clock.now += 100
    expect(state.get()).toBeUndefined()
    state.add(5) // the expired sum is not folded in
    expect(state.get()).toBe(5)
  })

  it('ReturnExpiredIfNotCleanedUp: an expired value is returned until a read or a checkpoint cleans it up', () => {
    const { backend, clock } = ttlBackend()
    const ttl: StateTtlConfig = { ttlMs: 100, visibility: 'ReturnExpiredIfNotCleanedUp' }
    const state = backend.getAggregatingState(new AggregatingStateDescriptor('average', average, { ttl }))
    const last = backend.getState(new ValueStateDescriptor<string>('last', { ttl }))
    backend.setCurrentKey('k')
    state.add(4)
    last.update('seen')
    clock.now = 5_000
    expect(backend.keys('average')).toEqual(['k'])
    // As in Flink, the read that finds it expired still returns it, and cleans it up.
    expect(state.get()).toBe(4)
    expect(state.get()).toBeUndefined()
    expect(backend.keys('average')).toEqual([])
    // A checkpoint cleans up what was not read.
    expect(backend.keys('last')).toEqual(['k'])
    expect(backend.snapshot()).toEqual([])
    expect(last.value()).toBeUndefined()
  })

  it('never folds an expired value into add, whatever the visibility', () => {
    const { backend, clock } = ttlBackend()
    const ttl: StateTtlConfig = { ttlMs: 100, visibility: 'ReturnExpiredIfNotCleanedUp' }
    const sum = backend.getReducingState(new ReducingStateDescriptor<number>('sum', (a, b) => a + b, { ttl }))
    const list = backend.getListState(new ListStateDescriptor<number>('list', { ttl }))
    const mean = backend.getAggregatingState(new AggregatingStateDescriptor('mean', average, { ttl }))
    backend.setCurrentKey('k')
    sum.add(1)
    list.add(1)
    mean.add(1)
    clock.now = 1_100
    sum.add(10)
    list.addAll([10])
    mean.add(10)
    expect(sum.get()).toBe(10)
    expect(list.get()).toEqual([10])
    expect(mean.get()).toBe(10)
  })

  it('drops expired entries at snapshot and keeps the remaining clocks across restore', () => {
    const { backend, clock } = ttlBackend()
    const ttl: StateTtlConfig = { ttlMs: 100 }
    const value = backend.getState(new ValueStateDescriptor<number>('value', { ttl }))
    const list = backend.getListState(new ListStateDescriptor<number>('list', { ttl }))
    backend.setCurrentKey('old')
    value.update(1)
    list.add(1)
    clock.now = 1_050
    backend.setCurrentKey('young')
    value.update(2)
    list.add(2)
    clock.now = 1_120
    list.add(3) // the whole list of 'young' restarts its clock
    const snapshots = backend.snapshot()

    const restoredClock = { now: 1_120 }
    const target = createBackend(1, 0, () => restoredClock.now)
    target.restore(snapshots)
    expect(target.keys('value')).toEqual(['young'])
    const restoredValue = target.getState(new ValueStateDescriptor<number>('value', { ttl }))
    const restoredList = target.getListState(new ListStateDescriptor<number>('list', { ttl }))
    target.setCurrentKey('old')
    expect(restoredValue.value()).toBeUndefined()
    expect(restoredList.get()).toEqual([])
    target.setCurrentKey('young')
    expect(restoredValue.value()).toBe(2)
    expect(restoredList.get()).toEqual([2, 3])
    restoredClock.now = 1_150 // the value was written at 1_050: expired at 1_150, as before the restore
    expect(restoredValue.value()).toBeUndefined()
    expect(restoredList.get()).toEqual([2, 3])
    restoredClock.now = 1_220
    expect(restoredList.get()).toEqual([])
  })

  it('MapState: every user entry has its own clock', () => {
    const { backend, clock } = ttlBackend()
    const map = backend.getMapState(new MapStateDescriptor<string, number>('map', { ttl: { ttlMs: 100 } }))
    backend.setCurrentKey('k')
    map.put('early', 1)
    clock.now = 1_060
    map.put('late', 2)
    clock.now = 1_100
    expect(map.get('early')).toBeUndefined()
    expect(map.contains('late')).toBe(true)
    expect([...map.entries()]).toEqual([['late', 2]])
    expect(map.isEmpty()).toBe(false)
    const snapshots = backend.snapshot()
    clock.now = 1_160
    expect(map.isEmpty()).toBe(true)
    expect([...map.keys()]).toEqual([])
    expect(backend.keys('map')).toEqual([])

    const target = createBackend(1, 0, () => 1_100)
    target.restore(snapshots)
    target.setCurrentKey('k')
    expect([...target.getMapState(new MapStateDescriptor<string, number>('map', { ttl: { ttlMs: 100 } })).entries()]).toEqual([['late', 2]])
  })

  it('does not read the clock for states without a TTL', () => {
    let reads = 0
    const backend = createBackend(1, 0, () => {
      reads++
      return 0
    })
    const state = backend.getState(new ValueStateDescriptor<number>('plain'))
    backend.setCurrentKey('k')
    for (let index = 0; index < 100; index++) state.update((state.value() ?? 0) + 1)
    expect(state.value()).toBe(100)
    expect(reads).toBe(0)
  })
})
