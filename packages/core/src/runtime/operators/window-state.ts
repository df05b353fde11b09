/**
 * The keyed state of a window operator for one key, and the small tables it is made of.
 *
 * Flink keeps window state in its state backend under (key, namespace = window). Sluice's heap backend
 * has no namespaces, so the window operator keeps everything of one key in one value of keyed state,
 * a {@link WindowKeyState}: window contents, per-window trigger and function state, the merging window
 * set, and which windows own each timer. Being keyed state, it is in every checkpoint, split by key
 * group, and follows its key to another subtask on a restore at another parallelism. It is plain data
 * (maps, arrays, plain objects), so the CBOR codec stores it as is.
 */
import type { Window } from '../../api/windowing/window.js'
import { GlobalWindow } from '../../api/windowing/global-window.js'
import { TimeWindow } from '../../api/windowing/time-window.js'
import { IllegalStateError } from '../../errors.js'

/** One window's value in a {@link WindowTable}; windows with the same start are chained through `n`. */
export interface Slot {
  /** The window's end. */
  e: number
  v: unknown
  n: Slot | null
  /** Window contents only: the default event-time trigger's timers of this window are registered. */
  t: boolean
}

/** Values by window: keyed by the window's start, then its end. */
export type WindowTable = Map<number, Slot>

export interface WindowKeyState {
  /** Window contents (accumulator, reduced value or element list) by state window. */
  c: WindowTable
  /** Partitioned state of triggers (`t:name`) and window functions (`w:name`), by window. */
  p: Map<string, WindowTable> | null
  /** In-flight windows of a merging assigner: flat `[start, end, stateStart, stateEnd]*`. */
  m: number[] | null
  /** Windows owning an event-time timer, by timestamp: flat `[start, end]*`. */
  et: Map<number, number[]> | null
  /** Windows owning a processing-time timer, by timestamp: flat `[start, end]*`. */
  pt: Map<number, number[]> | null
}

export function newWindowKeyState(): WindowKeyState {
  return { c: new Map(), p: null, m: null, et: null, pt: null }
}

export function isEmptyWindowKeyState(state: WindowKeyState): boolean {
  if (state.c.size > 0) return false
  if (state.m !== null && state.m.length > 0) return false
  if (state.et !== null && state.et.size > 0) return false
  if (state.pt !== null && state.pt.size > 0) return false
  if (state.p !== null) for (const table of state.p.values()) if (table.size > 0) return false
  return true
}

/** The start of a window as stored: `-Infinity` for the global window. */
export function startOf(window: Window): number {
  const start = (window as TimeWindow).start
  if (start !== undefined) return start
  if (window instanceof GlobalWindow) return Number.NEGATIVE_INFINITY
  throw unsupportedWindow(window)
}

/** The end of a window as stored: `+Infinity` for the global window. */
export function endOf(window: Window): number {
  const end = (window as TimeWindow).end
  if (end !== undefined) return end
  if (window instanceof GlobalWindow) return Number.POSITIVE_INFINITY
  throw unsupportedWindow(window)
}

/** The window stored as `[start, end)`. */
export function windowOf(start: number, end: number): Window {
  return start === Number.NEGATIVE_INFINITY && end === Number.POSITIVE_INFINITY ? GlobalWindow.get() : new TimeWindow(start, end)
}

function unsupportedWindow(window: Window): IllegalStateError {
  return new IllegalStateError(
    `window assigners must return TimeWindow or GlobalWindow objects (the windows Sluice can store), got ${String(window)}`,
  )
}

export function tableGet(table: WindowTable, start: number, end: number): Slot | undefined {
  let slot: Slot | null | undefined = table.get(start)
  while (slot !== undefined && slot !== null && slot.e !== end) slot = slot.n
  return slot ?? undefined
}

export function tableSet(table: WindowTable, start: number, end: number, value: unknown): void {
  const slot = tableGet(table, start, end)
  if (slot !== undefined) slot.v = value
  else table.set(start, { e: end, v: value, n: table.get(start) ?? null, t: false })
}

/** Removes the window's value; returns it (`undefined` if there was none). */
export function tableDelete(table: WindowTable, start: number, end: number): unknown {
  return tableTake(table, start, end)?.v
}

/** Removes the window's slot; returns it (`undefined` if there was none). */
export function tableTake(table: WindowTable, start: number, end: number): Slot | undefined {
  let previous: Slot | undefined
  let slot: Slot | null | undefined = table.get(start)
  while (slot !== undefined && slot !== null && slot.e !== end) {
    previous = slot
    slot = slot.n
  }
  if (slot === undefined || slot === null) return undefined
  if (previous !== undefined) previous.n = slot.n
  else if (slot.n !== null) table.set(start, slot.n)
  else table.delete(start)
  return slot
}

// ---- the merging window set (Flink's MergingWindowSet), over `WindowKeyState.m` ----

/** The state window of an in-flight window, or undefined. */
export function mergingStateWindow(mapping: number[], start: number, end: number): [number, number] | undefined {
  for (let index = 0; index < mapping.length; index += 4) {
    if (mapping[index] === start && mapping[index + 1] === end) return [mapping[index + 2] as number, mapping[index + 3] as number]
  }
  return undefined
}

/** Removes an in-flight window; returns its state window, or undefined when it was not in the set. */
export function mergingRemove(mapping: number[], start: number, end: number): [number, number] | undefined {
  for (let index = 0; index < mapping.length; index += 4) {
    if (mapping[index] === start && mapping[index + 1] === end) {
      const stateWindow: [number, number] = [mapping[index + 2] as number, mapping[index + 3] as number]
      mapping.splice(index, 4)
      return stateWindow
    }
  }
  return undefined
}

export function mergingPut(mapping: number[], start: number, end: number, stateStart: number, stateEnd: number): void {
  for (let index = 0; index < mapping.length; index += 4) {
    if (mapping[index] === start && mapping[index + 1] === end) {
      mapping[index + 2] = stateStart
      mapping[index + 3] = stateEnd
      return
    }
  }
  mapping.push(start, end, stateStart, stateEnd)
}
