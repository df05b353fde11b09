/**
 * Wakes a task loop. The loop reads `epoch` before it looks for work and then calls
 * `waitSince(epoch)`: a signal sent in between (the epoch moved) makes the wait return at once, so a
 * wake-up is never lost, however many promises raced for it.
 */
export class Notifier {
  private current = 0
  private waiter: Promise<void> | undefined
  private resolveWaiter: (() => void) | undefined

  get epoch(): number {
    return this.current
  }

  signal(): void {
    this.current++
    const resolve = this.resolveWaiter
    this.waiter = undefined
    this.resolveWaiter = undefined
    resolve?.()
  }

  waitSince(epoch: number): Promise<void> {
    if (epoch !== this.current) return Promise.resolve()
    this.waiter ??= new Promise((resolve) => {
      this.resolveWaiter = resolve
    })
    return this.waiter
  }
}
