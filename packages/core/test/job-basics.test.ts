import { describe, expect, it } from 'vitest'
import { StreamExecutionEnvironment } from '../src/api/environment.js'
import { type KeyedProcessFunction, OutputTag } from '../src/api/functions.js'
import { type ValueState, ValueStateDescriptor } from '../src/api/state.js'
import { fromElementsSource } from '../src/connectors/from-elements-source.js'
import { CollectSink } from '../src/connectors/collect-sink.js'

const quiet = { onWarning: () => {} }

describe('a bounded job', () => {
  it('maps, filters and collects every record once', async () => {
    const env = StreamExecutionEnvironment.create({ parallelism: 2, ...quiet })
    const sink = new CollectSink<number>()
    env
      .fromIterable(Array.from({ length: 10_000 }, (_, i) => i))
      .map((n) => n * 3)
      .filter((n) => n % 2 === 0)
      .sinkTo(sink)
    const result = await env.execute('map-filter').result
    expect(result.state).toBe('FINISHED')
    const expected = Array.from({ length: 10_000 }, (_, i) => i * 3).filter((n) => n % 2 === 0)
    expect([...sink.results].sort((a, b) => a - b)).toEqual(expected)
  })

  it('keyBy + reduce gives exact running sums per key across parallel subtasks', async () => {
    const env = StreamExecutionEnvironment.create({ parallelism: 3, ...quiet })
    const sink = new CollectSink<{ key: string; total: number }>()
    env
      .fromIterable(Array.from({ length: 3000 }, (_, i) => ({ key: `k${i % 7}`, total: i })))
      .keyBy((e) => e.key)
      .reduce((a, b) => ({ key: a.key, total: a.total + b.total }))
      .sinkTo(sink)
    await env.execute('reduce').result
    expect(sink.results).toHaveLength(3000)
    const finals = new Map<string, number>()
    for (const e of sink.results) finals.set(e.key, Math.max(finals.get(e.key) ?? 0, e.total))
    for (let k = 0; k < 7; k++) {
      let sum = 0
      for (let i = k; i < 3000; i += 7) sum += i
      expect(finals.get(`k${k}`)).toBe(sum)
    }
  })

  it('flatMap, union, connect and side outputs route records as Flink does', async () => {
    const env = StreamExecutionEnvironment.create({ parallelism: 2, ...quiet })
    // biome-ignore lint/suspicious/useIterableCallbackReturn: DataStream.flatMap emits through the collector
    const words = env.fromElements('a b', 'c').flatMap<string>((line, out) => {
      for (const w of line.split(' ')) out.collect(w)
    })
    const more = env.fromElements('d', 'e')
    const numbers = env.fromElements(1, 2)
    const odd = new OutputTag<string>('odd')
    const main = words
      .union(more)
      .connect(numbers)
      .map(
        (w) => `word:${w}`,
        (n) => `number:${n}`,
      )
      .process<string>({
        processElement(value, context, out) {
          if (value.length % 2 === 1) context.output(odd, value)
          else out.collect(value)
        },
      })
    const mainSink = new CollectSink<string>()
    const oddSink = new CollectSink<string>()
    main.sinkTo(mainSink)
    main.getSideOutput(odd).sinkTo(oddSink)
    await env.execute('routing').result
    const all = [...mainSink.results, ...oddSink.results].sort()
    expect(all).toEqual(['number:1', 'number:2', 'word:a', 'word:b', 'word:c', 'word:d', 'word:e'])
    expect(oddSink.results.every((v) => v.length % 2 === 1)).toBe(true)
    expect(mainSink.results.every((v) => v.length % 2 === 0)).toBe(true)
  })

  it('fires event-time timers when the watermark passes them, with the key and its state', async () => {
    const env = StreamExecutionEnvironment.create({ parallelism: 2, ...quiet })
    const sink = new CollectSink<string>()
    const count = new ValueStateDescriptor<number>('count')
    // As in Flink, per-subtask handles live on `this` (each subtask gets its own instance).
    const fn: KeyedProcessFunction<string, string, string> & { state?: ValueState<number> } = {
      open(context) {
        this.state = context.getState(count)
      },
      processElement(_value, context) {
        const state = this.state as ValueState<number>
        const current = state.value() ?? 0
        state.update(current + 1)
        if (current === 0) context.timerService().registerEventTimeTimer((context.timestamp() ?? 0) + 10)
      },
      onTimer(timestamp, context, out) {
        out.collect(`${context.getCurrentKey()}=${this.state?.value()}@${timestamp} ${context.timeDomain()}`)
      },
    }
    env
      .fromSource(fromElementsSource(['x', 'y', 'x', 'x'], { timestamps: (_v, index) => 100 + index }))
      .keyBy((s) => s)
      .process(fn)
      .sinkTo(sink)
    await env.execute('event-timers').result
    // The final MAX watermark of bounded input fires every event-time timer.
    expect([...sink.results].sort()).toEqual(['x=3@110 EVENT_TIME', 'y=1@111 EVENT_TIME'])
  })

  it('fires processing-time timers on an endless stream', async () => {
    const env = StreamExecutionEnvironment.create({ parallelism: 2, ...quiet })
    const fired: string[] = []
    const fn: KeyedProcessFunction<string, string, string> = {
      processElement(_value, context) {
        const timers = context.timerService()
        timers.registerProcessingTimeTimer(Math.ceil(timers.currentProcessingTime() / 50) * 50 + 50)
      },
      onTimer(_timestamp, context, out) {
        out.collect(`${context.getCurrentKey()} ${context.timeDomain()}`)
      },
    }
    env
      .datagen({ generator: (i) => (i % 2 === 0 ? 'even' : 'odd'), recordsPerSecond: 200 })
      .keyBy((s) => s)
      .process(fn)
      .sinkTo({ createWriter: () => ({ write: (records: readonly string[]) => void fired.push(...records), flush() {}, close() {} }) })
    const job = env.execute('processing-timers')
    while (!(fired.includes('even PROCESSING_TIME') && fired.includes('odd PROCESSING_TIME'))) {
      await new Promise((resolve) => setTimeout(resolve, 10))
    }
    await job.cancel()
    expect((await job.result).state).toBe('CANCELED')
  })
})

describe('configuration errors', () => {
  it('names the option path and the bad value', () => {
    expect(() => StreamExecutionEnvironment.create({ checkpointing: { interval: -5 } })).toThrow(
      'checkpointing.interval: expected an integer >= 1, got -5',
    )
    expect(() => StreamExecutionEnvironment.create({ paralelism: 2 } as never)).toThrow(/paralelism: unknown option/)
    expect(() => StreamExecutionEnvironment.create({ checkpointing: { interval: 10, mode: 'EXACTLY' as never } })).toThrow(
      "checkpointing.mode: expected 'EXACTLY_ONCE' | 'AT_LEAST_ONCE', got 'EXACTLY'",
    )
    expect(() => StreamExecutionEnvironment.create({ parallelism: 0 })).toThrow('parallelism: expected an integer in [1, 128], got 0')
  })

  it('rejects a job without sink and an unbounded source in BATCH mode', async () => {
    const env = StreamExecutionEnvironment.create(quiet)
    env.fromElements(1).map((n) => n)
    expect(() => env.execute('no-sink')).toThrow(/no sink/)
    const batch = StreamExecutionEnvironment.create({ runtimeMode: 'BATCH', ...quiet })
    batch.datagen({ generator: (i) => i }).sinkTo(new CollectSink<number>())
    await expect(batch.execute('batch-unbounded').result).rejects.toThrow(/BATCH needs bounded sources/)
  })
})

describe('BATCH runtime mode', () => {
  it('runs bounded input and emits only the final reduction per key (as Flink does)', async () => {
    const env = StreamExecutionEnvironment.create({ runtimeMode: 'BATCH', parallelism: 2, ...quiet })
    const sink = new CollectSink<[string, number]>()
    env
      .fromIterable(Array.from({ length: 1000 }, (_, i): [string, number] => [`k${i % 3}`, i]))
      .keyBy((pair) => pair[0])
      .reduce((a, b) => [a[0], a[1] + b[1]])
      .sinkTo(sink)
    const result = await env.execute('batch-sums').result
    expect(result.state).toBe('FINISHED')
    const sums = [0, 1, 2].map((k) => Array.from({ length: 1000 }, (_, i) => i).filter((i) => i % 3 === k).reduce((a, b) => a + b, 0))
    expect([...sink.results].sort()).toEqual([
      ['k0', sums[0]],
      ['k1', sums[1]],
      ['k2', sums[2]],
    ])
  })
})
