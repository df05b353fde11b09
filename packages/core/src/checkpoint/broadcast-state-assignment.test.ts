import { describe, expect, it } from 'vitest'
import type { OperatorSubtaskState } from '../runtime/stream-operator.js'
import type { OperatorState } from './completed-checkpoint.js'
import { assignOperatorState } from './state-assignment.js'

const copy = (subtask: number) => ({ rules: { version: 1, bytes: new Uint8Array([subtask]) } })

function state(parallelism: number, extra: (subtask: number) => OperatorSubtaskState = () => ({})): OperatorState {
  return {
    parallelism,
    maxParallelism: 128,
    subtasks: Array.from({ length: parallelism }, (_, i) => ({ broadcast: copy(i), ...extra(i) })),
  }
}

describe('assignOperatorState: broadcast state', () => {
  it('gives each subtask its own copy at the same parallelism', () => {
    for (let i = 0; i < 3; i++) expect(assignOperatorState('op', state(3), i, 3, 128).broadcast).toEqual(copy(i))
  })

  it('gives new subtask i the whole copy of old subtask i % oldParallelism when scaling out and in', () => {
    expect([0, 1, 2, 3, 4].map((i) => assignOperatorState('op', state(2), i, 5, 128).broadcast)).toEqual([copy(0), copy(1), copy(0), copy(1), copy(0)])
    expect([0, 1].map((i) => assignOperatorState('op', state(4), i, 2, 128).broadcast)).toEqual([copy(0), copy(1)])
  })

  it('redistributes keyed state and lists next to it as before', () => {
    const old = state(2, (i) => ({ lists: { splits: [{ version: 1, bytes: new Uint8Array([10 + i]) }] } }))
    const assigned = [0, 1, 2].map((i) => assignOperatorState('op', old, i, 3, 128))
    expect(assigned.map((a) => a.lists?.splits?.length)).toEqual([1, 1, 0])
    expect(assigned.every((a) => a.broadcast !== undefined)).toBe(true)
  })

  it('leaves operators without broadcast state without the field', () => {
    const old: OperatorState = { parallelism: 2, maxParallelism: 128, subtasks: [{}, {}] }
    expect('broadcast' in assignOperatorState('op', old, 2, 3, 128)).toBe(false)
  })
})
