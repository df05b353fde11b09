import { ConfigError } from '../errors.js'
import { describeValue } from './option-validation.js'

/** 2^32, the number of distinct outputs of the 32-bit hash below. */
const twoPower32 = 4294967296

/** MurmurHash3's 32-bit finaliser: a bijection on 32-bit integers with full avalanche. */
function mix32(value: number): number {
  let hash = value
  hash ^= hash >>> 16
  hash = Math.imul(hash, 0x85ebca6b)
  hash ^= hash >>> 13
  hash = Math.imul(hash, 0xc2b2ae35)
  hash ^= hash >>> 16
  return hash >>> 0
}

/**
 * A deterministic pseudo-random float in `[0, 1)` for the pair (`seed`, `index`): the same pair
 * always gives the same number, in every process and after every restore, which is what makes a
 * {@link datagenSource} generator a pure function of the record index.
 *
 * It is a hash, not a stream: there is no state to checkpoint and records may be generated in any
 * order. `seed` is used as a 32-bit integer (`seed | 0`); `index` may be any non-negative safe
 * integer. For one seed, the first 2^32 indexes give 2^32 distinct values (the mixing is a bijection);
 * the resolution is 2^-32. Not for cryptography.
 */
export function seededRandom(seed: number, index: number): number {
  const low = index >>> 0
  const high = Math.floor(index / twoPower32) >>> 0
  const seeded = mix32(Math.imul(seed | 0, 0x9e3779b1) ^ 0x5bd1e995)
  const hash = mix32(mix32(seeded ^ low) ^ Math.imul(high, 0x27d4eb2f))
  return hash / twoPower32
}

/**
 * A deterministic pseudo-random integer in `[min, max]` (both inclusive) for (`seed`, `index`), as
 * {@link seededRandom}. `min` and `max` must be safe integers with `max - min < 2^32`.
 */
export function seededInt(seed: number, index: number, min: number, max: number): number {
  if (!Number.isSafeInteger(min) || !Number.isSafeInteger(max) || max < min || max - min >= twoPower32) {
    throw new ConfigError(
      'seededInt',
      `expected safe integers with min ≤ max and max - min < 2^32, got min ${describeValue(min)}, max ${describeValue(max)}`,
    )
  }
  return min + Math.floor(seededRandom(seed, index) * (max - min + 1))
}
