import type { Key } from '../api/state.js'
import type { NormalizedKey } from './key-groups.js'

/**
 * The key of the record (or timer) being processed, shared by a keyed state backend and all its state
 * objects: every state access reads or writes the entry of this key.
 *
 * Written by `HeapKeyedStateBackend.setCurrentKey` once per record, read on every state access, both
 * from the one task that owns the backend (never concurrently). Both fields are `undefined` until the
 * first key is set.
 */
export class KeyContext {
  /** The key as the key selector returned it; kept for `getCurrentKey`, timers and checkpoints. */
  key: Key | undefined = undefined
  /** The same key as a value-comparable `Map` key; what the state tables are indexed by. */
  normalizedKey: NormalizedKey | undefined = undefined
}
