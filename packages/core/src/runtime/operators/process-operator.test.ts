import { describe, expect, it } from 'vitest'
import type { KeyedProcessFunction } from '../../api/functions.js'
import type { Key } from '../../api/state.js'
import { OperatorHarness } from '../__fixtures__/operator-harness.js'
import { KeyedProcessOperator } from './process-operator.js'

describe('KeyedProcessOperator: event-time timers fire in timestamp order', () => {
  it('a timer registered in onTimer fires before later timers of the same watermark; one deleted there does not fire', async () => {
    // As Flink's InternalTimerServiceImpl.advanceWatermark, which polls its queue one timer at a time:
    // onTimer(10) registers 11 and deletes 20, so one watermark past all of them fires 10 and 11 only.
    // Polling every timer up to the watermark at once fired 10, 20 (already taken out), then 11.
    const fn: KeyedProcessFunction<Key, string, number> = {
      processElement: (_value, context) => {
        context.timerService().registerEventTimeTimer(10)
        context.timerService().registerEventTimeTimer(20)
      },
      onTimer: (timestamp, context, out) => {
        out.collect(timestamp)
        if (timestamp === 10) {
          context.timerService().registerEventTimeTimer(11)
          context.timerService().deleteEventTimeTimer(20)
        }
      },
    }
    const h = await OperatorHarness.open(new KeyedProcessOperator('process', 'Process', (value) => value as string, fn as KeyedProcessFunction<Key, unknown, unknown>))
    await h.element(1, 'a', 0)
    h.watermarkTo(100)
    expect(h.output).toEqual([
      { value: 10, timestamp: 10 },
      { value: 11, timestamp: 11 },
    ])
  })
})

describe('KeyedProcessOperator: processing-time timers fire in timestamp order', () => {
  it('a timer registered in onTimer that is already due fires in the same round, before later timers; one deleted there does not fire', async () => {
    // The same rule for processing time (Flink's InternalTimerServiceImpl.onProcessingTime polls its
    // queue timer by timer): at time 100, onTimer(10) registers 11 and deletes 20.
    const fn: KeyedProcessFunction<Key, string, number> = {
      processElement: (_value, context) => {
        context.timerService().registerProcessingTimeTimer(10)
        context.timerService().registerProcessingTimeTimer(20)
        context.timerService().registerProcessingTimeTimer(30)
      },
      onTimer: (timestamp, context, out) => {
        out.collect(timestamp)
        if (timestamp === 10) {
          context.timerService().registerProcessingTimeTimer(11)
          context.timerService().deleteProcessingTimeTimer(20)
        }
      },
    }
    const h = await OperatorHarness.open(new KeyedProcessOperator('process', 'Process', (value) => value as string, fn as KeyedProcessFunction<Key, unknown, unknown>))
    await h.element(1, 'a')
    h.advanceProcessingTime(100)
    expect(h.output.map((record) => record.value)).toEqual([10, 11, 30])
  })
})
