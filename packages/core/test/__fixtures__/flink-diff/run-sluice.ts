/**
 * Runs differential-test scenarios (scenarios.ts) in Sluice and prints the canonical lines that
 * tools/flink-reference prints for the same scenario in Flink. The pipelines mirror the Java ones
 * operator for operator: parallelism-1 source → assignTimestampsAndWatermarks (punctuated, from the
 * markers; periodic emission off) → filter out the markers → the operator under test at the scenario's
 * parallelism → a ProcessFunction appending the record's timestamp → a parallelism-1 collecting sink.
 *
 * Line formats. Each ends in `@ts`, the timestamp the output record carries, and those of window
 * scenarios (one input) in `@ts~wm`, with the watermark the ProcessFunction after the window operator
 * has seen when it gets the record (`MAX`/`MIN` for the end/start of time, `none` for no timestamp). A window is `start|end|maxTimestamp` or `global|global|MAX`; `wm=` is
 * the watermark the window function's context gives.
 *   R|key|sum                                      window reduce (sum of v)
 *   A|key|count|sum                                window aggregate
 *   P|key|window|wm=w|v@t,v@t...                   process window function, contents sorted by (t, v)
 *   RP|key|window|wm=w|sum                         reduce + process window function
 *   AP|key|window|wm=w|count|sum                   aggregate + process window function
 *   PS|key|window|wm=w|firesOfWindow|n             process window function with window state, and
 *   PSK|key|firesOfKey                             its count in global state (side output, no @ts)
 *   L|key|v@t                                      late element from the side output
 *   J|key|v@t|v@t                                  window join pair (left, right)
 *   C|key|left contents|right contents             co-group, each side sorted as text
 *   I|key|v@t|v@t|leftTs|rightTs|pairTs            interval join pair with ProcessJoinContext's timestamps
 */
import type { DataStream, SingleOutputStream } from '../../../src/api/data-stream.js'
import { StreamExecutionEnvironment } from '../../../src/api/environment.js'
import { type Collector, OutputTag, type ProcessFunction } from '../../../src/api/functions.js'
import { type AggregateFunction, ValueStateDescriptor } from '../../../src/api/state.js'
import { WatermarkStrategy } from '../../../src/api/watermark-strategy.js'
import { ContinuousEventTimeTrigger } from '../../../src/api/windowing/continuous-event-time-trigger.js'
import { CountEvictor } from '../../../src/api/windowing/count-evictor.js'
import { DeltaEvictor } from '../../../src/api/windowing/delta-evictor.js'
import { CountTrigger } from '../../../src/api/windowing/count-trigger.js'
import { EventTimeTrigger } from '../../../src/api/windowing/event-time-trigger.js'
import { PurgingTrigger } from '../../../src/api/windowing/purging-trigger.js'
import type { Trigger } from '../../../src/api/windowing/trigger.js'
import { EventTimeSessionWindows } from '../../../src/api/windowing/event-time-session-windows.js'
import type { ProcessWindowFunction } from '../../../src/api/windowing/process-window-function.js'
import { SlidingEventTimeWindows } from '../../../src/api/windowing/sliding-event-time-windows.js'
import { TimeEvictor } from '../../../src/api/windowing/time-evictor.js'
import { TimeWindow } from '../../../src/api/windowing/time-window.js'
import { TumblingEventTimeWindows } from '../../../src/api/windowing/tumbling-event-time-windows.js'
import type { Window } from '../../../src/api/windowing/window.js'
import type { WindowAssigner } from '../../../src/api/windowing/window-assigner.js'
import type { WindowedStream } from '../../../src/api/windowing/windowed-stream.js'
import { CollectSink } from '../../../src/connectors/collect-sink.js'
import type { IntervalJoinScenario, Item, Scenario, TimeAssignerSpec, TriggerSpec, WindowJoinScenario, WindowScenario } from './scenarios.js'

/** An element after the source, or a watermark marker (`mark`, watermark in `ts`), as in the Java side. */
interface Ev {
  k: string
  v: number
  ts: number
  mark: boolean
}

/** Runs one scenario in Sluice; returns its output lines, sorted (by UTF-16 code units, as Java sorts strings). */
export async function runInSluice(scenario: Scenario): Promise<string[]> {
  const env = StreamExecutionEnvironment.create({ parallelism: scenario.parallelism, autoWatermarkInterval: 0, onWarning: () => {} })
  let lines: DataStream<string>
  switch (scenario.kind) {
    case 'window':
      lines = windowJob(env, scenario)
      break
    case 'join':
    case 'cogroup':
      lines = windowJoinJob(env, scenario)
      break
    case 'interval':
      lines = intervalJoinJob(env, scenario)
      break
  }
  const sink = new CollectSink<string>()
  lines.sinkTo(sink, 'collect').setParallelism(1)
  await env.execute(`flink-diff-${scenario.id}`).result
  return [...sink.results].sort()
}

export function formatTimestamp(timestamp: number | undefined): string {
  if (timestamp === undefined) return 'none'
  if (timestamp === Number.POSITIVE_INFINITY) return 'MAX'
  if (timestamp === Number.NEGATIVE_INFINITY) return 'MIN'
  return String(timestamp)
}

function formatWindow(window: Window): string {
  if (window instanceof TimeWindow) return `${window.start}|${window.end}|${formatTimestamp(window.maxTimestamp())}`
  return `global|global|${formatTimestamp(window.maxTimestamp())}`
}

/** Source (parallelism 1) → punctuated watermarks from the markers → drop the markers. */
function input(env: StreamExecutionEnvironment, items: readonly Item[], name: string): SingleOutputStream<Ev> {
  const events: Ev[] = items.map((item) => ('wm' in item ? { k: '', v: 0, ts: item.wm, mark: true } : { k: item.k, v: item.v, ts: item.ts, mark: false }))
  const strategy = WatermarkStrategy.forGenerator<Ev>(() => ({
    onEvent: (event, _timestamp, output) => {
      if (event.mark) output.emitWatermark(event.ts)
    },
    onPeriodicEmit: () => {},
  })).withTimestampAssigner((event) => event.ts)
  return env
    .fromIterable(events, name)
    .setParallelism(1)
    .assignTimestampsAndWatermarks(strategy)
    .setParallelism(1)
    .filter((event) => !event.mark, 'drop markers')
    .setParallelism(1)
}

/**
 * Appends the timestamp the record carries, `line@timestamp`, and the current watermark,
 * `line@timestamp~watermark` (`stampWithWatermark`): the latter only after single-input operators, where
 * which watermark the operator has seen at a record is determined by the input.
 */
const stamp: ProcessFunction<string, string> = {
  processElement: (value, context, out) => out.collect(`${value}@${formatTimestamp(context.timestamp())}`),
}
const stampWithWatermark: ProcessFunction<string, string> = {
  processElement: (value, context, out) => out.collect(`${value}@${formatTimestamp(context.timestamp())}~${formatTimestamp(context.currentWatermark())}`),
}

function timeAssigner(spec: TimeAssignerSpec): WindowAssigner<unknown, TimeWindow> {
  switch (spec.type) {
    case 'tumbling':
      return TumblingEventTimeWindows.of(spec.size, spec.offset) as unknown as WindowAssigner<unknown, TimeWindow>
    case 'sliding':
      return SlidingEventTimeWindows.of(spec.size, spec.slide, spec.offset) as unknown as WindowAssigner<unknown, TimeWindow>
    case 'session':
      if (!spec.dynamic) return EventTimeSessionWindows.withGap(spec.gap) as unknown as WindowAssigner<unknown, TimeWindow>
      return EventTimeSessionWindows.withDynamicGap<unknown>((element) => spec.gap + (elementValue(element) % 3)) as unknown as WindowAssigner<unknown, TimeWindow>
  }
}

/** The element's v: of an Ev, or of the Ev inside a join's tagged union. */
function elementValue(element: unknown): number {
  const e = element as Ev | { input: 1 | 2; value: Ev }
  return 'value' in e ? e.value.v : e.v
}

function trigger(spec: TriggerSpec): Trigger<unknown, Window> {
  let nested: Trigger<unknown, Window>
  switch (spec.type) {
    case 'count':
      nested = CountTrigger.of(spec.n)
      break
    case 'continuous':
      nested = ContinuousEventTimeTrigger.of(spec.interval)
      break
    case 'event':
      nested = EventTimeTrigger.create()
      break
  }
  return spec.purging ? PurgingTrigger.of(nested) : nested
}

const sumReduce = (a: Ev, b: Ev): Ev => ({ k: a.k, v: a.v + b.v, ts: Math.max(a.ts, b.ts), mark: false })

interface Acc {
  k: string
  count: number
  sum: number
}

function countSum(withKey: boolean): AggregateFunction<Ev, Acc, string> {
  return {
    createAccumulator: () => ({ k: '', count: 0, sum: 0 }),
    add: (e, acc) => {
      acc.k = e.k
      acc.count++
      acc.sum += e.v
      return acc
    },
    getResult: (acc) => (withKey ? `A|${acc.k}|${acc.count}|${acc.sum}` : `${acc.count}|${acc.sum}`),
    merge: (a, b) => ({ k: a.count > 0 ? a.k : b.k, count: a.count + b.count, sum: a.sum + b.sum }),
  }
}

const listWindowFunction: ProcessWindowFunction<Ev, string, string, Window> = {
  process: (key, context, elements, out) => {
    const sorted = [...elements].sort((a, b) => a.ts - b.ts || a.v - b.v)
    out.collect(`P|${key}|${formatWindow(context.window())}|wm=${formatTimestamp(context.currentWatermark())}|${sorted.map((e) => `${e.v}@${e.ts}`).join(',')}`)
  },
}

const reducedWindowFunction: ProcessWindowFunction<Ev, string, string, Window> = {
  process: (key, context, elements, out) => {
    for (const e of elements) out.collect(`RP|${key}|${formatWindow(context.window())}|wm=${formatTimestamp(context.currentWatermark())}|${e.v}`)
  },
}

const aggregatedWindowFunction: ProcessWindowFunction<string, string, string, Window> = {
  process: (key, context, elements, out) => {
    for (const e of elements) out.collect(`AP|${key}|${formatWindow(context.window())}|wm=${formatTimestamp(context.currentWatermark())}|${e}`)
  },
}

// Two names, as on the Java side (where handles of one name share the namespace set last).
const windowFires = new ValueStateDescriptor<number>('window-fires')
const keyFires = new ValueStateDescriptor<number>('key-fires')
const keyFiresTag = new OutputTag<string>('key-fires')

const statefulWindowFunction: ProcessWindowFunction<Ev, string, string, Window> = {
  process: (key, context, elements, out) => {
    const ofWindow = context.windowState().getState(windowFires)
    const ofKey = context.globalState().getState(keyFires)
    ofWindow.update((ofWindow.value() ?? 0) + 1)
    ofKey.update((ofKey.value() ?? 0) + 1)
    out.collect(`PS|${key}|${formatWindow(context.window())}|wm=${formatTimestamp(context.currentWatermark())}|${ofWindow.value()}|${elements.length}`)
    // Through a side output, without the window's timestamp: in which order windows whose timers have
    // the same timestamp fire is not specified (Flink's timer heap), so only the multiset of these counts
    // is compared.
    context.output(keyFiresTag, `PSK|${key}|${ofKey.value()}`)
  },
  clear: (context) => context.windowState().getState(windowFires).clear(),
}

function windowJob(env: StreamExecutionEnvironment, s: WindowScenario): DataStream<string> {
  const keyed = input(env, s.input, 'input').keyBy((e) => e.k)
  const assigner = s.assigner
  const windowed: WindowedStream<Ev, string, Window> =
    assigner.type === 'count'
      ? (keyed.countWindow(assigner.size, assigner.slide ?? undefined) as unknown as WindowedStream<Ev, string, Window>)
      : keyed.window(timeAssigner(assigner) as unknown as WindowAssigner<Ev, Window>)
  if (s.trigger !== null) windowed.trigger(trigger(s.trigger) as unknown as Trigger<Ev, Window>)
  if (s.lateness > 0) windowed.allowedLateness(s.lateness)
  const lateTag = new OutputTag<Ev>('late')
  if (s.sideOutputLate) windowed.sideOutputLateData(lateTag)
  if (s.evictor !== null) {
    const e = s.evictor
    windowed.evictor(
      e.type === 'count'
        ? CountEvictor.of(e.max, e.after)
        : e.type === 'time'
          ? TimeEvictor.of(e.size, e.after)
          : DeltaEvictor.of<Ev>(e.threshold, (a, b) => Math.abs(a.v - b.v), e.after),
    )
  }
  let windowOperator: SingleOutputStream<unknown>
  let main: DataStream<string>
  switch (s.fn) {
    case 'reduce': {
      const reduced = windowed.reduce(sumReduce)
      windowOperator = reduced as SingleOutputStream<unknown>
      main = reduced.map((e) => `R|${e.k}|${e.v}`)
      break
    }
    case 'aggregate': {
      const aggregated = windowed.aggregate(countSum(true))
      windowOperator = aggregated as SingleOutputStream<unknown>
      main = aggregated
      break
    }
    case 'process': {
      const processed = windowed.process(listWindowFunction)
      windowOperator = processed as SingleOutputStream<unknown>
      main = processed
      break
    }
    case 'reduce+process': {
      const processed = windowed.reduce(sumReduce, reducedWindowFunction)
      windowOperator = processed as SingleOutputStream<unknown>
      main = processed
      break
    }
    case 'aggregate+process': {
      const processed = windowed.aggregate(countSum(false), aggregatedWindowFunction)
      windowOperator = processed as SingleOutputStream<unknown>
      main = processed
      break
    }
    case 'process+state': {
      const processed = windowed.process(statefulWindowFunction)
      windowOperator = processed as SingleOutputStream<unknown>
      main = processed
      break
    }
  }
  let lines: DataStream<string> = main.process(stampWithWatermark)
  if (s.fn === 'process+state') lines = lines.union((main as SingleOutputStream<string>).getSideOutput(keyFiresTag))
  if (s.sideOutputLate) {
    const late = windowOperator
      .getSideOutput(lateTag)
      .map((e) => `L|${e.k}|${e.v}@${e.ts}`)
      .process(stampWithWatermark)
    lines = lines.union(late)
  }
  return lines
}

function windowJoinJob(env: StreamExecutionEnvironment, s: WindowJoinScenario): DataStream<string> {
  const left = input(env, s.left, 'left')
  const right = input(env, s.right, 'right')
  const assigner = timeAssigner(s.assigner)
  let joined: SingleOutputStream<string>
  if (s.kind === 'cogroup') {
    joined = left
      .coGroup(right)
      .where((e) => e.k)
      .equalTo((e) => e.k)
      .window(assigner)
      .apply<string>((lefts, rights, out: Collector<string>) => {
        let key: string | undefined
        const l: string[] = []
        const r: string[] = []
        for (const e of lefts) {
          key = e.k
          l.push(`${e.v}@${e.ts}`)
        }
        for (const e of rights) {
          key = e.k
          r.push(`${e.v}@${e.ts}`)
        }
        l.sort()
        r.sort()
        out.collect(`C|${key}|${l.join(',')}|${r.join(',')}`)
      })
  } else {
    joined = left
      .join(right)
      .where((e) => e.k)
      .equalTo((e) => e.k)
      .window(assigner)
      .apply((a, b) => `J|${a.k}|${a.v}@${a.ts}|${b.v}@${b.ts}`)
  }
  return joined.setParallelism(s.parallelism).process(stamp)
}

function intervalJoinJob(env: StreamExecutionEnvironment, s: IntervalJoinScenario): DataStream<string> {
  const left = input(env, s.left, 'left').keyBy((e) => e.k)
  const right = input(env, s.right, 'right').keyBy((e) => e.k)
  const joined = left.intervalJoin(right).between(s.lower, s.upper)
  if (s.lowerExclusive) joined.lowerBoundExclusive()
  if (s.upperExclusive) joined.upperBoundExclusive()
  return joined
    .process<string>({
      processElement: (l, r, context, out) =>
        out.collect(`I|${l.k}|${l.v}@${l.ts}|${r.v}@${r.ts}|${context.leftTimestamp()}|${context.rightTimestamp()}|${context.timestamp()}`),
    })
    .setParallelism(s.parallelism)
    .process(stamp)
}
