import { describe, expect, it } from 'vitest'
import { StreamExecutionEnvironment } from '../src/api/environment.js'
import { OutputTag, type ProcessFunction } from '../src/api/functions.js'
import type { AggregateFunction } from '../src/api/state.js'
import { WatermarkStrategy } from '../src/api/watermark-strategy.js'
import { CountTrigger } from '../src/api/windowing/count-trigger.js'
import { EventTimeSessionWindows } from '../src/api/windowing/event-time-session-windows.js'
import { GlobalWindows } from '../src/api/windowing/global-windows.js'
import type { ProcessWindowFunction } from '../src/api/windowing/process-window-function.js'
import { PurgingTrigger } from '../src/api/windowing/purging-trigger.js'
import { SlidingEventTimeWindows } from '../src/api/windowing/sliding-event-time-windows.js'
import type { TimeWindow } from '../src/api/windowing/time-window.js'
import { Trigger, TriggerResult } from '../src/api/windowing/trigger.js'
import { TumblingEventTimeWindows } from '../src/api/windowing/tumbling-event-time-windows.js'
import { CollectSink } from '../src/connectors/collect-sink.js'
import { fromElementsSource } from '../src/connectors/from-elements-source.js'
import { ConfigError, JobGraphError } from '../src/errors.js'
import { type ScriptStep, scriptedSource } from './__fixtures__/scripted-source.js'

interface Event {
  key: string
  value: number
}

const count: AggregateFunction<Event, number, number> = {
  createAccumulator: () => 0,
  add: (_event, accumulator) => accumulator + 1,
  getResult: (accumulator) => accumulator,
  merge: (a, b) => a + b,
}

/** `key:start:result` for each evaluation of a window. */
const label: ProcessWindowFunction<number, string, string, TimeWindow> = {
  process(key, context, elements, out) {
    for (const element of elements) out.collect(`${key}:${context.window().start}:${element}`)
  },
}

/** Appends `@timestamp` to each record, so the tests see the timestamps windows give their results. */
const withTimestamp: ProcessFunction<unknown, string> = {
  processElement(value, context, out) {
    out.collect(`${typeof value === 'string' ? value : JSON.stringify(value)}@${context.timestamp()}`)
  },
}

const e = (key: string, value: number, timestamp: number): ScriptStep<Event> => ({ value: { key, value }, timestamp })
const wm = (watermark: number): ScriptStep<Event> => ({ watermark })

/**
 * The hand-computed case (tumbling 10 ms windows, allowed lateness 5, late side output): the
 * watermarks are written into the script, so what is late is exactly determined.
 */
const script: ScriptStep<Event>[] = [
  e('a', 1, 1),
  e('b', 1, 2),
  e('a', 1, 5),
  e('a', 1, 12),
  wm(10), // fires [0,10): a has 2, b has 1
  e('a', 1, 8), // late, within lateness (cleanup at 14): re-fires a's [0,10) with 3
  e('b', 1, 3), // re-fires b's [0,10) with 2
  e('a', 1, 20),
  wm(18), // fires [10,20) of a (1); cleanup of [0,10) at 14
  e('a', 1, 7), // [0,10) is gone and 7 + 5 <= 18: late side output
  e('b', 1, 16), // [10,20) still open (19 > 18)
  e('a', 1, 25),
  wm(23), // fires [10,20) of b (1)
  // end of input: MAX watermark fires [20,30) of a (2)
]
const expectedMain = ['a:0:2@9', 'b:0:1@9', 'a:0:3@9', 'b:0:2@9', 'a:10:1@19', 'b:10:1@19', 'a:20:2@29']

async function runScript(parallelism: number, build: (env: StreamExecutionEnvironment) => void): Promise<void> {
  const env = StreamExecutionEnvironment.create({ parallelism, onWarning: () => {} })
  build(env)
  const result = await env.execute('windows-test').result
  expect(result.state).toBe('FINISHED')
}

describe('event-time windows in a job: exact output (hand-computed)', () => {
  for (const parallelism of [1, 3]) {
    it(`tumbling windows with allowed lateness and a late side output, window parallelism ${parallelism}`, async () => {
      const main = new CollectSink<string>()
      const late = new CollectSink<string>()
      const lateTag = new OutputTag<Event>('late')
      await runScript(parallelism, (env) => {
        const windowed = env
          .fromSource(scriptedSource([script]), 'script')
          .setParallelism(1)
          .keyBy((event) => event.key)
          .window(TumblingEventTimeWindows.of(10))
          .allowedLateness(5)
          .sideOutputLateData(lateTag)
          .aggregate(count, label)
        windowed.process(withTimestamp).sinkTo(main)
        windowed.getSideOutput(lateTag).process(withTimestamp).sinkTo(late)
      })
      expect([...main.results].sort()).toEqual([...expectedMain].sort())
      // per key, the re-firings come in order
      expect(main.results.filter((r) => r.startsWith('a:0:'))).toEqual(['a:0:2@9', 'a:0:3@9'])
      expect(late.results).toEqual(['{"key":"a","value":1}@7'])
    })
  }

  it('the same with assignTimestampsAndWatermarks (a punctuated generator) instead of source watermarks', async () => {
    // Watermarks as records: the generator emits one when it sees a marker record (-1 value), which is then filtered out.
    const elements: { event: Event; timestamp: number }[] = []
    for (const step of script) {
      if ('watermark' in step) elements.push({ event: { key: '', value: -1 }, timestamp: step.watermark })
      else elements.push({ event: step.value, timestamp: step.timestamp })
    }
    const punctuated = WatermarkStrategy.forGenerator<{ event: Event; timestamp: number }>(() => ({
      onEvent: (item, timestamp, output) => {
        if (item.event.value === -1) output.emitWatermark(timestamp)
      },
      onPeriodicEmit: () => {},
    })).withTimestampAssigner((item) => item.timestamp)
    const main = new CollectSink<string>()
    await runScript(2, (env) => {
      env
        .fromIterable(elements)
        .setParallelism(1)
        // One generator sees the whole script and the records keep their order up to keyBy, so what
        // is late is fixed (a rebalance in between would let records overtake watermarks).
        .assignTimestampsAndWatermarks(punctuated)
        .setParallelism(1)
        .filter((item) => item.event.value !== -1)
        .setParallelism(1)
        .map((item) => item.event)
        .setParallelism(1)
        .keyBy((event) => event.key)
        .window(TumblingEventTimeWindows.of(10))
        .allowedLateness(5)
        .aggregate(count, label)
        .process(withTimestamp)
        .sinkTo(main)
    })
    expect([...main.results].sort()).toEqual([...expectedMain].sort())
  })

  it('sliding windows and reduce: every window of an element, results at maxTimestamp', async () => {
    const main = new CollectSink<string>()
    await runScript(2, (env) => {
      env
        .fromSource(fromElementsSource([1, 2, 3, 4, 5, 6], { timestamps: (value) => value * 2 }), WatermarkStrategy.forMonotonousTimestamps<number>(), 'numbers')
        .keyBy((n) => n % 2)
        .window(SlidingEventTimeWindows.of(6, 3))
        .reduce((a, b) => a + b)
        .process(withTimestamp)
        .sinkTo(main)
    })
    // timestamps 2,4,6,8,10,12 (values 1..6); odd key: 1@2, 3@6, 5@10; even: 2@4, 4@8, 6@12
    // windows of size 6 every 3: [-3,3) [0,6) [3,9) [6,12) [9,15) [12,18)
    expect([...main.results].sort()).toEqual(
      ['1@2', '1@5', '3@8', '8@11', '5@14', '2@5', '6@8', '4@11', '6@14', '6@17'].sort(),
    )
  })

  it('session windows merge across records of a key; windowAll counts the whole stream', async () => {
    const sessions = new CollectSink<string>()
    const all = new CollectSink<string>()
    const steps = [e('a', 1, 0), e('a', 1, 4), e('b', 1, 5), e('a', 1, 9), e('a', 1, 20), e('b', 1, 14), e('b', 1, 15)]
    await runScript(2, (env) => {
      const events = env.fromSource(scriptedSource([steps]), 'script').setParallelism(1)
      events
        .keyBy((event) => event.key)
        .window(EventTimeSessionWindows.withGap(5))
        .aggregate(count, {
          process: (key, context, elements, out) => out.collect(`${key}:[${context.window().start},${context.window().end}):${elements[0]}`),
        })
        .sinkTo(sessions)
      events
        .windowAll(TumblingEventTimeWindows.of(10))
        .aggregate(count, (window, counts, out) => out.collect(`[${window.start},${window.end}):${counts[0]}`))
        .sinkTo(all)
    })
    // a: 0,4,9 chain ([0,5) [4,9) [9,14) touch) → [0,14); 20 → [20,25). b: 5 → [5,10); 14,15 → [14,20)
    expect([...sessions.results].sort()).toEqual(['a:[0,14):3', 'a:[20,25):1', 'b:[5,10):1', 'b:[14,20):2'].sort())
    expect([...all.results].sort()).toEqual(['[0,10):4', '[10,20):2', '[20,30):1'].sort())
  })

  it('GlobalWindows with a purging count trigger: count windows per key', async () => {
    const main = new CollectSink<number>()
    await runScript(3, (env) => {
      env
        .fromIterable(Array.from({ length: 20 }, (_, i) => i + 1))
        .setParallelism(1) // one source subtask: the order of each key's elements is fixed
        .keyBy((n) => n % 2)
        .window(GlobalWindows.create())
        .trigger(PurgingTrigger.of(CountTrigger.of(4)))
        .reduce((a, b) => a + b)
        .sinkTo(main)
    })
    // odd: 1+3+5+7=16, 9+11+13+15=48, (17,19 stay); even: 2+4+6+8=20, 10+..+16=52, (18,20 stay)
    expect([...main.results].sort((a, b) => a - b)).toEqual([16, 20, 48, 52])
  })

  it('countWindow: tumbling and sliding count windows per key; countWindowAll over the stream', async () => {
    const tumbling = new CollectSink<number>()
    const sliding = new CollectSink<number>()
    const all = new CollectSink<number>()
    await runScript(2, (env) => {
      const numbers = env.fromIterable([1, 2, 3, 4, 5, 6, 7]).setParallelism(1)
      numbers.keyBy(() => 'k').countWindow(3).reduce((a, b) => a + b).sinkTo(tumbling)
      numbers.keyBy(() => 'k').countWindow(3, 2).reduce((a, b) => a + b).sinkTo(sliding)
      numbers.countWindowAll(4).reduce((a, b) => a + b).sinkTo(all)
    })
    expect(tumbling.results).toEqual([6, 15]) // 1+2+3, 4+5+6 (7 waits)
    expect(sliding.results).toEqual([3, 9, 15]) // [1,2], [2,3,4], [4,5,6]
    expect(all.results).toEqual([10])
  })

  it('rejects misuse when the plan is built', () => {
    const env = StreamExecutionEnvironment.create()
    const keyed = env.fromElements(1).keyBy((n) => n)
    class FiresNever extends Trigger<number, TimeWindow> {
      onElement = () => TriggerResult.CONTINUE
      onEventTime = () => TriggerResult.CONTINUE
      onProcessingTime = () => TriggerResult.CONTINUE
      clear(): void {}
    }
    expect(() => keyed.window(EventTimeSessionWindows.withGap(5)).trigger(CountTrigger.of(2))).not.toThrow()
    expect(() => keyed.window(EventTimeSessionWindows.withGap(5)).trigger(new FiresNever())).toThrow(/merging window assigner/)
    expect(() => keyed.window(TumblingEventTimeWindows.of(5)).allowedLateness(-1)).toThrow(ConfigError)
    expect(() => env.fromElements(1).windowAll(GlobalWindows.create()).reduce((a, b) => a + b).setParallelism(2)).toThrow(JobGraphError)
  })
})
