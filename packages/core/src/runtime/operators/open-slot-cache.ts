import type { Key } from '../../api/state.js'
import { normalizeKey, type NormalizedKey } from '../../state/key-groups.js'
import type { Slot } from './window-state.js'

/** Keys below this that are non-negative integers are kept in an array: one load instead of a hash lookup. */
const denseKeyLimit = 1 << 16

/**
 * The window operator's tumbling fast path: each key's last window slot, found without making the key
 * current or reading its keyed state. Only a cache of what the key's state says (`lastSlot` of its
 * {@link WindowKeyState}), so the operator drops a key's entry whenever that key's slots may be
 * removed (its timers fire) and sets it again after each element it handles the slow way; a restore
 * starts from an empty cache.
 *
 * Owned by one window operator and used by its task only.
 */
export class OpenSlotCache {
  /** Slots of keys that are integers in `[0, denseKeyLimit)`, by key. */
  private dense: (Slot | undefined)[] = []
  /** Slots of every other key, by normalized key. */
  private readonly sparse = new Map<NormalizedKey, Slot>()

  get(key: Key): Slot | undefined {
    if (typeof key === 'number' && key >>> 0 === key && key < denseKeyLimit) return this.dense[key]
    return this.sparse.get(normalizeKey(key))
  }

  /** Remembers the key's last slot, or forgets the key when it has none. */
  set(key: Key, slot: Slot | undefined): void {
    if (typeof key === 'number' && key >>> 0 === key && key < denseKeyLimit) {
      if (slot !== undefined || key < this.dense.length) this.dense[key] = slot
      return
    }
    if (slot === undefined) this.sparse.delete(normalizeKey(key))
    else this.sparse.set(normalizeKey(key), slot)
  }

  clear(): void {
    this.dense = []
    this.sparse.clear()
  }
}
