/**
 * A finite or infinite span of (event or processing) time that groups elements: Flink's `Window`.
 * Sluice has the two windows Flink's assigners use, {@link TimeWindow} and {@link GlobalWindow}; a
 * custom assigner returns one of them.
 */
export abstract class Window {
  /** The largest timestamp that still belongs to this window; results of the window carry it. */
  abstract maxTimestamp(): number
}
