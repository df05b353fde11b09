/** A promise that is already resolved: what `isAvailable()` returns when records can be polled now. */
export const availableNow: Promise<void> = Promise.resolve()

/**
 * The promise behind a reader's `isAvailable()` while it has nothing to emit: every caller of
 * {@link AvailabilityNotifier.wait} gets the same pending promise until {@link AvailabilityNotifier.notify}
 * resolves it, so a reader that is polled, found empty and awaited many times allocates one promise
 * per wake-up, not one per call.
 *
 * Used from one reader's callbacks only (socket events, timers, `addSplits`, `close`); `notify` with
 * nobody waiting does nothing, so readers may call it on every event.
 */
export class AvailabilityNotifier {
  private pending: { promise: Promise<void>; resolve: () => void } | undefined

  wait(): Promise<void> {
    if (this.pending === undefined) {
      let resolve!: () => void
      const promise = new Promise<void>((settle) => {
        resolve = settle
      })
      this.pending = { promise, resolve }
    }
    return this.pending.promise
  }

  notify(): void {
    const pending = this.pending
    if (pending === undefined) return
    this.pending = undefined
    pending.resolve()
  }
}
