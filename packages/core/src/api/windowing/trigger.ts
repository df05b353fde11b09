import { IllegalStateError } from '../../errors.js'
import type {
  AggregatingState,
  AggregatingStateDescriptor,
  ListState,
  ListStateDescriptor,
  MapState,
  MapStateDescriptor,
  ReducingState,
  ReducingStateDescriptor,
  ValueState,
  ValueStateDescriptor,
} from '../state.js'
import type { Window } from './window.js'

/** What a trigger decided (Flink's `TriggerResult`): whether to evaluate the window and whether to purge its contents. */
export class TriggerResult {
  /** Nothing happens. */
  static readonly CONTINUE = new TriggerResult('CONTINUE', false, false)
  /** Evaluate the window function and emit the result; the contents stay. */
  static readonly FIRE = new TriggerResult('FIRE', true, false)
  /** Drop the window's contents (its metadata and the trigger's state stay). */
  static readonly PURGE = new TriggerResult('PURGE', false, true)
  static readonly FIRE_AND_PURGE = new TriggerResult('FIRE_AND_PURGE', true, true)

  private constructor(
    readonly name: 'CONTINUE' | 'FIRE' | 'PURGE' | 'FIRE_AND_PURGE',
    private readonly fire: boolean,
    private readonly purge: boolean,
  ) {}

  isFire(): boolean {
    return this.fire
  }

  isPurge(): boolean {
    return this.purge
  }

  toString(): string {
    return this.name
  }
}

/**
 * What a trigger may do while it handles one window of one key (Flink's `Trigger.TriggerContext`).
 * Timers and partitioned state belong to that (key, window); a timer fires `onEventTime` /
 * `onProcessingTime` of the trigger with the same key and window, once.
 */
export interface TriggerContext {
  getCurrentProcessingTime(): number
  getCurrentWatermark(): number
  registerProcessingTimeTimer(time: number): void
  registerEventTimeTimer(time: number): void
  deleteProcessingTimeTimer(time: number): void
  deleteEventTimeTimer(time: number): void
  /** State of this key and window; part of checkpoints, cleared by the trigger in `clear`. */
  getPartitionedState<T>(descriptor: ValueStateDescriptor<T>): ValueState<T>
  getPartitionedState<T>(descriptor: ListStateDescriptor<T>): ListState<T>
  getPartitionedState<T>(descriptor: ReducingStateDescriptor<T>): ReducingState<T>
  getPartitionedState<In, Acc, Out>(descriptor: AggregatingStateDescriptor<In, Acc, Out>): AggregatingState<In, Out>
  getPartitionedState<K, V>(descriptor: MapStateDescriptor<K, V>): MapState<K, V>
}

/** The context of {@link Trigger.onMerge}: it can fold the merged windows' state into the result window's. */
export interface OnMergeContext extends TriggerContext {
  /** Merges the state of `descriptor` of every merged window into the state of the merge result. */
  mergePartitionedState(
    // biome-ignore lint/suspicious/noExplicitAny: any mergeable descriptor
    descriptor: ReducingStateDescriptor<any> | AggregatingStateDescriptor<any, any, any> | ListStateDescriptor<any>,
  ): void
}

/**
 * Decides when a window is evaluated and purged: Flink's `Trigger`.
 *
 * Called by the window operator's task only, never concurrently, with the element's key current:
 * - `onElement` for every element added to a window;
 * - `onEventTime` / `onProcessingTime` when a timer it registered for the window fires;
 * - `onMerge` (only if `canMerge()`) when session windows merged into `window`;
 * - `clear` when the window is purged for good (its cleanup time passed): delete timers and state here.
 * A trigger object is shared by all keys and windows of all subtasks: keep state in partitioned state,
 * never in fields.
 */
export abstract class Trigger<T, W extends Window> {
  abstract onElement(element: T, timestamp: number | undefined, window: W, context: TriggerContext): TriggerResult
  abstract onProcessingTime(time: number, window: W, context: TriggerContext): TriggerResult
  abstract onEventTime(time: number, window: W, context: TriggerContext): TriggerResult

  /** Whether the trigger supports merging windows (required with session windows). */
  canMerge(): boolean {
    return false
  }

  onMerge(_window: W, _context: OnMergeContext): void {
    throw new IllegalStateError(`${this.toString()} does not support merging windows`)
  }

  abstract clear(window: W, context: TriggerContext): void

  toString(): string {
    return this.constructor.name
  }
}
