import { describe, expect, it } from 'vitest'
import type { Key } from '../api/state.js'
import { ConfigError, IllegalStateError } from '../errors.js'
import {
  assignToKeyGroup,
  hashKey,
  keyGroupRangeForSubtask,
  normalizeKey,
  operatorIndexForKeyGroup,
  subtaskForKey,
  UPPER_BOUND_MAX_PARALLELISM,
} from './key-groups.js'
import { murmurHash3 } from './murmur-hash3.js'

function caught(action: () => unknown): unknown {
  try {
    action()
  } catch (error) {
    return error
  }
  throw new Error('expected an error')
}

describe('hashKey', () => {
  it('is pinned: a change of these values breaks the key groups of every existing checkpoint', () => {
    const pinned: Array<[Key, number]> = [
      ['', 3831157163],
      ['a', 3889858547],
      ['user-42', 1025461072],
      ['héllo 🎉', 294958927],
      [0, 3468965017],
      [1, 502674759],
      [-1, 60261066],
      [1.5, 1333603257],
      [2 ** 53, 979335917],
      [Number.NaN, 4150148155],
      [Number.POSITIVE_INFINITY, 563708602],
      [1n, 3081166232],
      [-123456789012345678901234567890n, 3978314043],
      [true, 712661126],
      [false, 899251846],
      [['a', 1], 703403408],
      [[1, 'a'], 1801699745],
      [[], 4228055736],
    ]
    for (const [key, expected] of pinned) expect(hashKey(key), String(key)).toBe(expected)
    const pinnedGroups: Array<[Key, number]> = [
      ['', 72],
      ['a', 56],
      ['user-42', 122],
      [0, 23],
      [1, 74],
      [1n, 13],
      [true, 121],
      [['a', 1], 80],
    ]
    for (const [key, expected] of pinnedGroups) expect(assignToKeyGroup(key, 128), String(key)).toBe(expected)
  })

  it('is a MurmurHash3 of the tagged UTF-8 bytes for strings', () => {
    const bytes = new Uint8Array([0x01, ...new TextEncoder().encode('user-42')])
    expect(hashKey('user-42')).toBe(murmurHash3(bytes))
  })

  it('keeps types apart and treats -0 as 0', () => {
    const keys: Key[] = [1, '1', 1n, [1], ['1'], true, 'true', 0, '0', false, '', []]
    const hashes = new Set(keys.map((key) => hashKey(key)))
    expect(hashes.size).toBe(keys.length)
    expect(hashKey(-0)).toBe(hashKey(0))
    expect(hashKey([-0, 'x'])).toBe(hashKey([0, 'x']))
    expect(hashKey(Number.NaN)).toBe(hashKey(Number.parseFloat('nan')))
    expect(hashKey(['a', 'b'])).not.toBe(hashKey(['b', 'a']))
    expect(hashKey(['ab'])).not.toBe(hashKey(['a', 'b']))
  })

  it('refuses values that are not keys', () => {
    for (const bad of [undefined, null, {}, [{}], [undefined], () => 1, Symbol('s')]) {
      expect(() => hashKey(bad as unknown as Key)).toThrow(IllegalStateError)
      expect(() => normalizeKey(bad as unknown as Key)).toThrow(IllegalStateError)
    }
  })
})

describe('assignToKeyGroup', () => {
  it("spreads the key hash with Flink's MathUtils.murmurHash before the modulo", () => {
    // Flink's murmurHash(int) is MurmurHash3 x86_32 of the int's 4 little-endian bytes, made non-negative.
    for (const key of ['a', 'b', 42, 7n, ['x', 1]] as Key[]) {
      const bytes = new Uint8Array(4)
      new DataView(bytes.buffer).setInt32(0, hashKey(key) | 0, true)
      const signed = murmurHash3(bytes) | 0
      const flink = signed >= 0 ? signed : signed === -2147483648 ? 0 : -signed
      expect(assignToKeyGroup(key, UPPER_BOUND_MAX_PARALLELISM)).toBe(flink % UPPER_BOUND_MAX_PARALLELISM)
      expect(assignToKeyGroup(key, 100)).toBe(flink % 100)
    }
  })

  it('is in range and roughly uniform', () => {
    const maxParallelism = 128
    const counts = new Array<number>(maxParallelism).fill(0)
    const keyCount = 128_000
    let outOfRange = 0
    for (let index = 0; index < keyCount; index++) {
      const key: Key = index % 3 === 0 ? index : index % 3 === 1 ? `user-${index}` : [`tenant-${index % 17}`, index]
      const group = assignToKeyGroup(key, maxParallelism)
      if (!(Number.isInteger(group) && group >= 0 && group < maxParallelism)) outOfRange++
      counts[group] = (counts[group] ?? 0) + 1
    }
    expect(outOfRange).toBe(0)
    const expected = keyCount / maxParallelism
    // Binomial standard deviation is about 31.5 here; 6 sigma.
    for (const count of counts) expect(Math.abs(count - expected)).toBeLessThan(190)
    // Sequential integers must not land in sequential groups (no identity-like hash).
    const firstGroups = [0, 1, 2, 3, 4, 5].map((key) => assignToKeyGroup(key, maxParallelism))
    expect(firstGroups).not.toEqual([0, 1, 2, 3, 4, 5])
  })
})

describe('key group ranges', () => {
  const pairs: Array<[number, number]> = []
  for (const maxParallelism of [1, 2, 3, 7, 10, 128, 129, 1000, 4096, 32768]) {
    for (const parallelism of [1, 2, 3, 4, 5, 7, 10, 16, 31, 64, 127, 128, 1000, 32768]) {
      if (parallelism <= maxParallelism) pairs.push([maxParallelism, parallelism])
    }
    pairs.push([maxParallelism, maxParallelism])
  }

  it('cover 0..maxParallelism-1 exactly once, contiguously and in subtask order', () => {
    const problems: string[] = []
    for (const [maxParallelism, parallelism] of pairs) {
      let next = 0
      for (let subtask = 0; subtask < parallelism; subtask++) {
        const range = keyGroupRangeForSubtask(maxParallelism, parallelism, subtask)
        if (range.start !== next || range.end < range.start) {
          problems.push(`${maxParallelism}/${parallelism} subtask ${subtask}: ${range.start}..${range.end}, expected start ${next}`)
        }
        next = range.end + 1
      }
      if (next !== maxParallelism) problems.push(`${maxParallelism}/${parallelism} ends at ${next - 1}`)
    }
    expect(pairs.length).toBeGreaterThan(80)
    expect(problems).toEqual([])
  })

  it("match Flink's formula for a known case", () => {
    // Flink: maxParallelism 128, parallelism 3 -> [0,42], [43,85], [86,127]
    expect([0, 1, 2].map((subtask) => keyGroupRangeForSubtask(128, 3, subtask))).toEqual([
      { start: 0, end: 42 },
      { start: 43, end: 85 },
      { start: 86, end: 127 },
    ])
  })

  it('agree with operatorIndexForKeyGroup for every key group', () => {
    for (const [maxParallelism, parallelism] of pairs) {
      if (maxParallelism > 4096 && parallelism > 64) continue // keep the test fast
      for (let subtask = 0; subtask < parallelism; subtask++) {
        const range = keyGroupRangeForSubtask(maxParallelism, parallelism, subtask)
        for (let keyGroup = range.start; keyGroup <= range.end; keyGroup++) {
          if (operatorIndexForKeyGroup(maxParallelism, parallelism, keyGroup) !== subtask) {
            throw new Error(`key group ${keyGroup} of ${maxParallelism}/${parallelism} is not owned by subtask ${subtask}`)
          }
        }
      }
    }
  })

  it('subtaskForKey names the subtask whose range holds the key group', () => {
    const misrouted: string[] = []
    const used = new Set<number>()
    for (const parallelism of [1, 3, 4, 128]) {
      for (let index = 0; index < 500; index++) {
        const key = index % 2 === 0 ? `k${index}` : index
        const subtask = subtaskForKey(key, 128, parallelism)
        if (parallelism === 4) used.add(subtask)
        const range = keyGroupRangeForSubtask(128, parallelism, subtask)
        const group = assignToKeyGroup(key, 128)
        if (group < range.start || group > range.end) misrouted.push(`${key} at parallelism ${parallelism}`)
      }
    }
    expect(misrouted).toEqual([])
    expect([...used].sort()).toEqual([0, 1, 2, 3])
  })

  it('validate maxParallelism and parallelism with errors naming the option', () => {
    for (const maxParallelism of [0, -1, 1.5, 32769, Number.NaN]) {
      const error = caught(() => keyGroupRangeForSubtask(maxParallelism, 1, 0))
      expect(ConfigError.isInstance(error) && error.path).toBe('maxParallelism')
      expect(ConfigError.isInstance(caught(() => assignToKeyGroup('a', maxParallelism)))).toBe(true)
    }
    for (const parallelism of [0, 129, 2.5]) {
      const error = caught(() => subtaskForKey('a', 128, parallelism))
      expect(ConfigError.isInstance(error) && error.path).toBe('parallelism')
      expect(ConfigError.isInstance(caught(() => operatorIndexForKeyGroup(128, parallelism, 0)))).toBe(true)
    }
    expect(() => keyGroupRangeForSubtask(128, 4, 4)).toThrow(IllegalStateError)
    expect(() => operatorIndexForKeyGroup(128, 4, 128)).toThrow(IllegalStateError)
  })
})

describe('normalizeKey', () => {
  it('gives primitives as themselves and composite keys as a canonical string', () => {
    expect(normalizeKey('a')).toBe('a')
    expect(normalizeKey(5)).toBe(5)
    expect(Object.is(normalizeKey(-0), 0)).toBe(true)
    expect(normalizeKey(7n)).toBe(7n)
    expect(normalizeKey(false)).toBe(false)
    expect(normalizeKey(['a', 1])).toBe(normalizeKey(['a', 1]))
    expect(normalizeKey(['a', -0])).toBe(normalizeKey(['a', 0]))
    const distinct: Key[] = [[1], ['1'], [1n], [true], ['true'], ['a,b'], ['a', 'b'], ['s1:a'], [], [''], ['', ''], 'a', '1']
    expect(new Set(distinct.map((key) => normalizeKey(key))).size).toBe(distinct.length)
  })

  it('lets a Map find a composite key built anew', () => {
    const map = new Map<unknown, string>()
    map.set(normalizeKey(['tenant', 42]), 'found')
    expect(map.get(normalizeKey(['tenant', 42]))).toBe('found')
  })
})
