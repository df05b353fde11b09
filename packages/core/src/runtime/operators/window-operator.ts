import type { Collector, KeyedRuntimeContext, ReduceFunction } from '../../api/functions.js'
import {
  type AggregateFunction,
  type AggregatingState,
  type AggregatingStateDescriptor,
  type AnyStateDescriptor,
  type Key,
  type ListState,
  type ListStateDescriptor,
  type MapState,
  type ReducingState,
  type ReducingStateDescriptor,
  type ValueState,
  ValueStateDescriptor,
} from '../../api/state.js'
import { type Evictor, type EvictorContext, TimestampedValue } from '../../api/windowing/evictor.js'
import type { KeyedStateStore, ProcessWindowContext, ProcessWindowFunction } from '../../api/windowing/process-window-function.js'
import { EventTimeTrigger } from '../../api/windowing/event-time-trigger.js'
import { TimeWindow } from '../../api/windowing/time-window.js'
import { TumblingEventTimeWindows } from '../../api/windowing/tumbling-event-time-windows.js'
import type { OnMergeContext, Trigger, TriggerResult } from '../../api/windowing/trigger.js'
import type { Window } from '../../api/windowing/window.js'
import { isMergingWindowAssigner, type WindowAssigner, type WindowAssignerContext } from '../../api/windowing/window-assigner.js'
import { IllegalStateError } from '../../errors.js'
import type { TimeDomain } from '../../state/heap-keyed-state-backend.js'
import { AbstractStreamOperator, perSubtaskInstance } from '../abstract-stream-operator.js'
import type { Timestamps } from '../stream-element.js'
import type { OperatorSubtaskState } from '../stream-operator.js'
import { OpenSlotCache } from './open-slot-cache.js'
import {
  endOf,
  isEmptyWindowKeyState,
  mergingPut,
  mergingRemove,
  mergingStateWindow,
  newWindowKeyState,
  type Slot,
  startOf,
  tableDelete,
  tableGet,
  tableSet,
  tableTake,
  type WindowKeyState,
  type WindowTable,
  windowOf,
} from './window-state.js'

/** How a window keeps its contents: incrementally reduced or aggregated, or every element. */
export type WindowContents =
  | { readonly kind: 'reduce'; readonly reduce: ReduceFunction<unknown> }
  | { readonly kind: 'aggregate'; readonly aggregate: AggregateFunction<unknown, unknown, unknown> }
  | { readonly kind: 'list' }

/** Everything `WindowedStream` configured. */
export interface WindowOperatorSpec {
  readonly assigner: WindowAssigner<unknown, Window>
  readonly trigger: Trigger<unknown, Window>
  /** With an evictor every element is kept (as `[value, timestamp]`) and reduced/aggregated when the window fires. */
  readonly evictor: Evictor<unknown, Window> | undefined
  readonly allowedLateness: number
  /** Side output for elements dropped as late; without it they are counted in `numLateRecordsDropped`. */
  readonly lateDataTag: string | undefined
  readonly contents: WindowContents
  /** Evaluates the window; without it the reduced or aggregated value itself is emitted. */
  readonly windowFunction: ProcessWindowFunction<unknown, unknown, Key, Window> | undefined
}

type MergeFunction = (mergeResult: TimeWindow, mergedWindows: TimeWindow[], stateWindowResult: [number, number], mergedStateWindows: [number, number][]) => void

/**
 * Flink's `WindowOperator` and `EvictingWindowOperator`, rule for rule, on a keyed stream.
 *
 * Per element: the assigner gives its windows (with a merging assigner each is added to the merging
 * window set, which may merge it with in-flight windows of the key); a window whose cleanup time
 * (`maxTimestamp + allowedLateness`, event time) is at or before the current watermark is skipped;
 * otherwise the element is added to the window's contents, the trigger's `onElement` decides whether
 * to fire and/or purge, and a cleanup timer is registered. An element skipped by all its windows whose
 * `timestamp + allowedLateness <= watermark` goes to the late side output, or is dropped and counted.
 * Timers call the trigger's `onEventTime` / `onProcessingTime`; at the cleanup time all state of the
 * window is dropped. Results carry `window.maxTimestamp()` as timestamp.
 *
 * State: everything of one key is one value of keyed state (see window-state.ts), and the timers are
 * the backend's (key, timestamp) timers with the owning windows recorded in that value, so window
 * contents, trigger state, merging sets and pending timers are all in checkpoints, by key group.
 *
 * Called by its task only, never concurrently; records arrive in batches, with no promise per record.
 */
export class WindowOperator extends AbstractStreamOperator {
  /** Elements dropped because they were late and no late side output was set (Flink's metric). */
  numLateRecordsDropped = 0

  private state!: ValueState<WindowKeyState>
  private readonly assigner: WindowAssigner<unknown, Window>
  private readonly trigger: Trigger<unknown, Window>
  private readonly evictor: Evictor<unknown, Window> | undefined
  private readonly allowedLateness: number
  private readonly isEventTime: boolean
  private readonly merging: boolean
  private windowFunction: ProcessWindowFunction<unknown, unknown, Key, Window> | undefined
  private readonly triggerContext: WindowTriggerContext
  private processContext!: WindowProcessContext
  private evictorContext!: EvictorContext
  private assignerContext!: WindowAssignerContext
  private collector!: Collector<unknown>
  private emitTimestamp = 0
  /** The key's state while one element or timer is handled. */
  private current: WindowKeyState | undefined
  /**
   * The operator's watermark, read from the task once per batch, watermark and timer round (it cannot
   * change in between): the lateness checks of every element read it.
   */
  private watermark = Number.NEGATIVE_INFINITY
  /**
   * The default event-time trigger on windows that do not merge, without an evictor: its decisions are
   * made inline (same rules), and the slot of a window remembers that its timers are registered.
   */
  private readonly inlineEventTimeTrigger: boolean
  /** Tumbling event-time windows: the window is computed inline, without allocating per element. */
  private readonly tumbling: { size: number; offset: number } | undefined
  /** The windows whose timers are firing now (so that a deletion during the firing is honoured). */
  private firing: { domain: TimeDomain; timestamp: number; windows: number[] } | undefined
  private readonly partitionedStates = new Map<string, unknown>()
  /** Tumbling fast path: each key's last window slot (a cache of the keys' state, see OpenSlotCache). */
  private readonly openSlots = new OpenSlotCache()

  constructor(uid: string, name: string, keySelector: (value: unknown) => Key, private readonly spec: WindowOperatorSpec) {
    super(uid, name, keySelector)
    this.assigner = spec.assigner
    this.trigger = spec.trigger
    this.evictor = spec.evictor
    this.allowedLateness = spec.allowedLateness
    this.isEventTime = spec.assigner.isEventTime()
    this.merging = isMergingWindowAssigner(spec.assigner)
    this.windowFunction = spec.windowFunction
    this.triggerContext = new WindowTriggerContext(this)
    this.inlineEventTimeTrigger = spec.trigger === EventTimeTrigger.create() && !this.merging && spec.evictor === undefined
    this.tumbling =
      spec.assigner instanceof TumblingEventTimeWindows && this.inlineEventTimeTrigger ? { size: spec.assigner.size, offset: spec.assigner.offset } : undefined
  }

  protected override openFunction(): Promise<void> | void {
    const backend = this.requireBackend()
    this.state = backend.getState(new ValueStateDescriptor<WindowKeyState>('window-state'))
    const context = this.context
    const output = context.output
    this.collector = { collect: (value) => output.collect(value, this.emitTimestamp) }
    this.assignerContext = { getCurrentProcessingTime: () => context.processingTime.now() }
    this.evictorContext = {
      getCurrentProcessingTime: () => context.processingTime.now(),
      getCurrentWatermark: () => this.watermark,
    }
    this.processContext = new WindowProcessContext(this, this.merging)
    this.openSlots.clear()
    if (this.windowFunction !== undefined) {
      this.windowFunction = perSubtaskInstance(this.windowFunction)
      return this.windowFunction.open?.(this.keyedRuntimeContext())
    }
  }

  // ---------------------------------------------------------------- elements

  processBatch(values: unknown[], timestamps: Timestamps): void {
    const backend = this.requireBackend()
    const keySelector = this.keySelector as (value: unknown) => Key
    this.watermark = this.context.currentWatermark()
    if (this.tumbling !== undefined && timestamps !== null) {
      this.processTumblingBatch(values, timestamps, this.tumbling)
      return
    }
    for (let index = 0; index < values.length; index++) {
      const value = values[index]
      backend.setCurrentKey(keySelector(value))
      this.current = this.state.value()
      this.processElement(value, timestamps === null ? undefined : timestamps[index])
      this.releaseIfEmpty()
    }
  }

  /**
   * A batch for tumbling event-time windows with the default trigger. Nearly every element goes to
   * its key's last window, still open (its max timestamp, hence its cleanup time, above the watermark:
   * neither late nor firing at once) with its timers registered: then only the contents change, and
   * the slot comes from the {@link OpenSlotCache} without making the key current or reading its state.
   * Every other element takes `processTumbling` (or `processElement` without a timestamp).
   */
  private processTumblingBatch(values: unknown[], timestamps: (number | undefined)[], tumbling: { size: number; offset: number }): void {
    const backend = this.requireBackend()
    const keySelector = this.keySelector as (value: unknown) => Key
    const openSlots = this.openSlots
    const watermark = this.watermark
    const size = tumbling.size
    const contents = this.spec.contents
    for (let index = 0; index < values.length; index++) {
      const value = values[index]
      const key = keySelector(value)
      const timestamp = timestamps[index]
      const slot = openSlots.get(key)
      if (slot !== undefined && timestamp !== undefined && timestamp < slot.e && timestamp >= slot.e - size && slot.e - 1 > watermark) {
        addToSlot(contents, slot, value)
        continue
      }
      backend.setCurrentKey(key)
      this.current = this.state.value()
      if (timestamp !== undefined && timestamp > Number.NEGATIVE_INFINITY) {
        this.processTumbling(value, timestamp, size, tumbling.offset)
      } else {
        this.processElement(value, timestamp)
        this.releaseIfEmpty()
      }
      const current = this.current as WindowKeyState | undefined
      const last = current === undefined ? undefined : lastSlotOf(current)
      // Only a slot whose timers are registered may take elements without processTumbling.
      openSlots.set(key, last?.t ? last : undefined)
    }
  }

  /**
   * `processElement` for tumbling event-time windows with the default trigger, inlined: the same
   * decisions (late window → skipped and maybe late data; otherwise add, fire at once when the
   * watermark is past the window, timers at maxTimestamp and the cleanup time), without allocating
   * the window or the trigger's calls unless the window fires.
   */
  private processTumbling(value: unknown, timestamp: number, size: number, offset: number): void {
    // The key's last window is almost always this one: its slot is remembered on the key's state.
    // (With a fixed size the end names the window; the cache is dropped whenever contents are removed.)
    // Windows are aligned, so the element is in it exactly when `end - size <= timestamp < end`: no
    // remainder to compute (a call into C for timestamps beyond 32 bits, such as epoch milliseconds).
    const current = this.current
    let slot = current === undefined ? undefined : lastSlotOf(current)
    let end: number
    if (slot !== undefined && timestamp < slot.e && timestamp >= slot.e - size) {
      end = slot.e
    } else {
      end = TimeWindow.getWindowStartWithOffset(timestamp, offset, size) + size
      slot = undefined
    }
    const start = end - size
    const maxTimestamp = end - 1
    const cleanupTime = maxTimestamp + this.allowedLateness
    const watermark = this.watermark
    if (cleanupTime <= watermark) {
      if (timestamp + this.allowedLateness <= watermark) this.lateElement(value, timestamp)
      return
    }
    if (slot !== undefined) {
      addToSlot(this.spec.contents, slot, value)
    } else {
      const keyState = this.keyState()
      slot = this.addToContents(start, end, value, timestamp)
      rememberLastSlot(keyState, slot)
    }
    if (!slot.t) {
      const fireTimer = maxTimestamp > watermark
      const keyState = this.current as WindowKeyState
      if (keyState.et === null) {
        // The timers' owners are implied by their timestamps (see fireTumblingTimers): only the
        // backend's timer is registered; `et` is written for checkpoints only (snapshotState).
        const backend = this.requireBackend()
        if (fireTimer) backend.registerTimer('EVENT_TIME', maxTimestamp)
        if (!fireTimer || cleanupTime !== maxTimestamp) backend.registerTimer('EVENT_TIME', cleanupTime)
      } else {
        if (fireTimer) this.registerWindowTimer('EVENT_TIME', start, end, maxTimestamp)
        // Without allowed lateness the cleanup timer is the timer just registered (a second registration is a no-op).
        if (!fireTimer || cleanupTime !== maxTimestamp) this.registerWindowTimer('EVENT_TIME', start, end, cleanupTime)
      }
      slot.t = true
    }
    if (maxTimestamp <= watermark) this.emitWindowContents(new TimeWindow(start, end), slot.v, start, end)
  }

  private lateElement(value: unknown, timestamp: number | undefined): void {
    const tag = this.spec.lateDataTag
    if (tag !== undefined) this.context.output.collectSide(tag, value, timestamp)
    else this.numLateRecordsDropped++
  }

  private processElement(value: unknown, timestamp: number | undefined): void {
    const windows = this.assigner.assignWindows(value, timestamp, this.assignerContext)
    let skipped = true
    if (this.merging) {
      const keyState = this.keyState()
      keyState.m ??= []
      const mapping = keyState.m
      for (const window of windows) {
        const actualWindow = this.addMergingWindow(mapping, window as TimeWindow, (mergeResult, mergedWindows, stateWindowResult, mergedStateWindows) => {
          if (this.isEventTime && mergeResult.maxTimestamp() + this.allowedLateness <= this.watermark) {
            throw new IllegalStateError(
              `operator '${this.name}': the end timestamp of an event-time window cannot become earlier than the current watermark by merging. ` +
                `Current watermark: ${this.watermark} window: ${String(mergeResult)}`,
            )
          }
          if (!this.isEventTime) {
            const now = this.context.processingTime.now()
            if (mergeResult.maxTimestamp() <= now) {
              throw new IllegalStateError(
                `operator '${this.name}': the end timestamp of a processing-time window cannot become earlier than the current processing time by merging. ` +
                  `Current processing time: ${now} window: ${String(mergeResult)}`,
              )
            }
          }
          const triggerContext = this.triggerContext
          triggerContext.window = mergeResult
          triggerContext.mergedWindows = mergedWindows
          this.trigger.onMerge(mergeResult, triggerContext)
          triggerContext.mergedWindows = []
          for (const merged of mergedWindows) {
            triggerContext.window = merged
            this.trigger.clear(merged, triggerContext)
            this.deleteCleanupTimer(merged)
          }
          this.mergeTable(this.keyState().c, stateWindowResult[0], stateWindowResult[1], mergedStateWindows, this.mergeContents)
        })
        // Drop if the window is already late.
        if (this.isWindowLate(actualWindow)) {
          this.retireWindow(actualWindow)
          continue
        }
        skipped = false
        const stateWindow = mergingStateWindow(mapping, actualWindow.start, actualWindow.end)
        if (stateWindow === undefined) throw new IllegalStateError(`Window ${String(window)} is not in in-flight window set.`)
        this.addToContents(stateWindow[0], stateWindow[1], value, timestamp)
        this.triggerContext.window = actualWindow
        const result = this.trigger.onElement(value, timestamp, actualWindow, this.triggerContext)
        if (result.isFire()) {
          const contents = this.contentsOf(stateWindow[0], stateWindow[1])
          if (contents === undefined) continue
          this.emitWindowContents(actualWindow, contents, stateWindow[0], stateWindow[1])
        }
        if (result.isPurge()) this.clearContents(stateWindow[0], stateWindow[1])
        this.registerCleanupTimer(actualWindow)
      }
    } else {
      for (const window of windows) {
        // Drop if the window is already late.
        if (this.isWindowLate(window)) continue
        skipped = false
        const start = startOf(window)
        const end = endOf(window)
        const slot = this.addToContents(start, end, value, timestamp)
        if (this.inlineEventTimeTrigger) {
          // EventTimeTrigger.onElement, then registerCleanupTimer, as below; the slot remembers the timers.
          const maxTimestamp = window.maxTimestamp()
          if (!slot.t) {
            if (maxTimestamp > this.watermark) this.registerWindowTimer('EVENT_TIME', start, end, maxTimestamp)
            const cleanupTime = this.cleanupTime(window)
            if (cleanupTime !== Number.POSITIVE_INFINITY) this.registerWindowTimer('EVENT_TIME', start, end, cleanupTime)
            slot.t = true
          }
          if (maxTimestamp <= this.watermark) this.emitWindowContents(window, slot.v, start, end)
          continue
        }
        this.triggerContext.window = window
        const result = this.trigger.onElement(value, timestamp, window, this.triggerContext)
        if (result.isFire()) {
          const contents = this.contentsOf(start, end)
          if (contents === undefined) continue
          this.emitWindowContents(window, contents, start, end)
        }
        if (result.isPurge()) this.clearContents(start, end)
        this.registerCleanupTimer(window)
      }
    }
    if (skipped && this.isElementLate(timestamp)) this.lateElement(value, timestamp)
  }

  // ---------------------------------------------------------------- timers

  override processWatermark(watermark: number): void {
    this.watermark = watermark
    // One timestamp at a time (see fireTimers): a timer registered while firing that is already due (a
    // ContinuousEventTimeTrigger's next fire time) fires before a later cleanup timer could delete it.
    this.requireBackend().fireTimers('EVENT_TIME', watermark, (timestamp) => this.fireTimers('EVENT_TIME', timestamp))
  }

  override onProcessingTime(now: number): void {
    this.watermark = this.context.currentWatermark()
    this.requireBackend().fireTimers('PROCESSING_TIME', now, (timestamp) => this.fireTimers('PROCESSING_TIME', timestamp))
    this.requestNextWakeup()
  }

  /** Fires the current key's timers at `timestamp`: one per window that registered one. */
  private fireTimers(domain: TimeDomain, timestamp: number): void {
    // The key's slots may be removed now: its next element takes the slow path and caches again.
    if (this.tumbling !== undefined) this.openSlots.set(this.requireBackend().getCurrentKey(), undefined)
    const current = this.state.value()
    this.current = current
    if (this.tumbling !== undefined && current !== undefined && current.et === null && domain === 'EVENT_TIME') {
      this.fireTumblingTimers(current, timestamp, this.tumbling.size)
      return
    }
    const timers = domain === 'EVENT_TIME' ? this.current?.et : this.current?.pt
    const windows = timers?.get(timestamp)
    if (windows === undefined) return
    ;(timers as Map<number, number[]>).delete(timestamp)
    const firing = { domain, timestamp, windows }
    this.firing = firing
    try {
      while (windows.length > 0) {
        const start = windows.shift() as number
        const end = windows.shift() as number
        this.onWindowTimer(windowOf(start, end), domain, timestamp)
      }
    } finally {
      this.firing = undefined
    }
    this.releaseIfEmpty()
  }

  /**
   * The tumbling fast path's timers of the current key at `timestamp`, whose windows are not listed in
   * `et`: with aligned windows of one size and the default trigger, a timer at `t` can only be the fire
   * timer of the window ending at `t + 1` and/or the cleanup timer of the window whose cleanup time is
   * `t`. A window's fire timer is pending exactly while its slot exists and its max timestamp is above
   * the watermark it was created at (a window created later than that fired at once, and its max
   * timestamp was already behind the timers that had fired). Same decisions as `onWindowTimer` with
   * `EventTimeTrigger`: fire the first, then drop all state of the second.
   */
  private fireTumblingTimers(current: WindowKeyState, timestamp: number, size: number): void {
    const table = current.c
    const fireEnd = timestamp + 1
    const cleanupEnd = fireEnd - this.allowedLateness
    // clearAllState without what is done already: the contents are taken out of the table at once, and
    // EventTimeTrigger.clear would delete the timer at the window's max timestamp, which has fired.
    if (cleanupEnd === fireEnd) {
      const start = fireEnd - size
      const slot = tableTake(table, start, fireEnd)
      if (slot === undefined) return
      if (lastSlotOf(current) === slot) rememberLastSlot(current, undefined)
      const window = new TimeWindow(start, fireEnd)
      if (slot.v !== undefined) this.emitWindowContents(window, slot.v, start, fireEnd)
      this.clearWindowFunctionState(window)
    } else {
      const fired = tableGet(table, fireEnd - size, fireEnd)
      if (fired !== undefined && fired.v !== undefined) this.emitWindowContents(new TimeWindow(fireEnd - size, fireEnd), fired.v, fireEnd - size, fireEnd)
      const slot = tableTake(table, cleanupEnd - size, cleanupEnd)
      if (slot !== undefined) {
        if (lastSlotOf(current) === slot) rememberLastSlot(current, undefined)
        this.clearWindowFunctionState(new TimeWindow(cleanupEnd - size, cleanupEnd))
      }
    }
    this.releaseIfEmpty()
  }

  /**
   * Writes the tumbling fast path's timer owners into `et` for a checkpoint (the format every restore
   * reads), takes the snapshot, and removes them again.
   */
  override snapshotState(checkpointId: number): Promise<OperatorSubtaskState> | OperatorSubtaskState {
    const tumbling = this.tumbling
    const backend = this.backend
    if (tumbling === undefined || backend === undefined) return super.snapshotState(checkpointId)
    const watermark = this.context.currentWatermark()
    const filled: WindowKeyState[] = []
    for (const key of backend.keys('window-state')) {
      backend.setCurrentKey(key)
      const keyState = this.state.value()
      if (keyState === undefined || keyState.et !== null) continue
      const timers = this.tumblingTimerOwners(keyState, tumbling.size, watermark)
      if (timers.size === 0) continue
      keyState.et = timers
      filled.push(keyState)
    }
    this.current = undefined
    try {
      return super.snapshotState(checkpointId)
    } finally {
      for (const keyState of filled) keyState.et = null
    }
  }

  /** The owners of the tumbling fast path's pending timers of a key, as `et` lists them. */
  private tumblingTimerOwners(keyState: WindowKeyState, size: number, watermark: number): Map<number, number[]> {
    const timers = new Map<number, number[]>()
    for (const head of keyState.c.values()) {
      for (let slot: Slot | null = head; slot !== null; slot = slot.n) {
        if (!slot.t) continue
        const start = slot.e - size
        const maxTimestamp = slot.e - 1
        if (maxTimestamp > watermark) addTimerOwner(timers, maxTimestamp, start, slot.e)
        addTimerOwner(timers, maxTimestamp + this.allowedLateness, start, slot.e)
      }
    }
    return timers
  }

  private onWindowTimer(window: Window, domain: TimeDomain, timestamp: number): void {
    const triggerContext = this.triggerContext
    triggerContext.window = window
    let stateStart: number
    let stateEnd: number
    if (this.merging) {
      const mapping = this.current?.m
      const stateWindow = mapping ? mergingStateWindow(mapping, startOf(window), endOf(window)) : undefined
      // A timer of a window that is gone: a trigger did not clean up its timers; nothing to do.
      if (stateWindow === undefined) return
      ;[stateStart, stateEnd] = stateWindow
    } else {
      stateStart = startOf(window)
      stateEnd = endOf(window)
    }
    const result: TriggerResult =
      domain === 'EVENT_TIME' ? this.trigger.onEventTime(timestamp, window, triggerContext) : this.trigger.onProcessingTime(timestamp, window, triggerContext)
    if (result.isFire()) {
      const contents = this.contentsOf(stateStart, stateEnd)
      if (contents !== undefined) this.emitWindowContents(window, contents, stateStart, stateEnd)
    }
    if (result.isPurge()) this.clearContents(stateStart, stateEnd)
    if ((domain === 'EVENT_TIME') === this.isEventTime && timestamp === this.cleanupTime(window)) {
      this.clearAllState(window, stateStart, stateEnd)
    }
  }

  /** @internal Registers a timer of the current key for the window `[start, end)`. */
  registerWindowTimer(domain: TimeDomain, start: number, end: number, timestamp: number): void {
    const keyState = this.keyState()
    let timers = domain === 'EVENT_TIME' ? keyState.et : keyState.pt
    if (timers === null) {
      // A key of the tumbling fast path whose timers get owners in `et` from now on: list those it has.
      timers = this.tumbling !== undefined && domain === 'EVENT_TIME' ? this.tumblingTimerOwners(keyState, this.tumbling.size, this.context.currentWatermark()) : new Map()
      if (domain === 'EVENT_TIME') keyState.et = timers
      else keyState.pt = timers
    }
    const windows = timers.get(timestamp)
    if (windows === undefined) {
      timers.set(timestamp, [start, end])
      this.requireBackend().registerTimer(domain, timestamp)
      if (domain === 'PROCESSING_TIME' && Number.isFinite(timestamp)) this.context.processingTime.requestWakeup(timestamp)
      return
    }
    for (let index = 0; index < windows.length; index += 2) {
      if (windows[index] === start && windows[index + 1] === end) return
    }
    windows.push(start, end)
  }

  /** @internal Deletes the current key's timer of the window `[start, end)` at `timestamp`, if there is one. */
  deleteWindowTimer(domain: TimeDomain, start: number, end: number, timestamp: number): void {
    const firing = this.firing
    if (firing !== undefined && firing.domain === domain && firing.timestamp === timestamp) removePair(firing.windows, start, end)
    const keyState = this.current
    const timers = domain === 'EVENT_TIME' ? keyState?.et : keyState?.pt
    const windows = timers?.get(timestamp)
    if (windows === undefined) return
    removePair(windows, start, end)
    if (windows.length === 0) {
      ;(timers as Map<number, number[]>).delete(timestamp)
      this.requireBackend().deleteTimer(domain, timestamp)
    }
  }

  private requestNextWakeup(): void {
    const next = this.requireBackend().nextTimerTimestamp('PROCESSING_TIME')
    if (next !== undefined && Number.isFinite(next)) this.context.processingTime.requestWakeup(next)
  }

  // ---------------------------------------------------------------- lateness and cleanup (Flink's rules)

  /** `maxTimestamp + allowedLateness` in event time, `maxTimestamp` in processing time. */
  private cleanupTime(window: Window): number {
    return this.isEventTime ? window.maxTimestamp() + this.allowedLateness : window.maxTimestamp()
  }

  private isWindowLate(window: Window): boolean {
    return this.isEventTime && this.cleanupTime(window) <= this.watermark
  }

  private isElementLate(timestamp: number | undefined): boolean {
    return this.isEventTime && timestamp !== undefined && timestamp + this.allowedLateness <= this.watermark
  }

  private registerCleanupTimer(window: Window): void {
    const cleanupTime = this.cleanupTime(window)
    // No cleanup timer at the end of time.
    if (cleanupTime === Number.POSITIVE_INFINITY) return
    this.registerWindowTimer(this.isEventTime ? 'EVENT_TIME' : 'PROCESSING_TIME', startOf(window), endOf(window), cleanupTime)
  }

  private deleteCleanupTimer(window: Window): void {
    const cleanupTime = this.cleanupTime(window)
    if (cleanupTime === Number.POSITIVE_INFINITY) return
    this.deleteWindowTimer(this.isEventTime ? 'EVENT_TIME' : 'PROCESSING_TIME', startOf(window), endOf(window), cleanupTime)
  }

  /** The window function's `clear` (its per-window state) for a window being dropped. */
  private clearWindowFunctionState(window: Window): void {
    if (this.windowFunction?.clear === undefined) return
    this.processContext.currentWindow = window
    this.windowFunction.clear(this.processContext)
  }

  /** Drops everything of the window: contents, trigger state, function state, its merging-set entry. */
  private clearAllState(window: Window, stateStart: number, stateEnd: number): void {
    this.clearContents(stateStart, stateEnd)
    this.triggerContext.window = window
    this.trigger.clear(window, this.triggerContext)
    if (this.windowFunction?.clear !== undefined) {
      this.processContext.currentWindow = window
      this.windowFunction.clear(this.processContext)
    }
    if (this.merging) this.retireWindow(window as TimeWindow)
  }

  // ---------------------------------------------------------------- merging window set

  /** Flink's `MergingWindowSet.addWindow`: adds `newWindow`, merging it with in-flight windows it overlaps. */
  private addMergingWindow(mapping: number[], newWindow: TimeWindow, mergeFunction: MergeFunction): TimeWindow {
    const windows: TimeWindow[] = []
    for (let index = 0; index < mapping.length; index += 4) windows.push(new TimeWindow(mapping[index] as number, mapping[index + 1] as number))
    windows.push(newWindow)
    const mergeResults: { result: TimeWindow; merged: TimeWindow[] }[] = []
    ;(this.assigner as unknown as { mergeWindows(windows: TimeWindow[], callback: { merge(toBeMerged: TimeWindow[], result: TimeWindow): void }): void }).mergeWindows(
      windows,
      { merge: (toBeMerged, result) => mergeResults.push({ result, merged: [...toBeMerged] }) },
    )
    let resultWindow = newWindow
    let mergedNewWindow = false
    for (const { result: mergeResult, merged: mergedWindows } of mergeResults) {
      const newIndex = mergedWindows.findIndex((window) => window.equals(newWindow))
      if (newIndex !== -1) {
        mergedWindows.splice(newIndex, 1)
        mergedNewWindow = true
        resultWindow = mergeResult
      }
      // Any of the merged windows' state windows becomes the state window of the result.
      const first = mergedWindows[0] as TimeWindow
      const mergedStateWindow = mergingStateWindow(mapping, first.start, first.end) as [number, number]
      const mergedStateWindows: [number, number][] = []
      for (const merged of mergedWindows) {
        const stateWindow = mergingRemove(mapping, merged.start, merged.end)
        if (stateWindow !== undefined) mergedStateWindows.push(stateWindow)
      }
      mergingPut(mapping, mergeResult.start, mergeResult.end, mergedStateWindow[0], mergedStateWindow[1])
      // The target state window is not merged into itself.
      const targetIndex = mergedStateWindows.findIndex(([start, end]) => start === mergedStateWindow[0] && end === mergedStateWindow[1])
      if (targetIndex !== -1) mergedStateWindows.splice(targetIndex, 1)
      // Merging a pre-existing window into itself (the new window fell inside it) is no merge.
      if (!(mergedWindows.length === 1 && (mergedWindows[0] as TimeWindow).equals(mergeResult))) {
        mergeFunction(mergeResult, mergedWindows, mergedStateWindow, mergedStateWindows)
      }
    }
    // The new window is a window of its own.
    if (mergeResults.length === 0 || (resultWindow.equals(newWindow) && !mergedNewWindow)) {
      mergingPut(mapping, resultWindow.start, resultWindow.end, resultWindow.start, resultWindow.end)
    }
    return resultWindow
  }

  private retireWindow(window: TimeWindow): void {
    const mapping = this.current?.m
    if (!mapping || mergingRemove(mapping, window.start, window.end) === undefined) {
      throw new IllegalStateError(`Window ${String(window)} is not in in-flight window set.`)
    }
  }

  // ---------------------------------------------------------------- contents

  /** Adds the element to the window's contents; returns the window's slot. */
  private addToContents(start: number, end: number, value: unknown, timestamp: number | undefined): Slot {
    const table = this.keyState().c
    const head = table.get(start)
    let slot: Slot | null | undefined = head
    while (slot !== undefined && slot !== null && slot.e !== end) slot = slot.n
    if (slot !== undefined && slot !== null) {
      if (this.evictor !== undefined) {
        ;(slot.v as unknown[]).push(value, timestamp)
        return slot
      }
      addToSlot(this.spec.contents, slot, value)
      return slot
    }
    let first: unknown
    if (this.evictor !== undefined) {
      first = [value, timestamp]
    } else {
      const contents = this.spec.contents
      switch (contents.kind) {
        case 'reduce':
          first = value
          break
        case 'aggregate':
          first = contents.aggregate.add(value, contents.aggregate.createAccumulator())
          break
        case 'list':
          first = [value]
          break
      }
    }
    const created: Slot = { e: end, v: first, n: head ?? null, t: false }
    table.set(start, created)
    return created
  }

  private contentsOf(start: number, end: number): unknown {
    const table = this.current?.c
    return table === undefined ? undefined : tableGet(table, start, end)?.v
  }

  private clearContents(start: number, end: number): void {
    const keyState = this.current
    if (keyState === undefined) return
    tableDelete(keyState.c, start, end)
    if (lastSlotOf(keyState)?.e === end) rememberLastSlot(keyState, undefined)
  }

  /** How two contents values merge (Flink's `mergeState` of the window state). */
  private readonly mergeContents = (a: unknown, b: unknown): unknown => {
    if (this.evictor !== undefined) return (a as unknown[]).concat(b as unknown[])
    const contents = this.spec.contents
    switch (contents.kind) {
      case 'reduce':
        return contents.reduce(a, b)
      case 'aggregate':
        return contents.aggregate.merge(a, b)
      case 'list':
        return (a as unknown[]).concat(b as unknown[])
    }
  }

  /**
   * Flink's `mergeNamespaces(target, sources)`: the sources' values are folded together in order and
   * removed, then folded into the target's.
   */
  private mergeTable(table: WindowTable, targetStart: number, targetEnd: number, sources: readonly [number, number][], merge: (a: unknown, b: unknown) => unknown): void {
    let merged: unknown
    for (const [start, end] of sources) {
      const value = tableDelete(table, start, end)
      if (value === undefined) continue
      merged = merged === undefined ? value : merge(merged, value)
    }
    if (merged === undefined) return
    const target = tableGet(table, targetStart, targetEnd)
    if (target !== undefined) target.v = merge(target.v, merged)
    else tableSet(table, targetStart, targetEnd, merged)
  }

  /** Runs the window function on the window's contents; with an evictor, evicts and writes back what remains. */
  private emitWindowContents(window: Window, contents: unknown, stateStart: number, stateEnd: number): void {
    this.emitTimestamp = window.maxTimestamp()
    const processContext = this.processContext
    processContext.currentWindow = window
    const key = this.requireBackend().getCurrentKey()
    const windowFunction = this.windowFunction
    const out = this.collector
    const spec = this.spec.contents
    const evictor = this.evictor
    if (evictor === undefined) {
      switch (spec.kind) {
        case 'reduce':
          if (windowFunction === undefined) out.collect(contents)
          else windowFunction.process(key, processContext, [contents], out)
          return
        case 'aggregate': {
          const result = spec.aggregate.getResult(contents)
          if (windowFunction === undefined) out.collect(result)
          else windowFunction.process(key, processContext, [result], out)
          return
        }
        case 'list':
          ;(windowFunction as ProcessWindowFunction<unknown, unknown, Key, Window>).process(key, processContext, contents as unknown[], out)
          return
      }
    }
    const stored = contents as unknown[]
    const elements: TimestampedValue<unknown>[] = []
    for (let index = 0; index < stored.length; index += 2) elements.push(new TimestampedValue(stored[index], stored[index + 1] as number | undefined))
    evictor.evictBefore(elements, elements.length, window, this.evictorContext)
    const values = elements.map((element) => element.value)
    switch (spec.kind) {
      case 'reduce': {
        // Flink would hand the window function a null here; Sluice emits nothing for an emptied window.
        if (values.length > 0) {
          let reduced = values[0]
          for (let index = 1; index < values.length; index++) reduced = spec.reduce(reduced, values[index])
          if (windowFunction === undefined) out.collect(reduced)
          else windowFunction.process(key, processContext, [reduced], out)
        }
        break
      }
      case 'aggregate': {
        let accumulator = spec.aggregate.createAccumulator()
        for (const value of values) accumulator = spec.aggregate.add(value, accumulator)
        const result = spec.aggregate.getResult(accumulator)
        if (windowFunction === undefined) out.collect(result)
        else windowFunction.process(key, processContext, [result], out)
        break
      }
      case 'list':
        ;(windowFunction as ProcessWindowFunction<unknown, unknown, Key, Window>).process(key, processContext, values, out)
        break
    }
    evictor.evictAfter(elements, elements.length, window, this.evictorContext)
    // What remains after eviction is the window's new contents (Flink's FLINK-4369 workaround).
    const table = this.keyState().c
    if (elements.length === 0) {
      tableDelete(table, stateStart, stateEnd)
      return
    }
    const remaining: unknown[] = []
    for (const element of elements) remaining.push(element.value, element.timestamp)
    tableSet(table, stateStart, stateEnd, remaining)
  }

  // ---------------------------------------------------------------- per-window partitioned state

  /** @internal The state of `descriptor` for the window that `window()` returns at each access. */
  partitionedState(prefix: 't' | 'w', descriptor: AnyStateDescriptor, window: () => Window): unknown {
    const name = `${prefix}:${descriptor.name}`
    const cached = this.partitionedStates.get(name)
    if (cached !== undefined) return cached
    const store: WindowStateStore = {
      read: () => {
        const table = this.current?.p?.get(name)
        if (table === undefined) return undefined
        const w = window()
        return tableGet(table, startOf(w), endOf(w))?.v
      },
      write: (value) => {
        const w = window()
        if (value === undefined) {
          const table = this.current?.p?.get(name)
          if (table !== undefined) tableDelete(table, startOf(w), endOf(w))
          return
        }
        const keyState = this.keyState()
        keyState.p ??= new Map()
        let table = keyState.p.get(name)
        if (table === undefined) {
          table = new Map()
          keyState.p.set(name, table)
        }
        tableSet(table, startOf(w), endOf(w), value)
      },
    }
    const state = createScopedState(descriptor, store)
    this.partitionedStates.set(name, state)
    return state
  }

  /** @internal Merges the state of `descriptor` of `sources` into `target` (for `OnMergeContext`). */
  mergePartitionedState(prefix: 't' | 'w', descriptor: AnyStateDescriptor, target: Window, sources: readonly Window[]): void {
    const table = this.current?.p?.get(`${prefix}:${descriptor.name}`)
    if (table === undefined) return
    let merge: (a: unknown, b: unknown) => unknown
    if (descriptor.kind === 'reducing') merge = descriptor.reduce
    else if (descriptor.kind === 'aggregating') merge = (a, b) => descriptor.aggregate.merge(a, b)
    else if (descriptor.kind === 'list') merge = (a, b) => (a as unknown[]).concat(b as unknown[])
    else throw new IllegalStateError(`state '${descriptor.name}' is ${descriptor.kind} state, which cannot be merged (use reducing, aggregating or list state)`)
    this.mergeTable(table, startOf(target), endOf(target), sources.map((w) => [startOf(w), endOf(w)] as [number, number]), merge)
  }

  /** @internal */
  get operatorContext() {
    return this.context
  }

  /** @internal The watermark as the window operator sees it (constant while a batch or timer round runs). */
  get currentWatermark(): number {
    return this.watermark
  }

  /** @internal The keyed state of functions (`globalState()`). */
  globalStateStore(): KeyedRuntimeContext {
    return this.keyedRuntimeContext()
  }

  // ---------------------------------------------------------------- the key's state value

  /** The current key's state, created when missing. */
  private keyState(): WindowKeyState {
    let keyState = this.current
    if (keyState === undefined) {
      keyState = newWindowKeyState()
      this.state.update(keyState)
      this.current = keyState
    }
    return keyState
  }

  private releaseIfEmpty(): void {
    const keyState = this.current
    if (keyState !== undefined && isEmptyWindowKeyState(keyState)) {
      this.state.clear()
      this.current = undefined
    }
  }

  override close(): Promise<void> | void {
    return this.windowFunction?.close?.()
  }
}

/**
 * The slot the tumbling fast path used last for a key, kept on the key's state as a property that is
 * not enumerable, so that it never goes into a checkpoint (a copy there would be a second, stale slot).
 */
function lastSlotOf(keyState: WindowKeyState): Slot | undefined {
  return (keyState as WindowKeyState & { lastSlot?: Slot }).lastSlot
}

function rememberLastSlot(keyState: WindowKeyState, slot: Slot | undefined): void {
  const withCache = keyState as WindowKeyState & { lastSlot?: Slot }
  if (Object.hasOwn(withCache, 'lastSlot')) withCache.lastSlot = slot
  else Object.defineProperty(withCache, 'lastSlot', { value: slot, writable: true, enumerable: false, configurable: false })
}

/** Folds `value` into a window's contents (without an evictor): reduce, aggregate or append. */
function addToSlot(contents: WindowContents, slot: Slot, value: unknown): void {
  if (contents.kind === 'aggregate') slot.v = contents.aggregate.add(value, slot.v)
  else if (contents.kind === 'reduce') slot.v = contents.reduce(slot.v, value)
  else (slot.v as unknown[]).push(value)
}

/** Adds `[start, end]` to the owners of the timer at `timestamp`, once. */
function addTimerOwner(timers: Map<number, number[]>, timestamp: number, start: number, end: number): void {
  const windows = timers.get(timestamp)
  if (windows === undefined) {
    timers.set(timestamp, [start, end])
    return
  }
  for (let index = 0; index < windows.length; index += 2) if (windows[index] === start && windows[index + 1] === end) return
  windows.push(start, end)
}

function removePair(flat: number[], start: number, end: number): void {
  for (let index = 0; index < flat.length; index += 2) {
    if (flat[index] === start && flat[index + 1] === end) {
      flat.splice(index, 2)
      return
    }
  }
}

/** The trigger's view of one (key, window); reused for every call. */
class WindowTriggerContext implements OnMergeContext {
  window!: Window
  mergedWindows: Window[] = []

  constructor(private readonly operator: WindowOperator) {}

  getCurrentProcessingTime(): number {
    return this.operator.operatorContext.processingTime.now()
  }

  getCurrentWatermark(): number {
    return this.operator.currentWatermark
  }

  registerProcessingTimeTimer(time: number): void {
    this.operator.registerWindowTimer('PROCESSING_TIME', startOf(this.window), endOf(this.window), time)
  }

  registerEventTimeTimer(time: number): void {
    this.operator.registerWindowTimer('EVENT_TIME', startOf(this.window), endOf(this.window), time)
  }

  deleteProcessingTimeTimer(time: number): void {
    this.operator.deleteWindowTimer('PROCESSING_TIME', startOf(this.window), endOf(this.window), time)
  }

  deleteEventTimeTimer(time: number): void {
    this.operator.deleteWindowTimer('EVENT_TIME', startOf(this.window), endOf(this.window), time)
  }

  // biome-ignore lint/suspicious/noExplicitAny: overloads are declared by TriggerContext
  getPartitionedState(descriptor: AnyStateDescriptor): any {
    return this.operator.partitionedState('t', descriptor, () => this.window)
  }

  mergePartitionedState(
    // biome-ignore lint/suspicious/noExplicitAny: any mergeable descriptor
    descriptor: ReducingStateDescriptor<any> | AggregatingStateDescriptor<any, any, any> | ListStateDescriptor<any>,
  ): void {
    if (this.mergedWindows.length > 0) this.operator.mergePartitionedState('t', descriptor, this.window, this.mergedWindows)
  }
}

/** The window function's context; reused for every call. */
class WindowProcessContext implements ProcessWindowContext<Window> {
  currentWindow!: Window
  private readonly perWindowStore: KeyedStateStore
  private global: KeyedStateStore | undefined

  constructor(
    private readonly operator: WindowOperator,
    private readonly merging: boolean,
  ) {
    const scoped = (descriptor: AnyStateDescriptor) => {
      if (this.merging) throw new IllegalStateError('Per-window state is not allowed when using merging windows.')
      return this.operator.partitionedState('w', descriptor, () => this.currentWindow)
    }
    this.perWindowStore = {
      getState: scoped,
      getListState: scoped,
      getMapState: scoped,
      getReducingState: scoped,
      getAggregatingState: scoped,
    } as unknown as KeyedStateStore
  }

  window(): Window {
    return this.currentWindow
  }

  currentProcessingTime(): number {
    return this.operator.operatorContext.processingTime.now()
  }

  currentWatermark(): number {
    return this.operator.currentWatermark
  }

  windowState(): KeyedStateStore {
    return this.perWindowStore
  }

  globalState(): KeyedStateStore {
    this.global ??= this.operator.globalStateStore()
    return this.global
  }

  output<X>(tag: { id: string }, value: X): void {
    this.operator.operatorContext.output.collectSide(tag.id, value, this.currentWindow.maxTimestamp())
  }
}

// ---- state scoped to (key, window), stored in the key's WindowKeyState ----

interface WindowStateStore {
  read(): unknown
  /** `undefined` removes the value. */
  write(value: unknown): void
}

function createScopedState(descriptor: AnyStateDescriptor, store: WindowStateStore): unknown {
  switch (descriptor.kind) {
    case 'value': {
      const defaultValue = descriptor.defaultValue
      const state: ValueState<unknown> = {
        value: () => {
          const value = store.read()
          return value === undefined ? defaultValue : value
        },
        update: (value) => store.write(value),
        clear: () => store.write(undefined),
      }
      return state
    }
    case 'list': {
      const state: ListState<unknown> = {
        get: () => (store.read() as unknown[] | undefined) ?? [],
        add: (value) => {
          const list = store.read() as unknown[] | undefined
          if (list === undefined) store.write([value])
          else list.push(value)
        },
        addAll: (values) => {
          if (values.length === 0) return
          const list = store.read() as unknown[] | undefined
          if (list === undefined) store.write([...values])
          else list.push(...values)
        },
        update: (values) => store.write(values.length === 0 ? undefined : [...values]),
        clear: () => store.write(undefined),
      }
      return state
    }
    case 'reducing': {
      const reduce = descriptor.reduce
      const state: ReducingState<unknown> = {
        get: () => store.read(),
        add: (value) => {
          const current = store.read()
          store.write(current === undefined ? value : reduce(current, value))
        },
        clear: () => store.write(undefined),
      }
      return state
    }
    case 'aggregating': {
      const aggregate = descriptor.aggregate
      const state: AggregatingState<unknown, unknown> = {
        get: () => {
          const accumulator = store.read()
          return accumulator === undefined ? undefined : aggregate.getResult(accumulator)
        },
        add: (value) => {
          const accumulator = store.read()
          store.write(aggregate.add(value, accumulator === undefined ? aggregate.createAccumulator() : accumulator))
        },
        clear: () => store.write(undefined),
      }
      return state
    }
    case 'map': {
      const entries = () => store.read() as Map<unknown, unknown> | undefined
      const state: MapState<unknown, unknown> = {
        get: (key) => entries()?.get(key),
        put: (key, value) => {
          const map = entries()
          if (map === undefined) store.write(new Map([[key, value]]))
          else map.set(key, value)
        },
        putAll: (items) => {
          for (const [key, value] of items) state.put(key, value)
        },
        remove: (key) => {
          const map = entries()
          if (map === undefined) return
          map.delete(key)
          if (map.size === 0) store.write(undefined)
        },
        contains: (key) => entries()?.has(key) ?? false,
        entries: () => (entries() ?? new Map()).entries(),
        keys: () => (entries() ?? new Map()).keys(),
        values: () => (entries() ?? new Map()).values(),
        isEmpty: () => (entries()?.size ?? 0) === 0,
        clear: () => store.write(undefined),
      }
      return state
    }
  }
}
