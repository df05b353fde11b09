import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { type Timer, TimerQueue } from './timer-queue.js'

/** The firing order spelled out: every timer with its registration number, sorted by (timestamp, number). */
class ReferenceQueue {
  private timers: { key: string; timestamp: number; sequence: number }[] = []
  private sequence = 0

  add(key: string, timestamp: number): boolean {
    if (this.timers.some((timer) => timer.key === key && timer.timestamp === timestamp)) return false
    this.timers.push({ key, timestamp, sequence: this.sequence++ })
    return true
  }

  delete(key: string, timestamp: number): boolean {
    const index = this.timers.findIndex((timer) => timer.key === key && timer.timestamp === timestamp)
    if (index === -1) return false
    this.timers.splice(index, 1)
    return true
  }

  sorted(): { key: string; timestamp: number }[] {
    return [...this.timers]
      .sort((a, b) => (a.timestamp !== b.timestamp ? (a.timestamp < b.timestamp ? -1 : 1) : a.sequence - b.sequence))
      .map(({ key, timestamp }) => ({ key, timestamp }))
  }

  pollUpTo(upTo: number): { key: string; timestamp: number }[] {
    const due = this.sorted().filter((timer) => timer.timestamp <= upTo)
    this.timers = this.timers.filter((timer) => timer.timestamp > upTo)
    return due
  }

  get size(): number {
    return this.timers.length
  }
}

const plain = (timers: Timer[]) => timers.map(({ key, timestamp }) => ({ key, timestamp }))

type Operation = { op: 'add' | 'delete'; key: string; timestamp: number } | { op: 'poll'; timestamp: number }

describe('TimerQueue', () => {
  it('fires by timestamp, then registration order; re-registering keeps the place, a deleted timer registered again goes last', () => {
    const queue = new TimerQueue()
    expect(queue.add('a', 'a', 20)).toBe(true)
    expect(queue.add('b', 'b', 10)).toBe(true)
    expect(queue.add('c', 'c', 20)).toBe(true)
    expect(queue.add('a', 'a', 20)).toBe(false)
    expect(queue.delete('a', 20)).toBe(true)
    expect(queue.delete('a', 20)).toBe(false)
    expect(queue.add('a', 'a', 20)).toBe(true)
    expect(queue.add('d', 'd', Number.POSITIVE_INFINITY)).toBe(true)
    expect(queue.size).toBe(4)
    expect(queue.peekTimestamp()).toBe(10)
    expect(plain(queue.toSortedArray()).map((timer) => timer.key)).toEqual(['b', 'c', 'a', 'd'])
    expect(plain(queue.pollUpTo(20))).toEqual([
      { key: 'b', timestamp: 10 },
      { key: 'c', timestamp: 20 },
      { key: 'a', timestamp: 20 },
    ])
    expect(queue.size).toBe(1)
    expect(queue.peekTimestamp()).toBe(Number.POSITIVE_INFINITY)
    expect(queue.delete('d', Number.POSITIVE_INFINITY)).toBe(true)
    expect(queue.peekTimestamp()).toBeUndefined()
    expect(queue.size).toBe(0)
  })

  it('agrees with the spelled-out order over random registrations, deletions and polls', () => {
    const operation: fc.Arbitrary<Operation> = fc.oneof(
      fc.record({ op: fc.constantFrom('add' as const, 'delete' as const), key: fc.constantFrom('a', 'b', 'c', 'd', 'e'), timestamp: fc.integer({ min: -5, max: 30 }) }),
      fc.record({ op: fc.constant('poll' as const), timestamp: fc.integer({ min: -10, max: 35 }) }),
    )
    fc.assert(
      fc.property(fc.array(operation, { maxLength: 200 }), (operations) => {
        const queue = new TimerQueue()
        const reference = new ReferenceQueue()
        for (const operation of operations) {
          if (operation.op === 'add') expect(queue.add(operation.key, operation.key, operation.timestamp)).toBe(reference.add(operation.key, operation.timestamp))
          else if (operation.op === 'delete') expect(queue.delete(operation.key, operation.timestamp)).toBe(reference.delete(operation.key, operation.timestamp))
          else expect(plain(queue.pollUpTo(operation.timestamp))).toEqual(reference.pollUpTo(operation.timestamp))
          expect(queue.size).toBe(reference.size)
          expect(queue.peekTimestamp()).toBe(reference.sorted()[0]?.timestamp)
        }
        expect(plain(queue.toSortedArray())).toEqual(reference.sorted())
      }),
      { numRuns: 300 },
    )
  })
})
