/**
 * Where a {@link WatermarkGenerator} puts its watermarks (Flink's `WatermarkOutput`).
 *
 * Watermarks only move forward: emitting one that is not above the last is a no-op. `markIdle` says
 * the input will not produce records for a while, so it must not hold back the watermark of the
 * operators downstream; emitting a watermark (or `markActive`) makes it active again.
 */
export interface WatermarkOutput {
  /** No record with a timestamp ≤ `timestamp` is expected any more from this input. */
  emitWatermark(timestamp: number): void
  markIdle(): void
  markActive(): void
}

/**
 * Makes watermarks from the events of one input (a source split, a source reader, or one subtask of
 * `assignTimestampsAndWatermarks`): Flink's `WatermarkGenerator`.
 *
 * Called by one task only, never concurrently: `onEvent` for every record, after the record was
 * emitted; `onPeriodicEmit` every `autoWatermarkInterval` ms of processing time (an environment option,
 * default 200; 0 turns periodic emission off). A *punctuated* generator emits in `onEvent`; a
 * *periodic* one remembers what it saw and emits in `onPeriodicEmit`.
 * Its state is not checkpointed: after a restore it starts again from no watermark, as in Flink.
 */
export interface WatermarkGenerator<T> {
  onEvent(event: T, eventTimestamp: number, output: WatermarkOutput): void
  onPeriodicEmit(output: WatermarkOutput): void
}

/**
 * Extracts the event timestamp (epoch ms) of a record. `recordTimestamp` is the timestamp the record
 * already carries (set by its source), `undefined` if it has none.
 */
export type TimestampAssigner<T> = (event: T, recordTimestamp: number | undefined) => number

/** What a generator factory gets: the processing-time clock of the task (ms), e.g. for idleness. */
export interface WatermarkGeneratorContext {
  currentProcessingTime(): number
  /**
   * A clock (ms) that runs like processing time except while the input is held back on purpose (a
   * source paused by watermark alignment), so that waiting is not taken for idleness (Flink's
   * `getInputActivityClock`). Absent where inputs are never held back: use `currentProcessingTime`.
   */
  inputActivityClock?(): number
}
