import { MAX_WATERMARK, MIN_WATERMARK } from './stream-element.js'

/**
 * The watermark alignment groups of one job execution: what Flink splits between the
 * `SourceCoordinator` (aggregating the watermarks the source subtasks report, announcing the group's
 * maximum allowed watermark) and `SourceOperator#checkWatermarkAlignment` (pausing a subtask that is
 * ahead of it), FLIP-182.
 *
 * Every task of a job runs in this process and on one event loop, so there are no events and no
 * update interval: a subtask reports each change of its watermark or idleness synchronously, the
 * group's minimum is recomputed at once and the members it holds back or releases are told right
 * away. A new execution (a restart) gets a new registry: watermarks are not checkpointed, as in Flink.
 */
export class WatermarkAlignmentRegistry {
  private readonly groups = new Map<string, AlignmentGroup>()

  /**
   * Registers one source subtask in `group`. `clock` is the task's processing-time clock, used to
   * measure how long the member was paused (see {@link WatermarkAlignmentMember.inputActivityTime}).
   */
  join(group: string, maxAllowedDrift: number, clock: () => number): WatermarkAlignmentMember {
    let entry = this.groups.get(group)
    if (entry === undefined) {
      entry = new AlignmentGroup()
      this.groups.set(group, entry)
    }
    return entry.add(maxAllowedDrift, clock)
  }

  /** The group's minimum watermark over the members that count; `MAX_WATERMARK` when none does. */
  combinedWatermark(group: string): number | undefined {
    return this.groups.get(group)?.combined
  }
}

class AlignmentGroup {
  readonly members: WatermarkAlignmentMember[] = []
  /** The minimum over the members that count (Flink's `WatermarkAggregator`); MAX when none counts. */
  combined = MAX_WATERMARK

  add(maxAllowedDrift: number, clock: () => number): WatermarkAlignmentMember {
    const member = new WatermarkAlignmentMember(this, maxAllowedDrift, clock)
    this.members.push(member)
    return member
  }

  remove(member: WatermarkAlignmentMember): void {
    const index = this.members.indexOf(member)
    if (index !== -1) this.members.splice(index, 1)
    this.update()
  }

  /** Recomputes the minimum, then lets every member pause or resume against its limit. */
  update(): void {
    let minimum = MAX_WATERMARK
    for (const member of this.members) {
      if (member.counts && member.watermark < minimum) minimum = member.watermark
    }
    this.combined = minimum
    for (const member of this.members) member.align(minimum)
  }
}

/**
 * One source subtask in an alignment group. The source operator reports its effective watermark and
 * idleness through {@link update} (synchronously, from its own task loop); while {@link paused} it does
 * not poll its reader and waits on {@link released}.
 */
export class WatermarkAlignmentMember {
  /** The subtask's watermark as last reported: MIN before the first one, MAX once its input ended. */
  watermark = MIN_WATERMARK
  idle = false
  /** `combined + maxAllowedDrift` as of the last change in the group (Flink's max desired watermark). */
  maxAllowedWatermark = MAX_WATERMARK
  /**
   * Called after each change of the group (from the task loop of whichever subtask reported it), so
   * that the source can pause or resume single splits against the new {@link maxAllowedWatermark}.
   */
  onAlign: (() => void) | undefined
  private waiter: { promise: Promise<void>; resolve: () => void } | undefined
  private pausedSince = 0
  private pausedTotal = 0

  constructor(
    private readonly group: AlignmentGroup,
    readonly maxAllowedDrift: number,
    private readonly clock: () => number,
  ) {}

  /**
   * Whether this member holds the group back. Flink's rules: a subtask that has not reported a
   * watermark yet is not counted, an idle one reports MAX, and so does one whose input has ended.
   */
  get counts(): boolean {
    return !this.idle && this.watermark !== MIN_WATERMARK && this.watermark !== MAX_WATERMARK
  }

  /** Held back: the subtask's watermark is above `maxAllowedWatermark`. */
  get paused(): boolean {
    return this.waiter !== undefined
  }

  /** The subtask's effective watermark or idleness changed (Flink's `WatermarkUpdateListener`). */
  update(watermark: number, idle: boolean): void {
    if (watermark === this.watermark && idle === this.idle) return
    this.watermark = watermark
    this.idle = idle
    this.group.update()
  }

  /** Resolves once the member is no longer paused (at once when it is not). */
  released(): Promise<void> {
    return this.waiter?.promise ?? Promise.resolve()
  }

  /**
   * The clock minus the time spent paused: an idleness timeout measured on it does not run while the
   * subtask is held back (Flink pauses the input activity clock for the same reason).
   */
  inputActivityTime(): number {
    const now = this.clock()
    return now - this.pausedTotal - (this.waiter === undefined ? 0 : now - this.pausedSince)
  }

  /** Leaves the group (the operator closes): it holds nobody back and is released itself. */
  leave(): void {
    this.watermark = MAX_WATERMARK
    this.group.remove(this)
    this.resume()
  }

  /** @internal Called by the group after each change, with the group's minimum. */
  align(combined: number): void {
    // Infinity + drift stays Infinity: with nobody counted, nobody waits.
    this.maxAllowedWatermark = combined + this.maxAllowedDrift
    // A member whose input ended has nothing left to hold back.
    if (this.watermark > this.maxAllowedWatermark && this.watermark !== MAX_WATERMARK) this.pause()
    else this.resume()
    this.onAlign?.()
  }

  private pause(): void {
    if (this.waiter !== undefined) return
    let resolve!: () => void
    const promise = new Promise<void>((r) => {
      resolve = r
    })
    this.waiter = { promise, resolve }
    this.pausedSince = this.clock()
  }

  private resume(): void {
    const waiter = this.waiter
    if (waiter === undefined) return
    this.waiter = undefined
    this.pausedTotal += this.clock() - this.pausedSince
    waiter.resolve()
  }
}
