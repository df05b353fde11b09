/**
 * Limits the rate of one reader without a timer per record: the reader takes as many tokens as it
 * may emit now (up to a batch), and when there are none it asks how long to sleep until the next one.
 *
 * Tokens accrue continuously at `ratePerSecond` up to `capacity`, so after an idle period (e.g. back
 * pressure) the reader may catch up by at most `capacity` records at once. The bucket starts with one
 * token, so the first record is not delayed. Used by one reader's loop only.
 */
export class TokenBucket {
  private readonly ratePerMillisecond: number
  private readonly capacity: number
  private readonly now: () => number
  private tokens: number
  private refilledAt: number

  constructor(ratePerSecond: number, capacity: number, now: () => number = () => performance.now()) {
    this.ratePerMillisecond = ratePerSecond / 1000
    this.capacity = Math.max(1, capacity)
    this.now = now
    this.tokens = 1
    this.refilledAt = now()
  }

  /** Takes up to `wanted` whole tokens that are available now and returns how many it took. */
  take(wanted: number): number {
    this.refill()
    const taken = Math.min(wanted, Math.floor(this.tokens))
    this.tokens -= taken
    return taken
  }

  /** Returns tokens that were taken but not used (the split ran out before the batch was full). */
  giveBack(count: number): void {
    this.tokens = Math.min(this.capacity, this.tokens + count)
  }

  /** Milliseconds until at least one whole token is available; 0 if one is available now. */
  millisecondsUntilAvailable(): number {
    this.refill()
    return this.tokens >= 1 ? 0 : (1 - this.tokens) / this.ratePerMillisecond
  }

  private refill(): void {
    const now = this.now()
    const elapsed = now - this.refilledAt
    if (elapsed > 0) {
      this.tokens = Math.min(this.capacity, this.tokens + elapsed * this.ratePerMillisecond)
      this.refilledAt = now
    }
  }
}
