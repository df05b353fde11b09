import { describe, expect, it } from 'vitest'
import { ListStateDescriptor, ValueStateDescriptor } from '../api/state.js'
import { ConfigError } from '../errors.js'
import type { OperatorSubtaskState, VersionedItem } from '../runtime/stream-operator.js'
import { HeapKeyedStateBackend } from '../state/heap-keyed-state-backend.js'
import { keyGroupRangeForSubtask, subtaskForKey } from '../state/key-groups.js'
import type { OperatorState } from './completed-checkpoint.js'
import { assignOperatorState } from './state-assignment.js'

/*
 * Keyed and operator list state through a rescale 2 → 3 → 1, with real HeapKeyedStateBackend
 * snapshots. (Broadcast state assignment: broadcast-state-assignment.test.ts.)
 */

const MAX_PARALLELISM = 128
const UID = 'running-sum'
const KEYS = Array.from({ length: 300 }, (_, i) => `user-${i}`)
const total = new ValueStateDescriptor<number>('total')
const history = new ListStateDescriptor<string>('history')

/** The value and list entries a key holds in these tests: derived from the key, so any mix-up shows. */
const totalOf = (key: string) => Number(key.slice('user-'.length)) * 10 + 7
const historyOf = (key: string) => [`${key}:a`, `${key}:b`]

function backendFor(subtaskId: number, parallelism: number, restored?: OperatorSubtaskState): HeapKeyedStateBackend {
  const backend = new HeapKeyedStateBackend({
    maxParallelism: MAX_PARALLELISM,
    keyGroupRange: keyGroupRangeForSubtask(MAX_PARALLELISM, parallelism, subtaskId),
    owner: `operator '${UID}' (${subtaskId + 1}/${parallelism})`,
  })
  if (restored?.keyed) backend.restore(restored.keyed)
  return backend
}

/** Operator list state items, e.g. writer states: one per item, tagged with where it came from. */
const item = (label: string): VersionedItem => ({ version: 1, bytes: new TextEncoder().encode(label) })
const labelOf = (value: VersionedItem) => new TextDecoder().decode(value.bytes)

/** Snapshots a set of subtasks as the coordinator stores them in a checkpoint. */
function operatorState(parallelism: number, subtasks: OperatorSubtaskState[]): OperatorState {
  return { parallelism, maxParallelism: MAX_PARALLELISM, subtasks }
}

/** Keyed state written the way a keyed operator does: each key in the subtask the hash partitioner routes it to. */
function initialState(parallelism: number, itemsPerSubtask: number): OperatorState {
  const backends = Array.from({ length: parallelism }, (_, subtaskId) => backendFor(subtaskId, parallelism))
  for (const key of KEYS) {
    const backend = backends[subtaskForKey(key, MAX_PARALLELISM, parallelism)] as HeapKeyedStateBackend
    backend.setCurrentKey(key)
    backend.getState(total).update(totalOf(key))
    backend.getListState(history).addAll(historyOf(key))
    backend.registerTimer('EVENT_TIME', totalOf(key))
  }
  return operatorState(
    parallelism,
    backends.map((backend, subtaskId) => ({
      keyed: backend.snapshot(),
      lists: { writerState: Array.from({ length: itemsPerSubtask }, (_, i) => item(`p${parallelism}-s${subtaskId}-i${i}`)) },
    })),
  )
}

/** Restores `state` into `parallelism` subtasks and checks every key landed where the partitioner sends it, with its values. */
function restoreAndCheck(state: OperatorState, parallelism: number): { backends: HeapKeyedStateBackend[]; assigned: OperatorSubtaskState[] } {
  const assigned = Array.from({ length: parallelism }, (_, subtaskId) => assignOperatorState(UID, state, subtaskId, parallelism, MAX_PARALLELISM))
  const backends = assigned.map((part, subtaskId) => backendFor(subtaskId, parallelism, part))
  const owners = new Map<string, number>()
  backends.forEach((backend, subtaskId) => {
    for (const key of backend.keys('total')) {
      expect(owners.has(key as string), `key ${String(key)} restored twice`).toBe(false)
      owners.set(key as string, subtaskId)
    }
  })
  expect(owners.size).toBe(KEYS.length)
  for (const key of KEYS) {
    const subtaskId = subtaskForKey(key, MAX_PARALLELISM, parallelism)
    expect(owners.get(key), key).toBe(subtaskId)
    const backend = backends[subtaskId] as HeapKeyedStateBackend
    backend.setCurrentKey(key)
    expect(backend.getState(total).value()).toBe(totalOf(key))
    expect(backend.getListState(history).get()).toEqual(historyOf(key))
  }
  // Timers moved with their keys: each key's one timer, in its key's subtask.
  const timerKeys: string[] = []
  backends.forEach((backend, subtaskId) => {
    const timers = backend.pollTimers('EVENT_TIME', Number.POSITIVE_INFINITY)
    for (const timer of timers) {
      expect(subtaskForKey(timer.key, MAX_PARALLELISM, parallelism)).toBe(subtaskId)
      expect(timer.timestamp).toBe(totalOf(timer.key as string))
      timerKeys.push(timer.key as string)
    }
    // pollTimers removed them; register them again so the next snapshot still has them.
    for (const timer of timers) {
      backend.setCurrentKey(timer.key)
      backend.registerTimer('EVENT_TIME', timer.timestamp)
    }
  })
  expect(timerKeys.sort()).toEqual([...KEYS].sort())
  return { backends, assigned }
}

/** The operator list items each subtask received, as labels. */
const itemsOf = (assigned: OperatorSubtaskState[]) => assigned.map((part) => (part.lists?.writerState ?? []).map(labelOf))

describe('assignOperatorState: rescaling keyed state 2 → 3 → 1', () => {
  it('puts every key in the subtask the hash partitioner sends it to, with its value, list and timers', () => {
    const atTwo = initialState(2, 5)
    const three = restoreAndCheck(atTwo, 3)
    expect(three.backends.map((b) => b.keys('total').length).every((n) => n > 0)).toBe(true)

    const atThree = operatorState(
      3,
      three.backends.map((backend, subtaskId) => ({ keyed: backend.snapshot(), lists: three.assigned[subtaskId]?.lists ?? {} })),
    )
    const one = restoreAndCheck(atThree, 1)
    expect(one.backends[0]?.keys('total')).toHaveLength(KEYS.length)
  })

  it('deals operator list items out round-robin on a rescale, losing and duplicating none', () => {
    const atTwo = initialState(2, 5)
    const all = itemsOf(atTwo.subtasks).flat()
    expect(all).toHaveLength(10)

    const three = itemsOf(Array.from({ length: 3 }, (_, subtaskId) => assignOperatorState(UID, atTwo, subtaskId, 3, MAX_PARALLELISM)))
    expect(three.flat().sort()).toEqual([...all].sort())
    // Round-robin over the items of all old subtasks in order: item j goes to subtask j % 3.
    expect(three).toEqual([0, 1, 2].map((subtaskId) => all.filter((_, index) => index % 3 === subtaskId)))
    const sizes = three.map((items) => items.length)
    expect(Math.max(...sizes) - Math.min(...sizes)).toBeLessThanOrEqual(1)

    const atThree = operatorState(3, three.map((labels) => ({ lists: { writerState: labels.map(item) } })))
    const one = itemsOf([assignOperatorState(UID, atThree, 0, 1, MAX_PARALLELISM)])
    expect(one[0]?.sort()).toEqual([...all].sort())
  })

  it('more subtasks than items: the extra subtasks get an empty list, nothing is lost', () => {
    const state = operatorState(2, [{ lists: { writerState: [item('only-a')] } }, { lists: { writerState: [item('only-b')] } }])
    const four = itemsOf(Array.from({ length: 4 }, (_, subtaskId) => assignOperatorState(UID, state, subtaskId, 4, MAX_PARALLELISM)))
    expect(four).toEqual([['only-a'], ['only-b'], [], []])
  })

  it('at the same parallelism each subtask gets exactly its own state back', () => {
    const atTwo = initialState(2, 3)
    for (const subtaskId of [0, 1]) {
      const own = assignOperatorState(UID, atTwo, subtaskId, 2, MAX_PARALLELISM)
      expect(own.keyed).toEqual(atTwo.subtasks[subtaskId]?.keyed)
      expect(own.lists).toEqual(atTwo.subtasks[subtaskId]?.lists)
    }
    restoreAndCheck(atTwo, 2)
  })

  it('rejects keyed state checkpointed with another maxParallelism, naming the option and the operator', () => {
    const atTwo = initialState(2, 1)
    let error: unknown
    try {
      assignOperatorState(UID, atTwo, 0, 2, 256)
    } catch (caught) {
      error = caught
    }
    expect(ConfigError.isInstance(error)).toBe(true)
    expect((error as ConfigError).path).toBe('maxParallelism')
    expect((error as Error).message).toBe(
      `maxParallelism: operator '${UID}' was checkpointed with maxParallelism 128 but the job now uses 256; keyed state can only be restored with the same maxParallelism`,
    )
    // Without keyed state, maxParallelism does not matter.
    const listsOnly = operatorState(2, [{ lists: { writerState: [item('x')] } }, {}])
    expect(itemsOf([assignOperatorState(UID, listsOnly, 0, 1, 256)])).toEqual([['x']])
  })
})
