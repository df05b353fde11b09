import { describe, expect, it } from 'vitest'
import { OpenSlotCache } from './open-slot-cache.js'
import type { Slot } from './window-state.js'

const slot = (end: number): Slot => ({ e: end, v: end, n: null, t: true })

describe('OpenSlotCache', () => {
  it('keeps one slot per key, with keys equal as keyed state sees them', () => {
    const cache = new OpenSlotCache()
    const keys = [0, 1, 65_535, 65_536, -1, 2.5, 'a', '1', true, 10n, ['x', 1]]
    for (const [index, key] of keys.entries()) cache.set(key, slot(index))
    for (const [index, key] of keys.entries()) expect(cache.get(key)?.e).toBe(index)
    // -0 is the key 0; the string '1' is not the number 1; an equal composite key is the same key.
    expect(cache.get(-0)?.e).toBe(0)
    expect(cache.get(1)?.e).toBe(1)
    expect(cache.get(['x', 1])?.e).toBe(10)
    expect(cache.get(2)).toBeUndefined()
    expect(cache.get('b')).toBeUndefined()
  })

  it('forgets a key set to undefined, and everything on clear', () => {
    const cache = new OpenSlotCache()
    cache.set(3, slot(3))
    cache.set('k', slot(4))
    cache.set(3, undefined)
    cache.set('k', undefined)
    cache.set(100, undefined)
    expect(cache.get(3)).toBeUndefined()
    expect(cache.get('k')).toBeUndefined()
    expect(cache.get(100)).toBeUndefined()
    cache.set(5, slot(5))
    cache.set('m', slot(6))
    cache.clear()
    expect(cache.get(5)).toBeUndefined()
    expect(cache.get('m')).toBeUndefined()
  })
})
