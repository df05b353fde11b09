import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import type { KeyedBroadcastProcessFunction, BroadcastProcessFunction } from '../src/api/broadcast-process-function.js'
import type { BroadcastState } from '../src/api/broadcast-state.js'
import { StreamExecutionEnvironment } from '../src/api/environment.js'
import type { Source } from '../src/api/source.js'
import type { SourceReader } from '../src/api/source-reader.js'
import type { SourceSplit } from '../src/api/source-split.js'
import { type ListState, ListStateDescriptor, MapStateDescriptor, type ValueState, ValueStateDescriptor } from '../src/api/state.js'
import { RestartStrategies } from '../src/checkpoint/restart-strategy.js'
import { CollectSink } from '../src/connectors/collect-sink.js'
import { fromElementsSource } from '../src/connectors/from-elements-source.js'
import { IllegalStateError } from '../src/errors.js'
import { type ScriptStep, scriptedSource } from './__fixtures__/scripted-source.js'

const quiet = { onWarning: () => {} }

interface Rule {
  name: string
  factor: number
}
const rulesDescriptor = new MapStateDescriptor<string, number>('rules')

let directory: string
beforeEach(async () => {
  directory = await mkdtemp(path.join(tmpdir(), 'sluice-bc-'))
})
afterEach(async () => {
  await rm(directory, { recursive: true, force: true })
})

const until = async (condition: () => boolean, what: string, timeoutMs = 20_000) => {
  const deadline = Date.now() + timeoutMs
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`)
    await new Promise((r) => setTimeout(r, 5))
  }
}

/** Wraps a source so that its readers emit nothing until `isOpen()`: orders the inputs of a test without relying on timing. */
function gatedSource<T, S extends SourceSplit, C>(source: Source<T, S, C>, isOpen: () => boolean): Source<T, S, C> {
  return {
    boundedness: source.boundedness,
    createEnumerator: (context) => source.createEnumerator(context),
    restoreEnumerator: (context, checkpoint) => source.restoreEnumerator(context, checkpoint),
    splitSerializer: () => source.splitSerializer(),
    enumeratorCheckpointSerializer: () => source.enumeratorCheckpointSerializer(),
    createReader(context): SourceReader<T, S> {
      const reader = source.createReader(context)
      return {
        start: () => reader.start(),
        pollNext: (output) => (isOpen() ? reader.pollNext(output) : 'NOTHING_AVAILABLE'),
        isAvailable: () => (isOpen() ? reader.isAvailable() : new Promise((resolve) => setTimeout(resolve, 2))),
        addSplits: (splits) => reader.addSplits(splits),
        notifyNoMoreSplits: () => reader.notifyNoMoreSplits(),
        snapshotState: (checkpointId) => reader.snapshotState(checkpointId),
        close: () => reader.close(),
      }
    },
  }
}

describe('broadcast state', () => {
  it('gives every subtask every broadcast element and its own copy of the state', async () => {
    const env = StreamExecutionEnvironment.create({ parallelism: 3, ...quiet })
    const rules = env.fromElements<Rule>({ name: 'a', factor: 2 }, { name: 'b', factor: 3 }).broadcast(rulesDescriptor)
    const sink = new CollectSink<string>()
    const fn: BroadcastProcessFunction<number, Rule, string> & { subtask?: number } = {
      open(context) {
        this.subtask = context.subtaskId
      },
      processElement() {},
      processBroadcastElement(rule, context, out) {
        const state = context.getBroadcastState(rulesDescriptor)
        state.put(rule.name, rule.factor)
        out.collect(`${this.subtask}:${rule.name} size=${state.size}`)
      },
    }
    env.fromElements<number>().connect(rules).process(fn).sinkTo(sink)
    await env.execute('replicated').result
    expect([...sink.results].sort()).toEqual(['0:a size=1', '0:b size=2', '1:a size=1', '1:b size=2', '2:a size=1', '2:b size=2'])
  })

  it('is read-only in processElement: a write fails the job with an IllegalStateError naming the state', async () => {
    const env = StreamExecutionEnvironment.create({ ...quiet })
    const rules = env.fromElements<Rule>().broadcast(rulesDescriptor)
    const fn: BroadcastProcessFunction<number, Rule, string> = {
      processElement(value, context) {
        // Not in the type: as a JavaScript user (or a cast) would call it.
        ;(context.getBroadcastState(rulesDescriptor) as unknown as BroadcastState<string, number>).put('x', value)
      },
      processBroadcastElement() {},
    }
    env.fromElements(1).connect(rules).process(fn).sinkTo(new CollectSink<string>())
    const failure = await env.execute('read-only').result.catch((error: unknown) => error)
    let cause: unknown = failure
    while (cause instanceof Error && !IllegalStateError.isInstance(cause)) cause = cause.cause
    expect(IllegalStateError.isInstance(cause)).toBe(true)
    expect(String((cause as Error).message)).toMatch(/broadcast state 'rules' of operator 'Broadcast Process' \(1\/1\) is read-only here: put\(\) was called/)
  })

  it('refuses a descriptor that was not given to broadcast(...)', async () => {
    const env = StreamExecutionEnvironment.create({ ...quiet })
    const rules = env.fromElements<Rule>({ name: 'a', factor: 1 }).broadcast(rulesDescriptor)
    const fn: BroadcastProcessFunction<number, Rule, string> = {
      processElement() {},
      processBroadcastElement(_rule, context) {
        context.getBroadcastState(new MapStateDescriptor<string, number>('typo'))
      },
    }
    env.fromElements<number>().connect(rules).process(fn).sinkTo(new CollectSink<string>())
    await expect(env.execute('typo').result).rejects.toThrow(/there is no broadcast state 'typo'; pass its descriptor to stream.broadcast\(...\) \(registered: 'rules'\)/)
  })

  it('rejects non-map and duplicate descriptors at build time', () => {
    const env = StreamExecutionEnvironment.create({ ...quiet })
    const stream = env.fromElements(1)
    expect(() => stream.broadcast(new ValueStateDescriptor('v') as never)).toThrow(/expected MapStateDescriptors/)
    expect(() => stream.broadcast(rulesDescriptor, new MapStateDescriptor('rules'))).toThrow(/two descriptors are named 'rules'/)
  })
})

// ------------------------------------------------------------------ keyed: enrich events, buffering until the info arrives

interface Event {
  user: string
  seq: number
}
interface UserInfo {
  user: string
  name: string
}
const usersDescriptor = new MapStateDescriptor<string, string>('users')
const pendingDescriptor = new ListStateDescriptor<Event>('pending')

/**
 * Enriches each event with its user's name from broadcast state. An event whose user is not known yet
 * waits in keyed state; when the user's info arrives, `applyToKeyedState` releases the waiting events of
 * that user. So every event is enriched exactly once whatever the order of the two inputs.
 */
function enricher(log?: { broadcasts: number }): KeyedBroadcastProcessFunction<string, Event, UserInfo, string> & { pending?: ListState<Event> } {
  return {
    open(context) {
      this.pending = context.getListState(pendingDescriptor)
    },
    processElement(event, context, out) {
      const name = context.getBroadcastState(usersDescriptor).get(event.user)
      if (name === undefined) (this.pending as ListState<Event>).add(event)
      else out.collect(`${event.user}#${event.seq}:${name}`)
    },
    processBroadcastElement(info, context, out) {
      context.getBroadcastState(usersDescriptor).put(info.user, info.name)
      if (log) log.broadcasts++
      context.applyToKeyedState(pendingDescriptor, (user, pending) => {
        if (user !== info.user) return
        for (const event of pending.get()) out.collect(`${event.user}#${event.seq}:${info.name}`)
        pending.clear()
      })
    },
  }
}

const NAMES = ['Zhang San', 'Li Si', 'Wang Wu', 'Zhao Liu', 'Sun Qi', 'Zhou Ba', 'Wu Jiu', 'Zheng Shi', 'Feng Yi', 'Chen Er', 'Chu San', 'Wei Si']
const USERS: UserInfo[] = NAMES.map((name, i) => ({ user: `u${i + 1}`, name }))
const nameOf = new Map(USERS.map((u) => [u.user, u.name]))
const eventAt = (seq: number): Event => ({ user: `u${(seq % USERS.length) + 1}`, seq })
const expectedEnriched = (count: number) =>
  Array.from({ length: count }, (_, seq) => eventAt(seq))
    .map((e) => `${e.user}#${e.seq}:${nameOf.get(e.user)}`)
    .sort()

/** Events in `splits` scripts, each record its own step; no timestamps needed here. */
function eventScripts(count: number, splits: number): ScriptStep<Event>[][] {
  return Array.from({ length: splits }, (_, s) =>
    Array.from({ length: count }, (_, seq) => seq)
      .filter((seq) => seq % splits === s)
      .map((seq) => ({ value: eventAt(seq), timestamp: seq })),
  )
}

describe('keyed broadcast state', () => {
  it('enriches every event exactly once whatever the arrival order of the two inputs (timing-dependent order)', async () => {
    const env = StreamExecutionEnvironment.create({ parallelism: 3, ...quiet })
    const users = env.fromSource(scriptedSource([[{ watermark: 0 }, ...USERS.map((u, i) => ({ value: u, timestamp: i }))]], { pauseMs: 100 }), 'users')
    const sink = new CollectSink<string>()
    env
      .fromSource(fromElementsSource(Array.from({ length: 400 }, (_, seq) => eventAt(seq))), 'events')
      .keyBy((e) => e.user)
      .connect(users.broadcast(usersDescriptor))
      .process(enricher())
      .sinkTo(sink)
    await env.execute('enrich').result
    expect([...sink.results].sort()).toEqual(expectedEnriched(400))
  })

  it('buffers keyed events until the rule arrives; applyToKeyedState visits exactly the buffering keys on each subtask, releases them once and clears them', async () => {
    // Phase 1 (no rule yet): every event is buffered. Per key: u1 3, u2 1, u3 2, u4 4, u5 1.
    const early: Event[] = [1, 2, 1, 3, 4, 1, 3, 5, 4, 4, 4].map((u, seq) => ({ user: `u${u}`, seq }))
    // Phase 2 (after the rule): a key that had buffered events, and a new key.
    const late: Event[] = [
      { user: 'u1', seq: 20 },
      { user: 'u6', seq: 21 },
    ]
    const lastSeqDescriptor = new ValueStateDescriptor<number>('last-seq')
    let processed = 0
    let applied = 0
    /** user → subtask and number of events, recorded when an event is added to the buffer. */
    const buffered = new Map<string, { subtask: number; count: number }>()
    /** user → the subtask its events were processed on (one per key). */
    const keySubtask = new Map<string, number>()
    /** What each applyToKeyedState call saw: `factor subtask:key ...`. */
    const pendingVisits: string[] = []
    const lastSeqVisits: string[] = []
    const fn: KeyedBroadcastProcessFunction<string, Event, Rule, string> & { subtask?: number; pending?: ListState<Event>; lastSeq?: ValueState<number> } = {
      open(context) {
        this.subtask = context.subtaskId
        this.pending = context.getListState(pendingDescriptor)
        this.lastSeq = context.getState(lastSeqDescriptor)
      },
      processElement(event, context, out) {
        processed++
        expect(keySubtask.get(event.user) ?? this.subtask).toBe(this.subtask)
        keySubtask.set(event.user, this.subtask as number)
        ;(this.lastSeq as ValueState<number>).update(event.seq)
        const factor = context.getBroadcastState(rulesDescriptor).get('bonus')
        if (factor !== undefined) {
          out.collect(`${event.user}#${event.seq}*${factor}`)
          return
        }
        ;(this.pending as ListState<Event>).add(event)
        const entry = buffered.get(event.user) ?? { subtask: this.subtask as number, count: 0 }
        entry.count++
        buffered.set(event.user, entry)
      },
      processBroadcastElement(rule, context, out) {
        context.getBroadcastState(rulesDescriptor).put(rule.name, rule.factor)
        context.applyToKeyedState(pendingDescriptor, (user, pending) => {
          const events = [...pending.get()]
          pendingVisits.push(`${rule.factor} ${this.subtask}:${user} pending=${events.map((e) => e.seq).join(',')}`)
          for (const event of events) out.collect(`${event.user}#${event.seq}*${rule.factor}`)
          pending.clear()
        })
        context.applyToKeyedState(lastSeqDescriptor, (user, lastSeq) => {
          lastSeqVisits.push(`${rule.factor} ${this.subtask}:${user} last=${lastSeq.value()}`)
        })
        applied++
      },
    }
    const env = StreamExecutionEnvironment.create({ parallelism: 2, ...quiet })
    // The order is forced by gates, not by timing: early events → rule 10 (on both subtasks) → late events → rule 20.
    // A gate stays open once opened (>=): a source closed again before its end of input would never end.
    const events = env
      .fromSource(fromElementsSource(early), 'early')
      .union(env.fromSource(gatedSource(fromElementsSource(late), () => applied >= 2), 'late'))
      .keyBy((e) => e.user)
    const rules = env
      .fromSource(gatedSource(fromElementsSource<Rule>([{ name: 'bonus', factor: 10 }]), () => processed >= early.length), 'rule-10')
      .union(env.fromSource(gatedSource(fromElementsSource<Rule>([{ name: 'bonus', factor: 20 }]), () => processed >= early.length + late.length), 'rule-20'))
    const sink = new CollectSink<string>()
    events.connect(rules.broadcast(rulesDescriptor)).process(fn).sinkTo(sink)
    await env.execute('apply-to-keyed-state').result

    // Everything of phase 1 was buffered, per key, each key on one subtask; the keys are spread over both subtasks.
    const counts = Object.fromEntries([...buffered].map(([user, entry]) => [user, entry.count]))
    expect(counts).toEqual({ u1: 3, u2: 1, u3: 2, u4: 4, u5: 1 })
    expect(new Set([...buffered.values()].map((entry) => entry.subtask))).toEqual(new Set([0, 1]))
    // Rule 10 visits exactly the five buffering keys, each once on its own subtask, with its events in arrival order.
    // Rule 20 visits none: the buffers were cleared, and u6 (arrived after the rule) never buffered.
    const subtaskOf = (user: string) => keySubtask.get(user)
    expect(pendingVisits.sort()).toEqual(
      [
        `10 ${subtaskOf('u1')}:u1 pending=0,2,5`,
        `10 ${subtaskOf('u2')}:u2 pending=1`,
        `10 ${subtaskOf('u3')}:u3 pending=3,6`,
        `10 ${subtaskOf('u4')}:u4 pending=4,8,9,10`,
        `10 ${subtaskOf('u5')}:u5 pending=7`,
      ].sort(),
    )
    // A state other than the buffer: every key with an entry, on its subtask (u6 only after phase 2).
    expect(lastSeqVisits.sort()).toEqual(
      [
        `10 ${subtaskOf('u1')}:u1 last=5`,
        `10 ${subtaskOf('u2')}:u2 last=1`,
        `10 ${subtaskOf('u3')}:u3 last=6`,
        `10 ${subtaskOf('u4')}:u4 last=10`,
        `10 ${subtaskOf('u5')}:u5 last=7`,
        `20 ${subtaskOf('u1')}:u1 last=20`,
        `20 ${subtaskOf('u2')}:u2 last=1`,
        `20 ${subtaskOf('u3')}:u3 last=6`,
        `20 ${subtaskOf('u4')}:u4 last=10`,
        `20 ${subtaskOf('u5')}:u5 last=7`,
        `20 ${subtaskOf('u6')}:u6 last=21`,
      ].sort(),
    )
    // Each buffered event enriched once with rule 10; the late ones directly; nothing released again by rule 20.
    expect([...sink.results].sort()).toEqual(
      [...early.map((e) => `${e.user}#${e.seq}*10`), 'u1#20*10', 'u6#21*10'].sort(),
    )
  })

  it.each([
    ['put', (state: BroadcastState<string, string>) => state.put('u1', 'x')],
    ['putAll', (state: BroadcastState<string, string>) => state.putAll(new Map([['u1', 'x']]))],
    ['remove', (state: BroadcastState<string, string>) => state.remove('u1')],
    ['clear', (state: BroadcastState<string, string>) => state.clear()],
  ] as const)('is read-only in processElement of a keyed function: %s() fails the job with an IllegalStateError naming the state', async (method, write) => {
    const env = StreamExecutionEnvironment.create({ ...quiet })
    const users = env.fromElements<UserInfo>().broadcast(usersDescriptor)
    let attempts = 0
    const fn: KeyedBroadcastProcessFunction<string, Event, UserInfo, string> = {
      processElement(_event, context) {
        attempts++
        // Not in the type: as a JavaScript user (or a cast) would call it.
        write(context.getBroadcastState(usersDescriptor) as unknown as BroadcastState<string, string>)
      },
      processBroadcastElement() {},
    }
    const sink = new CollectSink<string>()
    env
      .fromElements(eventAt(0))
      .keyBy((e) => e.user)
      .connect(users)
      .process(fn)
      .sinkTo(sink)
    const failure = await env.execute('keyed-read-only').result.catch((error: unknown) => error)
    let cause: unknown = failure
    while (cause instanceof Error && !IllegalStateError.isInstance(cause)) cause = cause.cause
    expect(IllegalStateError.isInstance(cause)).toBe(true)
    expect((cause as Error).message).toBe(
      `broadcast state 'users' of operator 'Keyed Broadcast Process' (1/1) is read-only here: ${method}() was called from processElement or onTimer; ` +
        'only processBroadcastElement may modify broadcast state (so that every subtask keeps the same copy)',
    )
    expect(attempts).toBe(1)
    expect(sink.results).toEqual([])
  })

  it('fires timers of the keyed side with the key current and read-only broadcast state', async () => {
    const env = StreamExecutionEnvironment.create({ parallelism: 2, ...quiet })
    const users = env.fromElements<UserInfo>().broadcast(usersDescriptor)
    const sink = new CollectSink<string>()
    const fn: KeyedBroadcastProcessFunction<string, Event, UserInfo, string> = {
      processElement(_event, context) {
        context.timerService().registerEventTimeTimer((context.timestamp() ?? 0) + 5)
      },
      processBroadcastElement() {},
      onTimer(timestamp, context, out) {
        out.collect(`${context.getCurrentKey()}@${timestamp} ${context.timeDomain()} users=${context.getBroadcastState(usersDescriptor).size}`)
      },
    }
    env
      .fromSource(fromElementsSource([eventAt(0), eventAt(1)], { timestamps: (e) => 100 + e.seq }))
      .keyBy((e) => e.user)
      .connect(users)
      .process(fn)
      .sinkTo(sink)
    await env.execute('keyed-timers').result
    expect([...sink.results].sort()).toEqual(['u1@105 EVENT_TIME users=0', 'u2@106 EVENT_TIME users=0'])
  })
})

// ------------------------------------------------------------------ checkpoint, failure, restore

describe('broadcast state: checkpoint, failure and restore', () => {
  it('restarts from a checkpoint after failures: every event enriched exactly once', async () => {
    const count = 3000
    let failuresLeft = 2
    let processed = 0
    const env = StreamExecutionEnvironment.create({
      parallelism: 2,
      checkpointing: { interval: 20, directory },
      restartStrategy: RestartStrategies.fixedDelay(5, 10),
      ...quiet,
    })
    const users = env.fromSource(scriptedSource([USERS.map((u, i) => ({ value: u, timestamp: i }))], { stepsPerPoll: 1, pauseMs: 30 }), 'users').uid('users')
    const sink = new CollectSink<string>()
    const base = enricher()
    env
      .fromSource(scriptedSource(eventScripts(count, 4), { stepsPerPoll: 10, pauseMs: 1 }), 'events')
      .uid('events')
      .map((e) => {
        processed++
        if (failuresLeft > 0 && processed % 900 === 0) {
          failuresLeft--
          throw new Error(`injected failure at ${processed}`)
        }
        return e
      })
      .uid('fail')
      .keyBy((e) => e.user)
      .connect(users.broadcast(usersDescriptor))
      .process(base)
      .uid('enrich')
      .sinkTo(sink)
    const result = await env.execute('bc-restart').result
    expect(result.metrics.restarts).toBe(2)
    expect([...sink.results].sort()).toEqual(expectedEnriched(count))
  })

  it('restores broadcast state identically on every subtask, at another parallelism (2 → 3 → 1)', async () => {
    const count = 2400
    const sink = new CollectSink<string>()
    const log = { broadcasts: 0 }
    /** Per phase: what each subtask's broadcast state held when it processed an event. */
    const seenBySubtask = new Map<string, Set<string>>()
    let phase = 0
    const build = (parallelism: number, fromSavepoint?: string) => {
      const env = StreamExecutionEnvironment.create({
        parallelism,
        checkpointing: { interval: 30, directory },
        ...quiet,
        ...(fromSavepoint ? { fromSavepoint } : {}),
      })
      const users = env.fromSource(scriptedSource([USERS.map((u, i) => ({ value: u, timestamp: i }))]), 'users').uid('users')
      const base = enricher(log)
      const fn: typeof base = {
        ...base,
        processElement(event, context, out) {
          const entries = [...context.getBroadcastState(usersDescriptor).entries()].map(([u, n]) => `${u}=${n}`).sort().join(',')
          const key = `${phase}/${(this as { subtask?: number }).subtask}`
          const seen = seenBySubtask.get(key) ?? new Set<string>()
          seen.add(entries)
          seenBySubtask.set(key, seen)
          base.processElement.call(this, event, context, out)
        },
        open(context) {
          ;(this as { subtask?: number }).subtask = context.subtaskId
          return base.open?.call(this, context)
        },
      }
      env
        .fromSource(scriptedSource(eventScripts(count, 6), { stepsPerPoll: 10, pauseMs: 2 }), 'events')
        .uid('events')
        .keyBy((e) => e.user)
        .connect(users.broadcast(usersDescriptor))
        .process(fn)
        .uid('enrich')
        .sinkTo(sink)
        .uid('sink')
      return env.execute('bc-rescale')
    }
    phase = 1
    const first = build(2)
    // Both subtasks have all four users before the savepoint.
    await until(() => log.broadcasts === USERS.length * 2 && first.metrics().recordsFromSources > USERS.length + 300, 'phase 1')
    const savepoint1 = await first.stopWithSavepoint()
    await first.result

    phase = 2
    const second = build(3, savepoint1)
    await until(() => second.metrics().recordsFromSources > 600, 'phase 2')
    const savepoint2 = await second.stopWithSavepoint()
    await second.result

    phase = 3
    const third = build(1, savepoint2)
    expect((await third.result).state).toBe('FINISHED')

    // No broadcast element was replayed after phase 1: the state came from the savepoints.
    expect(log.broadcasts).toBe(USERS.length * 2)
    const full = USERS.map((u) => `${u.user}=${u.name}`).sort().join(',')
    // Every subtask of phases 2 and 3 processed events, and each saw the full restored state every time.
    expect([...seenBySubtask.keys()].filter((k) => !k.startsWith('1/')).sort()).toEqual(['2/0', '2/1', '2/2', '3/0'])
    for (const key of ['2/0', '2/1', '2/2', '3/0']) expect([...(seenBySubtask.get(key) ?? [])]).toEqual([full])
    expect([...sink.results].sort()).toEqual(expectedEnriched(count))
  })
})
