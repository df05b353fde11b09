import type { Key } from '../../api/state.js'
import { isDenseKey, normalizeKey, type NormalizedKey } from '../../state/key-groups.js'
import type { Slot } from './window-state.js'

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
  /** Slots of the keys that can index an array ({@link isDenseKey}), by key. */
  private dense: (Slot | undefined)[] = []
  /** Slots of every other key, by normalized key. */
  private readonly sparse = new Map<NormalizedKey, Slot>()

  get(key: Key): Slot | undefined {
    if (isDenseKey(key)) return this.dense[key]
    return this.sparse.get(normalizeKey(key))
  }

  /** Remembers the key's last slot, or forgets the key when it has none. */
  set(key: Key, slot: Slot | undefined): void {
    if (isDenseKey(key)) {
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
