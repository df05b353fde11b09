import { SerializationError, UnsupportedVersionError } from '../errors.js'
import type { StateKind, StoredEntry } from './abstract-heap-state.js'
import { decodeValue, encodeValue } from './codec.js'

/**
 * The checkpointed keyed state of one key group of one operator: the entries of all its states and
 * both timer queues, for the keys of that group. The unit in which keyed state is redistributed when
 * the parallelism changes: each snapshot goes to the subtask whose key-group range contains `keyGroup`.
 */
export interface KeyGroupSnapshot {
  readonly keyGroup: number
  readonly bytes: Uint8Array
}

/**
 * The layout version written in the first byte of every key-group snapshot. Raise it on any change to
 * {@link KeyGroupContents} or to the stored entries, and keep reading the older layouts.
 *
 * Layout 1: one version byte, then one CBOR map `{ states, eventTimers, processingTimers }` (see
 * {@link KeyGroupContents}).
 */
export const KEY_GROUP_SNAPSHOT_VERSION = 1

/** One state's entries in one key group. */
export interface StoredState {
  readonly name: string
  readonly kind: StateKind
  /**
   * The version of the descriptor serializer that wrote the values, or 0 when they were written by the
   * CBOR codec (then they are inline in the CBOR of the key group, not nested byte strings).
   */
  readonly serializerVersion: number
  /** Whether each entry carries its TTL timestamp (the state had a TTL when it was checkpointed). */
  readonly ttl: boolean
  /** `[key, payload]` or `[key, payload, timestamp]` per key; the payload's shape depends on `kind`. */
  readonly entries: StoredEntry[]
}

/** What a key-group snapshot holds. Timers are flat `key, timestamp` pairs in firing order. */
export interface KeyGroupContents {
  readonly states: StoredState[]
  readonly eventTimers: unknown[]
  readonly processingTimers: unknown[]
}

const STATE_KINDS: ReadonlySet<string> = new Set<StateKind>(['value', 'list', 'map', 'reducing', 'aggregating'])

/**
 * Encodes one key group's contents with the current layout. Values must already be in their stored
 * form (serializer bytes, or values the codec can encode).
 *
 * @throws SerializationError when the codec cannot encode a value.
 */
export function writeKeyGroupSnapshot(keyGroup: number, contents: KeyGroupContents): KeyGroupSnapshot {
  const body = encodeValue(contents)
  const bytes = new Uint8Array(body.byteLength + 1)
  bytes[0] = KEY_GROUP_SNAPSHOT_VERSION
  bytes.set(body, 1)
  return { keyGroup, bytes }
}

/**
 * Decodes one key-group snapshot and checks its shape.
 *
 * @param owner names the restoring operator subtask in error messages.
 * @throws UnsupportedVersionError for a layout newer than {@link KEY_GROUP_SNAPSHOT_VERSION}.
 * @throws SerializationError for bytes that are not a key-group snapshot.
 */
export function readKeyGroupSnapshot(snapshot: KeyGroupSnapshot, owner: string): KeyGroupContents {
  const what = `keyed state of key group ${snapshot.keyGroup} for ${owner}`
  const bytes = snapshot.bytes
  if (!(bytes instanceof Uint8Array) || bytes.byteLength === 0) {
    throw new SerializationError(what, 'the snapshot is empty or not a Uint8Array')
  }
  const version = bytes[0] as number
  if (version > KEY_GROUP_SNAPSHOT_VERSION) {
    throw new UnsupportedVersionError(`keyed state snapshot of key group ${snapshot.keyGroup}`, version, KEY_GROUP_SNAPSHOT_VERSION, owner)
  }
  if (version < 1) throw new SerializationError(what, `invalid layout version ${version}`)
  let decoded: unknown
  try {
    decoded = decodeValue(bytes.subarray(1))
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error)
    throw new SerializationError(what, `cannot decode: ${reason}`, { cause: error })
  }
  return checkContents(decoded, what)
}

function checkContents(decoded: unknown, what: string): KeyGroupContents {
  const malformed = (detail: string) => new SerializationError(what, `malformed snapshot: ${detail}`)
  if (typeof decoded !== 'object' || decoded === null) throw malformed('expected a map at the top level')
  const { states, eventTimers, processingTimers } = decoded as Record<string, unknown>
  if (!Array.isArray(states)) throw malformed('`states` is not a list')
  if (!Array.isArray(eventTimers) || eventTimers.length % 2 !== 0) throw malformed('`eventTimers` is not a list of key, timestamp pairs')
  if (!Array.isArray(processingTimers) || processingTimers.length % 2 !== 0) {
    throw malformed('`processingTimers` is not a list of key, timestamp pairs')
  }
  for (const state of states as unknown[]) {
    if (typeof state !== 'object' || state === null) throw malformed('a state record is not a map')
    const { name, kind, serializerVersion, ttl, entries } = state as Record<string, unknown>
    if (typeof name !== 'string') throw malformed('a state has no name')
    if (typeof kind !== 'string' || !STATE_KINDS.has(kind)) throw malformed(`state '${name}' has unknown kind '${String(kind)}'`)
    if (typeof serializerVersion !== 'number' || !Number.isInteger(serializerVersion) || serializerVersion < 0) {
      throw malformed(`state '${name}' has an invalid serializer version`)
    }
    if (typeof ttl !== 'boolean') throw malformed(`state '${name}' has no ttl flag`)
    if (!Array.isArray(entries) || !entries.every((entry) => Array.isArray(entry) && entry.length >= 2)) {
      throw malformed(`state '${name}' has malformed entries`)
    }
  }
  return { states: states as StoredState[], eventTimers, processingTimers }
}
