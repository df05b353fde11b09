/**
 * A brute-force model of Flink's event-time window semantics, written from Flink's documented rules
 * and independent of Sluice's window operator (it shares no code with it), for property tests.
 *
 * Rules modelled (Flink's WindowOperator with EventTimeTrigger, or GlobalWindows with a purging
 * CountTrigger):
 * - tumbling: start = floor((ts - offset) / size) * size + offset; sliding: every window
 *   [start, start + size) with start ≡ offset (mod slide) and start ≤ ts < start + size; sessions:
 *   [ts, ts + gap), merged with every window of the key it overlaps or touches (start ≤ other.end and
 *   end ≥ other.start), transitively;
 * - a window is late when maxTimestamp + lateness ≤ watermark (maxTimestamp = end - 1): the element
 *   is not added to it; an element not added to any window with ts + lateness ≤ watermark is late
 *   data (side output); otherwise it is silently dropped;
 * - after adding, a window whose maxTimestamp ≤ watermark fires at once; otherwise it fires when the
 *   watermark reaches its maxTimestamp;
 * - the window is dropped when the watermark reaches maxTimestamp + lateness;
 * - with a count evictor (evict before), a firing window keeps only its last `n` elements;
 * - a quirk of Flink's MergingWindowSet, kept: a new session window exactly equal to an in-flight
 *   window that came out of a merge (possible with dynamic gaps) is re-registered as its own state
 *   window, so the contents gathered so far are lost (TimeWindow.mergeWindows de-duplicates equal
 *   windows, so no merge is reported and the window is mapped to itself).
 */

export interface RefElement {
  readonly key: string
  readonly timestamp: number
  readonly value: number
}

export type RefStep = { readonly element: RefElement } | { readonly watermark: number }

export type RefAssigner =
  | { readonly kind: 'tumbling'; readonly size: number; readonly offset: number }
  | { readonly kind: 'sliding'; readonly size: number; readonly slide: number; readonly offset: number }
  | { readonly kind: 'session'; readonly gap: number }
  | { readonly kind: 'dynamic-session' }
  | { readonly kind: 'count'; readonly count: number }

export interface RefConfig {
  readonly assigner: RefAssigner
  readonly lateness: number
  /** Count evictor (before the function): keep the last `n` elements when the window fires. */
  readonly evictLastN?: number
}

interface RefWindow {
  start: number
  end: number
  elements: RefElement[]
  pending: boolean
  /** Came out of a merge (its state lives under another window in Flink). */
  merged: boolean
}

/** `key|start|end|count|sum@maxTimestamp` */
export function describeResult(key: string, start: number, end: number, count: number, sum: number, timestamp: number): string {
  return `${key}|${start}|${end}|${count}|${sum}@${timestamp}`
}

/** The gap of a dynamic session, a function of the element (shared with the test's assigner on purpose: it is input, not semantics). */
export const dynamicGapOf = (element: { value: number }): number => element.value + 1

function floorDiv(a: number, b: number): number {
  return Math.floor(a / b)
}

function assign(assigner: RefAssigner, element: RefElement): [number, number][] {
  const ts = element.timestamp
  switch (assigner.kind) {
    case 'tumbling': {
      const start = floorDiv(ts - assigner.offset, assigner.size) * assigner.size + assigner.offset
      return [[start, start + assigner.size]]
    }
    case 'sliding': {
      const windows: [number, number][] = []
      // every start ≡ offset (mod slide) in (ts - size, ts]
      const first = floorDiv(ts - assigner.size - assigner.offset, assigner.slide) * assigner.slide + assigner.offset
      for (let start = first; start <= ts; start += assigner.slide) {
        if (start > ts - assigner.size) windows.push([start, start + assigner.size])
      }
      return windows
    }
    case 'session':
      return [[ts, ts + assigner.gap]]
    case 'dynamic-session':
      return [[ts, ts + dynamicGapOf(element)]]
    case 'count':
      throw new Error('count windows are handled separately')
  }
}

export function referenceWindows(steps: readonly RefStep[], config: RefConfig): { main: string[]; late: string[] } {
  const main: string[] = []
  const late: string[] = []
  const lateness = config.lateness
  const assigner = config.assigner

  if (assigner.kind === 'count') {
    const buffers = new Map<string, RefElement[]>()
    for (const step of steps) {
      if (!('element' in step)) continue
      const buffer = buffers.get(step.element.key) ?? []
      buffer.push(step.element)
      buffers.set(step.element.key, buffer)
      if (buffer.length === assigner.count) {
        const kept = config.evictLastN === undefined ? buffer : buffer.slice(Math.max(0, buffer.length - config.evictLastN))
        main.push(describeResult(step.element.key, Number.NEGATIVE_INFINITY, Number.POSITIVE_INFINITY, kept.length, sum(kept), Number.POSITIVE_INFINITY))
        buffers.set(step.element.key, [])
      }
    }
    return { main, late }
  }

  const merging = assigner.kind === 'session' || assigner.kind === 'dynamic-session'
  const windows = new Map<string, RefWindow[]>()
  let watermark = Number.NEGATIVE_INFINITY
  const maxTimestamp = (w: RefWindow) => w.end - 1

  const fire = (key: string, w: RefWindow) => {
    if (config.evictLastN !== undefined && w.elements.length > config.evictLastN) w.elements = w.elements.slice(w.elements.length - config.evictLastN)
    main.push(describeResult(key, w.start, w.end, w.elements.length, sum(w.elements), maxTimestamp(w)))
  }

  const advance = (to: number) => {
    if (to <= watermark) return
    watermark = to
    for (const [key, list] of windows) {
      for (const w of list) {
        if (w.pending && maxTimestamp(w) <= watermark) {
          w.pending = false
          fire(key, w)
        }
      }
      windows.set(
        key,
        list.filter((w) => maxTimestamp(w) + lateness > watermark),
      )
    }
  }

  for (const step of steps) {
    if ('watermark' in step) {
      advance(step.watermark)
      continue
    }
    const element = step.element
    const list = windows.get(element.key) ?? []
    windows.set(element.key, list)
    let added = false
    for (const [start, end] of assign(assigner, element)) {
      let target: RefWindow
      if (merging) {
        let cover = { start, end }
        let members: RefWindow[] = []
        // transitive closure of overlapping-or-touching windows
        for (let changed = true; changed; ) {
          changed = false
          for (const w of list) {
            if (members.includes(w)) continue
            if (w.start <= cover.end && w.end >= cover.start) {
              members.push(w)
              cover = { start: Math.min(cover.start, w.start), end: Math.max(cover.end, w.end) }
              changed = true
            }
          }
        }
        members = members.sort((a, b) => a.start - b.start)
        const only = members.length === 1 ? (members[0] as RefWindow) : undefined
        if (only !== undefined && only.start === cover.start && only.end === cover.end) {
          // inside one in-flight window: no merge
          if (only.start === start && only.end === end && only.merged) {
            only.elements = [] // the quirk described above
            only.merged = false
          }
          target = only
        } else {
          if (cover.end - 1 + lateness <= watermark) continue // late window (it merged nothing)
          target = { start: cover.start, end: cover.end, elements: members.flatMap((w) => w.elements), pending: false, merged: members.length > 0 }
          for (const w of members) list.splice(list.indexOf(w), 1)
          list.push(target)
        }
      } else {
        if (end - 1 + lateness <= watermark) continue // late window
        const existing = list.find((w) => w.start === start && w.end === end)
        target = existing ?? { start, end, elements: [], pending: false, merged: false }
        if (existing === undefined) list.push(target)
      }
      added = true
      target.elements.push(element)
      if (maxTimestamp(target) <= watermark) fire(element.key, target)
      else target.pending = true
    }
    if (!added && element.timestamp + lateness <= watermark) late.push(`${element.key}|${element.timestamp}|${element.value}@${element.timestamp}`)
  }
  advance(Number.POSITIVE_INFINITY)
  return { main, late }
}

function sum(elements: readonly RefElement[]): number {
  let total = 0
  for (const element of elements) total += element.value
  return total
}
