/**
 * Key groups: Flink's unit of keyed-state redistribution.
 *
 * Every key belongs to one of `maxParallelism` key groups (a hash of the key modulo `maxParallelism`),
 * and every parallel subtask owns one contiguous range of key groups. Keyed state is checkpointed per
 * key group, so after a change of parallelism each new subtask reads exactly the key groups of its new
 * range, and the hash partitioner routes each record to the subtask that owns its key's group. Both
 * sides use these functions; they are pure and the hash is stable across processes, Node versions and
 * releases (the checkpoints depend on it).
 *
 * The range and index formulas are Flink's `KeyGroupRangeAssignment`, so a Flink user can reason about
 * Sluice's placement the same way.
 */
import type { Key } from '../api/state.js'
import { ConfigError, IllegalStateError } from '../errors.js'
import { finalMix, Murmur3Hasher, mixBlock } from './murmur-hash3.js'

/** The largest allowed `maxParallelism`, as in Flink (2^15): key groups are numbered in 15 bits. */
export const UPPER_BOUND_MAX_PARALLELISM = 32768

/** A contiguous range of key groups, both ends inclusive. */
export interface KeyGroupRange {
  readonly start: number
  readonly end: number
}

/** A key turned into a value that a JavaScript `Map` compares by value (see {@link normalizeKey}). */
export type NormalizedKey = string | number | bigint | boolean

/*
 * Type tags of the canonical byte form that `hashKey` hashes. They are part of the checkpoint format:
 * never change them, only add new ones.
 */
const STRING_TAG = 0x01
const NUMBER_TAG = 0x02
const BIGINT_TAG = 0x03
const BOOLEAN_TAG = 0x04
const COMPOSITE_TAG = 0x05

// Hashing is synchronous and never calls user code, so module-wide hashers are safe; composite keys use
// a second one because their element hashes are computed while the outer hash is in progress.
let primitiveHasher: Murmur3Hasher | undefined
let compositeHasher: Murmur3Hasher | undefined

/**
 * A stable 32-bit hash of a key (unsigned): MurmurHash3 x86_32, seed 0, over the key's canonical bytes:
 * - string: tag 0x01, then its UTF-8 bytes;
 * - number: tag 0x02, then the IEEE 754 double, big-endian (`-0` hashes as `0`, every NaN as the same NaN);
 * - bigint: tag 0x03, then its decimal digits (with a leading `-` when negative) in ASCII;
 * - boolean: tag 0x04, then 0x01 or 0x00;
 * - array (composite key): tag 0x05, the element count and each element's hash, as big-endian uint32s.
 *
 * The type tag keeps `1`, `'1'`, `1n` and `[1]` apart. Does not allocate for string, number and boolean keys.
 *
 * @throws IllegalStateError for a value that is not a {@link Key}.
 */
export function hashKey(key: Key): number {
  if (typeof key === 'object' && key !== null && Array.isArray(key)) {
    compositeHasher ??= new Murmur3Hasher()
    const hasher = compositeHasher
    hasher.reset(0)
    hasher.writeByte(COMPOSITE_TAG)
    hasher.writeUint32(key.length)
    for (let index = 0; index < key.length; index++) {
      const element = key[index]
      const elementType = typeof element
      if (elementType !== 'string' && elementType !== 'number' && elementType !== 'bigint' && elementType !== 'boolean') {
        throw unsupportedKey(key)
      }
      hasher.writeUint32(hashPrimitive(element as string | number | bigint | boolean))
    }
    return hasher.digest()
  }
  return hashPrimitive(key as string | number | bigint | boolean)
}

function hashPrimitive(key: string | number | bigint | boolean): number {
  primitiveHasher ??= new Murmur3Hasher()
  const hasher = primitiveHasher
  hasher.reset(0)
  switch (typeof key) {
    case 'string':
      hasher.writeByte(STRING_TAG)
      hasher.writeString(key)
      break
    case 'number':
      hasher.writeByte(NUMBER_TAG)
      // `key === 0` holds for -0 too; every NaN hashes as the one canonical NaN.
      hasher.writeFloat64(key === 0 ? 0 : Number.isNaN(key) ? Number.NaN : key)
      break
    case 'bigint':
      hasher.writeByte(BIGINT_TAG)
      hasher.writeString(key.toString())
      break
    case 'boolean':
      hasher.writeByte(BOOLEAN_TAG)
      hasher.writeByte(key ? 1 : 0)
      break
    default:
      throw unsupportedKey(key)
  }
  return hasher.digest()
}

/**
 * Flink's `MathUtils.murmurHash(int)`: spreads a key hash once more and makes it non-negative. Kept
 * even though {@link hashKey} is already a MurmurHash, so the key-group assignment is Flink's formula.
 */
function spreadHash(hash: number): number {
  const mixed = finalMix(mixBlock(0, hash) ^ 4)
  if (mixed >= 0) return mixed
  return mixed === -2147483648 ? 0 : -mixed
}

/** The key group of a key: Flink's `computeKeyGroupForKeyHash(hash(key), maxParallelism)`. */
export function assignToKeyGroup(key: Key, maxParallelism: number): number {
  checkMaxParallelism(maxParallelism)
  return spreadHash(hashKey(key)) % maxParallelism
}

/**
 * The key groups one subtask owns: Flink's `computeKeyGroupRangeForOperatorIndex`. The ranges of the
 * subtasks `0 .. parallelism-1` are disjoint, contiguous and cover `0 .. maxParallelism-1`.
 */
export function keyGroupRangeForSubtask(maxParallelism: number, parallelism: number, subtaskIndex: number): KeyGroupRange {
  checkParallelism(maxParallelism, parallelism)
  if (!Number.isInteger(subtaskIndex) || subtaskIndex < 0 || subtaskIndex >= parallelism) {
    throw new IllegalStateError(`subtask index ${subtaskIndex} is outside 0..${parallelism - 1} (parallelism ${parallelism})`)
  }
  return {
    start: Math.floor((subtaskIndex * maxParallelism + parallelism - 1) / parallelism),
    end: Math.floor(((subtaskIndex + 1) * maxParallelism - 1) / parallelism),
  }
}

/** The subtask that owns a key group: Flink's `computeOperatorIndexForKeyGroup`. */
export function operatorIndexForKeyGroup(maxParallelism: number, parallelism: number, keyGroup: number): number {
  checkParallelism(maxParallelism, parallelism)
  if (!Number.isInteger(keyGroup) || keyGroup < 0 || keyGroup >= maxParallelism) {
    throw new IllegalStateError(`key group ${keyGroup} is outside 0..${maxParallelism - 1} (maxParallelism ${maxParallelism})`)
  }
  return Math.floor((keyGroup * parallelism) / maxParallelism)
}

/**
 * The subtask that processes a key: what the hash partitioner calls once per record of a keyed edge.
 * Allocation-free for string, number and boolean keys.
 */
export function subtaskForKey(key: Key, maxParallelism: number, parallelism: number): number {
  checkParallelism(maxParallelism, parallelism)
  const keyGroup = spreadHash(hashKey(key)) % maxParallelism
  return Math.floor((keyGroup * parallelism) / maxParallelism)
}

/** Whether a range contains a key group. */
export function keyGroupRangeContains(range: KeyGroupRange, keyGroup: number): boolean {
  return keyGroup >= range.start && keyGroup <= range.end
}

/**
 * A key as a value that a JavaScript `Map` compares by value: strings, booleans and bigints as
 * themselves, numbers with `-0` as `0` (NaN stays NaN, which `Map` matches), and composite keys as a
 * canonical string. That string starts with U+0000 and tags every element with its type and, for
 * strings, its length, so two different composite keys never give the same string, `['1']` and `[1]`
 * differ, and no string key that does not itself start with U+0000 can equal it.
 *
 * @throws IllegalStateError for a value that is not a {@link Key}.
 */
export function normalizeKey(key: Key): NormalizedKey {
  switch (typeof key) {
    case 'string':
    case 'bigint':
    case 'boolean':
      return key
    case 'number':
      return key === 0 ? 0 : key
    default:
      if (key !== null && Array.isArray(key)) return compositeKeyString(key)
      throw unsupportedKey(key)
  }
}

function compositeKeyString(key: readonly unknown[]): string {
  let result = '\u0000'
  for (let index = 0; index < key.length; index++) {
    const element = key[index]
    switch (typeof element) {
      case 'string':
        result += `s${element.length}:${element}`
        break
      case 'number':
        // String(-0) is '0'; String(x) of a double is its shortest round-trip form, so it is unique.
        result += `n${element};`
        break
      case 'bigint':
        result += `b${element};`
        break
      case 'boolean':
        result += element ? 't' : 'f'
        break
      default:
        throw unsupportedKey(key)
    }
  }
  return result
}

function unsupportedKey(key: unknown): IllegalStateError {
  const described = key === null ? 'null' : Array.isArray(key) ? 'an array with an element that is not a primitive' : typeof key
  return new IllegalStateError(
    `unsupported key: got ${described}; a key must be a string, number, bigint, boolean or an array of those (a composite key)`,
  )
}

/** Validates `maxParallelism` (an integer in 1..32768); the error names the option. */
export function validateMaxParallelism(maxParallelism: number): void {
  checkMaxParallelism(maxParallelism)
}

function checkMaxParallelism(maxParallelism: number): void {
  if (!(Number.isInteger(maxParallelism) && maxParallelism >= 1 && maxParallelism <= UPPER_BOUND_MAX_PARALLELISM)) {
    throw new ConfigError('maxParallelism', `expected an integer in 1..${UPPER_BOUND_MAX_PARALLELISM}, got ${maxParallelism}`)
  }
}

function checkParallelism(maxParallelism: number, parallelism: number): void {
  checkMaxParallelism(maxParallelism)
  if (!(Number.isInteger(parallelism) && parallelism >= 1 && parallelism <= maxParallelism)) {
    throw new ConfigError(
      'parallelism',
      `expected an integer in 1..maxParallelism (${maxParallelism}), got ${parallelism}; raise maxParallelism or lower the parallelism`,
    )
  }
}

/** Keys below this that are non-negative integers can be found through an array instead of a hash lookup. */
export const denseKeyLimit = 1 << 16

/**
 * Whether `key` is a non-negative integer below {@link denseKeyLimit}: then it is its own normalized key
 * (-0 included, it indexes 0) and can index an array. Used by keyed state and the window operator's
 * open-window cache for the most common keys (ids, counters).
 */
export function isDenseKey(key: unknown): key is number {
  return typeof key === 'number' && key >>> 0 === key && key < denseKeyLimit
}
