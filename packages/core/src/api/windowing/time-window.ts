import { Window } from './window.js'

/** What {@link TimeWindow.mergeWindows} reports: `toBeMerged` (two or more windows) become `mergeResult`. */
export interface MergeCallback<W> {
  merge(toBeMerged: W[], mergeResult: W): void
}

/**
 * The window `[start, end)` of time (Flink's `TimeWindow`): `start` inclusive, `end` exclusive, so
 * `maxTimestamp()` is `end - 1`. Immutable; compared by value with `equals`.
 */
export class TimeWindow extends Window {
  constructor(
    readonly start: number,
    readonly end: number,
  ) {
    super()
  }

  static of(start: number, end: number): TimeWindow {
    return new TimeWindow(start, end)
  }

  getStart(): number {
    return this.start
  }

  getEnd(): number {
    return this.end
  }

  maxTimestamp(): number {
    return this.end - 1
  }

  /** Whether the windows overlap or touch (`[0,5)` and `[5,10)` intersect): sessions merge then. */
  intersects(other: TimeWindow): boolean {
    return this.start <= other.end && this.end >= other.start
  }

  /** The smallest window containing both. */
  cover(other: TimeWindow): TimeWindow {
    return new TimeWindow(Math.min(this.start, other.start), Math.max(this.end, other.end))
  }

  equals(other: unknown): boolean {
    return other instanceof TimeWindow && other.start === this.start && other.end === this.end
  }

  override toString(): string {
    return `TimeWindow{start=${this.start}, end=${this.end}}`
  }

  /**
   * The start of the window of size `windowSize` (aligned to `offset`) that contains `timestamp`, for
   * positive and negative timestamps alike: `floor((timestamp - offset) / windowSize) * windowSize + offset`
   * (Flink's `TimeWindow.getWindowStartWithOffset`).
   */
  static getWindowStartWithOffset(timestamp: number, offset: number, windowSize: number): number {
    // `%` truncates toward zero like Java's, so a negative remainder is moved into [0, windowSize).
    const remainder = (timestamp - offset) % windowSize
    return remainder < 0 ? timestamp - (remainder + windowSize) : timestamp - remainder
  }

  /**
   * Merges overlapping or touching windows (Flink's `TimeWindow.mergeWindows`): sorted by start, each
   * run of intersecting windows is covered by one window; runs of two or more distinct windows are
   * reported to `callback`, in order of their start.
   */
  static mergeWindows(windows: readonly TimeWindow[], callback: MergeCallback<TimeWindow>): void {
    // Array.prototype.sort is stable, like Java's Collections.sort.
    const sorted = [...windows].sort((a, b) => a.start - b.start)
    let current: { cover: TimeWindow; members: TimeWindow[] } | undefined
    const runs: { cover: TimeWindow; members: TimeWindow[] }[] = []
    for (const candidate of sorted) {
      if (current === undefined) {
        current = { cover: candidate, members: [candidate] }
      } else if (current.cover.intersects(candidate)) {
        current.cover = current.cover.cover(candidate)
        // A set, as in Flink: an equal window is not a second member.
        if (!current.members.some((member) => member.equals(candidate))) current.members.push(candidate)
      } else {
        runs.push(current)
        current = { cover: candidate, members: [candidate] }
      }
    }
    if (current !== undefined) runs.push(current)
    for (const run of runs) {
      if (run.members.length > 1) callback.merge(run.members, run.cover)
    }
  }
}
