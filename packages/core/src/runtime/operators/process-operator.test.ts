import { describe, expect, it } from 'vitest'
import type { KeyedProcessFunction, TimerService } from '../../api/functions.js'
import type { Key } from '../../api/state.js'
import { OperatorHarness } from '../__fixtures__/operator-harness.js'
import { KeyedProcessOperator } from './process-operator.js'

/** The same timer calls in either time domain. */
const domains = {
  'event time': {
    register: (timers: TimerService, timestamp: number) => timers.registerEventTimeTimer(timestamp),
    remove: (timers: TimerService, timestamp: number) => timers.deleteEventTimeTimer(timestamp),
    advance: (h: OperatorHarness<KeyedProcessOperator>) => h.watermarkTo(100),
  },
  'processing time': {
    register: (timers: TimerService, timestamp: number) => timers.registerProcessingTimeTimer(timestamp),
    remove: (timers: TimerService, timestamp: number) => timers.deleteProcessingTimeTimer(timestamp),
    advance: (h: OperatorHarness<KeyedProcessOperator>) => h.advanceProcessingTime(100),
  },
}

describe('KeyedProcessOperator: timers fire in timestamp order, one timestamp at a time', () => {
  for (const [name, domain] of Object.entries(domains)) {
    it(`${name}: a timer registered in onTimer that is already due fires before later ones; one deleted there does not fire`, async () => {
      // As Flink's InternalTimerServiceImpl, which polls its queue one timer at a time: with timers at
      // 10, 20 and 30, onTimer(10) registers 11 and deletes 20, so time 100 fires 10, 11 and 30.
      // Polling every due timer at once fired 10, 20 (already taken out), 30, and 11 only later.
      const fn: KeyedProcessFunction<Key, string, number> = {
        processElement: (_value, context) => {
          for (const timestamp of [10, 20, 30]) domain.register(context.timerService(), timestamp)
        },
        onTimer: (timestamp, context, out) => {
          out.collect(timestamp)
          if (timestamp === 10) {
            domain.register(context.timerService(), 11)
            domain.remove(context.timerService(), 20)
          }
        },
      }
      const h = await OperatorHarness.open(new KeyedProcessOperator('process', 'Process', (value) => value as string, fn as KeyedProcessFunction<Key, unknown, unknown>))
      await h.element(1, 'a', 0)
      domain.advance(h)
      expect(h.output.map((record) => record.value)).toEqual([10, 11, 30])
    })
  }
})
