import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { CheckpointFailedError } from '../errors.js'
import type { TaskCheckpointState } from '../runtime/task-messages.js'
import { CheckpointCoordinator, type CheckpointCoordinatorOptions, type CoordinatedJob } from './checkpoint-coordinator.js'
import type { CompletedCheckpoint } from './completed-checkpoint.js'

/** A stand-in for JobExecution: records every call in `events`, with the (fake) time it happened at. */
class FakeJob implements CoordinatedJob {
  readonly jobName = 'fake-job'
  readonly maxParallelism = 128
  /** `trigger:1@100`, `persist:1`, `notifyComplete:1`, ... in call order. */
  readonly events: string[] = []
  readonly triggered: { checkpointId: number; at: number }[] = []
  readonly persisted: CompletedCheckpoint[] = []
  readonly completed: number[] = []
  readonly aborted: number[] = []
  readonly failures: unknown[] = []
  readonly warnings: string[] = []
  /** When set, `persist` waits for this promise (to observe what happens before it resolves). */
  persistGate: Promise<void> | undefined
  /** When set, `persist` rejects with it. */
  persistError: Error | undefined

  constructor(private readonly tasks = 2) {}

  taskCount(): number {
    return this.tasks
  }

  taskLayout(taskIndex: number): { uids: string[]; subtaskId: number; parallelism: number } {
    return { uids: ['map'], subtaskId: taskIndex, parallelism: this.tasks }
  }

  triggerSources(checkpointId: number): Record<string, { version: number; bytes: Uint8Array }> {
    this.triggered.push({ checkpointId, at: Date.now() })
    this.events.push(`trigger:${checkpointId}`)
    return { source: { version: 1, bytes: new Uint8Array([checkpointId]) } }
  }

  notifyComplete(checkpointId: number): void {
    this.completed.push(checkpointId)
    this.events.push(`notifyComplete:${checkpointId}`)
  }

  notifyAborted(checkpointId: number): void {
    this.aborted.push(checkpointId)
    this.events.push(`notifyAborted:${checkpointId}`)
  }

  prepareGlobalCommittables(): CompletedCheckpoint['globalCommittables'] {
    return {}
  }

  async commitGlobal(checkpointId: number): Promise<void> {
    this.events.push(`commitGlobal:${checkpointId}`)
  }

  async persist(checkpoint: CompletedCheckpoint, targetDirectory: string | undefined): Promise<string | undefined> {
    this.events.push(`persist:${checkpoint.checkpointId}`)
    if (this.persistGate) await this.persistGate
    if (this.persistError) throw this.persistError
    this.persisted.push(checkpoint)
    this.events.push(`persisted:${checkpoint.checkpointId}`)
    return `${targetDirectory ?? '/checkpoints'}/${checkpoint.kind === 'savepoint' ? 'savepoint' : 'chk'}-${checkpoint.checkpointId}`
  }

  fail(error: unknown): void {
    this.failures.push(error)
    this.events.push('fail')
  }

  warn(message: string): void {
    this.warnings.push(message)
  }
}

function taskState(taskIndex: number): TaskCheckpointState {
  return { map: { lists: { items: [{ version: 1, bytes: new Uint8Array([taskIndex]) }] } } }
}

const defaults: CheckpointCoordinatorOptions = {
  interval: 100,
  minPauseBetweenCheckpoints: 0,
  timeout: 10_000,
  tolerableFailedCheckpoints: 0,
  firstCheckpointId: 1,
}

let coordinator: CheckpointCoordinator | undefined

function start(job: FakeJob, options: Partial<CheckpointCoordinatorOptions> = {}): CheckpointCoordinator {
  coordinator = new CheckpointCoordinator(job, { ...defaults, ...options }, () => Date.now())
  coordinator.start()
  return coordinator
}

/** Acknowledges checkpoint `checkpointId` from every task and lets the completion (persist, notify) run. */
async function ackAll(job: FakeJob, target: CheckpointCoordinator, checkpointId: number): Promise<void> {
  for (let taskIndex = 0; taskIndex < job.taskCount(); taskIndex++) target.acknowledge(taskIndex, checkpointId, taskState(taskIndex))
  await vi.advanceTimersByTimeAsync(0)
}

/** A promise's outcome without awaiting it forever: 'pending', or what it settled with. */
function track<T>(promise: Promise<T>): { state: 'pending' | 'resolved' | 'rejected'; value?: T; error?: unknown } {
  const tracked: { state: 'pending' | 'resolved' | 'rejected'; value?: T; error?: unknown } = { state: 'pending' }
  promise.then(
    (value) => {
      tracked.state = 'resolved'
      tracked.value = value
    },
    (error) => {
      tracked.state = 'rejected'
      tracked.error = error
    },
  )
  return tracked
}

beforeEach(() => {
  vi.useFakeTimers({ now: 0 })
})

afterEach(async () => {
  await coordinator?.stop()
  coordinator = undefined
  vi.useRealTimers()
})

describe('CheckpointCoordinator: periodic triggering', () => {
  it('triggers at each interval, counted from the previous trigger', async () => {
    const job = new FakeJob()
    const target = start(job, { interval: 100 })
    await vi.advanceTimersByTimeAsync(99)
    expect(job.triggered).toEqual([])
    await vi.advanceTimersByTimeAsync(1)
    expect(job.triggered).toEqual([{ checkpointId: 1, at: 100 }])
    await vi.advanceTimersByTimeAsync(30)
    await ackAll(job, target, 1) // completes at 130: the next is due at 100 + 100
    await vi.advanceTimersByTimeAsync(69)
    expect(job.triggered).toHaveLength(1)
    await vi.advanceTimersByTimeAsync(1)
    expect(job.triggered.at(-1)).toEqual({ checkpointId: 2, at: 200 })
    await ackAll(job, target, 2)
    await vi.advanceTimersByTimeAsync(100)
    expect(job.triggered.map((t) => t.at)).toEqual([100, 200, 300])
    expect(job.completed).toEqual([1, 2])
    expect(target.stats).toMatchObject({ completed: 2, failed: 0, lastCompletedId: 2, lastPath: '/checkpoints/chk-2' })
  })

  it('gathers the acknowledged states of all tasks into the persisted checkpoint', async () => {
    const job = new FakeJob()
    const target = start(job, { interval: 100, firstCheckpointId: 7 })
    await vi.advanceTimersByTimeAsync(100)
    await ackAll(job, target, 7)
    const [checkpoint] = job.persisted
    expect(checkpoint?.checkpointId).toBe(7)
    expect(checkpoint?.jobName).toBe('fake-job')
    expect(checkpoint?.enumerators).toEqual({ source: { version: 1, bytes: new Uint8Array([7]) } })
    expect(checkpoint?.operators.map).toEqual({
      parallelism: 2,
      maxParallelism: 128,
      subtasks: [taskState(0).map, taskState(1).map],
    })
  })

  it('triggers nothing periodically without an interval', async () => {
    const job = new FakeJob()
    start(job, { interval: undefined })
    await vi.advanceTimersByTimeAsync(60_000)
    expect(job.triggered).toEqual([])
  })

  it('waits minPauseBetweenCheckpoints after the end of the previous checkpoint', async () => {
    const job = new FakeJob()
    const target = start(job, { interval: 300, minPauseBetweenCheckpoints: 200 })
    await vi.advanceTimersByTimeAsync(300)
    expect(job.triggered).toEqual([{ checkpointId: 1, at: 300 }])
    await vi.advanceTimersByTimeAsync(150)
    await ackAll(job, target, 1) // ends at 450: the next may start at 450 + 200, not at 300 + 300
    await vi.advanceTimersByTimeAsync(199)
    expect(job.triggered).toHaveLength(1)
    await vi.advanceTimersByTimeAsync(1)
    expect(job.triggered.at(-1)).toEqual({ checkpointId: 2, at: 650 })
  })

  it('counts the minimum pause from the end of a failed checkpoint too', async () => {
    const job = new FakeJob()
    const target = start(job, { interval: 300, minPauseBetweenCheckpoints: 200, tolerableFailedCheckpoints: 5 })
    await vi.advanceTimersByTimeAsync(300)
    await vi.advanceTimersByTimeAsync(150)
    target.decline(0, 1, new Error('disk full')) // ends at 450
    await vi.advanceTimersByTimeAsync(199)
    expect(job.triggered).toHaveLength(1)
    await vi.advanceTimersByTimeAsync(1)
    expect(job.triggered.at(-1)).toEqual({ checkpointId: 2, at: 650 })
  })
})

describe('CheckpointCoordinator: at most one checkpoint at a time', () => {
  it('a savepoint requested while a checkpoint is pending starts only after it completed', async () => {
    const job = new FakeJob()
    const target = start(job, { interval: 100 })
    await vi.advanceTimersByTimeAsync(100)
    expect(job.triggered.map((t) => t.checkpointId)).toEqual([1])
    await vi.advanceTimersByTimeAsync(20)
    const savepoint = track(target.request('savepoint', { targetDirectory: '/savepoints' }))
    await vi.advanceTimersByTimeAsync(50)
    expect(job.triggered.map((t) => t.checkpointId)).toEqual([1])
    await ackAll(job, target, 1)
    // The queued savepoint goes first, right when checkpoint 1 ended.
    expect(job.triggered).toEqual([
      { checkpointId: 1, at: 100 },
      { checkpointId: 2, at: 170 },
    ])
    expect(savepoint.state).toBe('pending')
    await ackAll(job, target, 2)
    expect(savepoint).toMatchObject({ state: 'resolved', value: '/savepoints/savepoint-2' })
    expect(job.persisted.map((c) => [c.checkpointId, c.kind])).toEqual([
      [1, 'checkpoint'],
      [2, 'savepoint'],
    ])
  })

  it('skips a periodic trigger that comes due while a savepoint is pending', async () => {
    const job = new FakeJob()
    const target = start(job, { interval: 100 })
    await vi.advanceTimersByTimeAsync(50)
    const savepoint = track(target.request('savepoint'))
    expect(job.triggered).toEqual([{ checkpointId: 1, at: 50 }])
    await vi.advanceTimersByTimeAsync(200) // the periodic timer fires at 100 and finds checkpoint 1 pending
    expect(job.triggered).toHaveLength(1)
    await ackAll(job, target, 1) // at 250
    expect(savepoint.state).toBe('resolved')
    await vi.advanceTimersByTimeAsync(0)
    // Overdue (50 + 100 < 250): the next periodic checkpoint starts as soon as the savepoint ended.
    expect(job.triggered).toEqual([
      { checkpointId: 1, at: 50 },
      { checkpointId: 2, at: 250 },
    ])
    expect(job.persisted.map((c) => c.kind)).toEqual(['savepoint'])
  })

  it('serves queued requests one after the other, in order', async () => {
    const job = new FakeJob()
    const target = start(job, { interval: undefined })
    const first = track(target.request('savepoint'))
    const second = track(target.request('checkpoint'))
    expect(job.triggered.map((t) => t.checkpointId)).toEqual([1])
    await ackAll(job, target, 1)
    expect(first.state).toBe('resolved')
    expect(job.triggered.map((t) => t.checkpointId)).toEqual([1, 2])
    await ackAll(job, target, 2)
    expect(second).toMatchObject({ state: 'resolved', value: '/checkpoints/chk-2' })
  })
})

describe('CheckpointCoordinator: failures', () => {
  it('aborts a checkpoint not acknowledged within the timeout and ignores late acknowledgements', async () => {
    const job = new FakeJob()
    const target = start(job, { interval: undefined, timeout: 500, tolerableFailedCheckpoints: 1 })
    const savepoint = track(target.request('savepoint'))
    target.acknowledge(0, 1, taskState(0))
    await vi.advanceTimersByTimeAsync(499)
    expect(job.aborted).toEqual([])
    await vi.advanceTimersByTimeAsync(1)
    expect(job.aborted).toEqual([1])
    expect(savepoint.state).toBe('rejected')
    expect(CheckpointFailedError.isInstance(savepoint.error)).toBe(true)
    expect((savepoint.error as Error).message).toBe('checkpoint 1 failed: not acknowledged by all tasks within 500 ms')
    expect(job.warnings).toEqual(['checkpoint 1 failed: not acknowledged by all tasks within 500 ms'])
    // The straggler acknowledges after the abort: nothing is persisted or announced.
    target.acknowledge(1, 1, taskState(1))
    await vi.advanceTimersByTimeAsync(10)
    expect(job.events.filter((e) => e.startsWith('persist') || e.startsWith('notifyComplete'))).toEqual([])
    expect(target.stats).toMatchObject({ completed: 0, failed: 1 })
    expect(job.failures).toEqual([])
  })

  it('does not complete a new checkpoint with acknowledgements of an aborted one', async () => {
    const job = new FakeJob()
    const target = start(job, { interval: undefined, timeout: 500, tolerableFailedCheckpoints: 1 })
    void target.request('checkpoint').catch(() => {})
    await vi.advanceTimersByTimeAsync(500) // checkpoint 1 times out
    const second = track(target.request('checkpoint'))
    expect(job.triggered.map((t) => t.checkpointId)).toEqual([1, 2])
    target.acknowledge(0, 1, taskState(0))
    target.acknowledge(1, 1, taskState(1))
    target.acknowledge(0, 2, taskState(0))
    await vi.advanceTimersByTimeAsync(0)
    expect(job.persisted).toEqual([])
    target.acknowledge(1, 2, taskState(1))
    await vi.advanceTimersByTimeAsync(0)
    expect(second.state).toBe('resolved')
    expect(job.persisted.map((c) => c.checkpointId)).toEqual([2])
  })

  it('aborts on a decline, names the task and the reason, and keeps the cause', async () => {
    const job = new FakeJob()
    const target = start(job, { interval: undefined, tolerableFailedCheckpoints: 1 })
    const request = track(target.request('checkpoint'))
    const cause = new Error('snapshot of state "sum" failed')
    target.acknowledge(0, 1, taskState(0))
    target.decline(1, 1, cause)
    await vi.advanceTimersByTimeAsync(0)
    expect(job.aborted).toEqual([1])
    expect(request.state).toBe('rejected')
    expect((request.error as Error).message).toBe('checkpoint 1 failed: task 1 declined: snapshot of state "sum" failed')
    expect((request.error as Error).cause).toBe(cause)
    expect(job.persisted).toEqual([])
    expect(job.completed).toEqual([])
    // A decline of a checkpoint that is no longer pending changes nothing.
    target.decline(0, 1, new Error('late'))
    expect(target.stats.failed).toBe(1)
  })

  it('aborts when the split enumerator snapshot throws', async () => {
    const job = new FakeJob()
    job.triggerSources = () => {
      throw new Error('enumerator broken')
    }
    const target = start(job, { interval: undefined, tolerableFailedCheckpoints: 1 })
    const request = track(target.request('checkpoint'))
    await vi.advanceTimersByTimeAsync(0)
    expect(request.state).toBe('rejected')
    expect((request.error as Error).message).toBe('checkpoint 1 failed: split enumerator snapshot failed: enumerator broken')
    expect(job.aborted).toEqual([1])
  })

  it('tolerates tolerableFailedCheckpoints failures in a row and fails the job on the next, naming the count', async () => {
    const job = new FakeJob()
    const target = start(job, { interval: 100, tolerableFailedCheckpoints: 2 })
    for (const checkpointId of [1, 2]) {
      await vi.advanceTimersByTimeAsync(100)
      target.decline(0, checkpointId, new Error(`broken ${checkpointId}`))
    }
    expect(job.aborted).toEqual([1, 2])
    expect(job.failures).toEqual([])
    await vi.advanceTimersByTimeAsync(100)
    target.decline(1, 3, new Error('broken 3'))
    expect(job.failures).toHaveLength(1)
    const failure = job.failures[0] as CheckpointFailedError
    expect(CheckpointFailedError.isInstance(failure)).toBe(true)
    expect(failure.message).toBe(
      'checkpoint 3 failed: 3 checkpoint(s) failed in a row, more than tolerableFailedCheckpoints (2); last: task 1 declined: broken 3',
    )
    expect(((failure.cause as Error).cause as Error).message).toBe('broken 3')
  })

  it('a completed checkpoint resets the count of failures in a row', async () => {
    const job = new FakeJob()
    const target = start(job, { interval: 100, tolerableFailedCheckpoints: 1 })
    await vi.advanceTimersByTimeAsync(100)
    target.decline(0, 1, new Error('one'))
    await vi.advanceTimersByTimeAsync(100)
    await ackAll(job, target, 2)
    await vi.advanceTimersByTimeAsync(100)
    target.decline(0, 3, new Error('two'))
    expect(job.failures).toEqual([])
    await vi.advanceTimersByTimeAsync(100)
    target.decline(0, 4, new Error('three'))
    expect(job.failures).toHaveLength(1)
    expect((job.failures[0] as Error).message).toContain('2 checkpoint(s) failed in a row')
  })

  it('with tolerableFailedCheckpoints 0 the first failure fails the job', async () => {
    const job = new FakeJob()
    const target = start(job, { interval: 100 })
    await vi.advanceTimersByTimeAsync(100)
    target.decline(0, 1, new Error('nope'))
    expect(job.failures).toHaveLength(1)
    expect((job.failures[0] as Error).message).toContain('1 checkpoint(s) failed in a row, more than tolerableFailedCheckpoints (0)')
  })
})

describe('CheckpointCoordinator: completion', () => {
  it('persists a checkpoint before it announces it, and commits global committables after', async () => {
    const job = new FakeJob()
    let openGate!: () => void
    job.persistGate = new Promise((resolve) => {
      openGate = resolve
    })
    const target = start(job, { interval: undefined })
    const announced: string[] = []
    target.onCompleted = (checkpoint) => {
      announced.push(`onCompleted:${checkpoint.checkpointId}:${checkpoint.path}`)
      job.events.push(`onCompleted:${checkpoint.checkpointId}`)
    }
    const request = track(target.request('checkpoint'))
    await ackAll(job, target, 1)
    await vi.advanceTimersByTimeAsync(1000)
    // Persisting is still in progress: nobody may be told the checkpoint is complete.
    expect(job.completed).toEqual([])
    expect(request.state).toBe('pending')
    openGate()
    await vi.advanceTimersByTimeAsync(0)
    expect(job.events).toEqual(['trigger:1', 'persist:1', 'persisted:1', 'onCompleted:1', 'notifyComplete:1', 'commitGlobal:1'])
    expect(announced).toEqual(['onCompleted:1:/checkpoints/chk-1'])
    expect(request).toMatchObject({ state: 'resolved', value: '/checkpoints/chk-1' })
  })

  it('never announces a checkpoint whose persisting failed', async () => {
    const job = new FakeJob()
    job.persistError = new Error('EIO: i/o error')
    const target = start(job, { interval: undefined, tolerableFailedCheckpoints: 1 })
    const request = track(target.request('checkpoint'))
    await ackAll(job, target, 1)
    expect(job.completed).toEqual([])
    expect(job.aborted).toEqual([1])
    expect((request.error as Error).message).toBe('checkpoint 1 failed: could not be completed: EIO: i/o error')
  })

  it('the timeout also covers persisting: a checkpoint stuck in persist is aborted and never announced', async () => {
    const job = new FakeJob()
    let openGate!: () => void
    job.persistGate = new Promise((resolve) => {
      openGate = resolve
    })
    const target = start(job, { interval: undefined, timeout: 500, tolerableFailedCheckpoints: 1 })
    const stuck = track(target.request('checkpoint'))
    await ackAll(job, target, 1)
    expect(job.events).toEqual(['trigger:1', 'persist:1'])
    await vi.advanceTimersByTimeAsync(500)
    expect(job.aborted).toEqual([1])
    expect(stuck.state).toBe('rejected')
    expect((stuck.error as Error).message).toBe('checkpoint 1 failed: not persisted within 500 ms')
    // The coordinator is free for the next one, which completes although the first write never returned.
    job.persistGate = undefined
    const next = track(target.request('checkpoint'))
    await ackAll(job, target, 2)
    expect(next).toMatchObject({ state: 'resolved', value: '/checkpoints/chk-2' })
    // The stuck write finally returns: checkpoint 1 is still never announced.
    openGate()
    await vi.advanceTimersByTimeAsync(0)
    expect(job.completed).toEqual([2])
    expect(target.stats).toMatchObject({ completed: 1, failed: 1, lastCompletedId: 2 })
  })

  it('retries a final checkpoint that failed until one succeeds', async () => {
    const job = new FakeJob()
    const target = start(job, { interval: undefined, timeout: 500, tolerableFailedCheckpoints: 3 })
    const final = track(target.request('checkpoint', { isFinal: true }))
    target.decline(0, 1, new Error('busy'))
    await vi.advanceTimersByTimeAsync(0)
    // Not rejected: asked again at once.
    expect(final.state).toBe('pending')
    expect(job.triggered.map((t) => t.checkpointId)).toEqual([1, 2])
    await vi.advanceTimersByTimeAsync(500) // 2 times out
    expect(final.state).toBe('pending')
    expect(job.triggered.map((t) => t.checkpointId)).toEqual([1, 2, 3])
    await ackAll(job, target, 3)
    expect(final).toMatchObject({ state: 'resolved', value: '/checkpoints/chk-3' })
    expect(job.aborted).toEqual([1, 2])
    expect(job.completed).toEqual([3])
    expect(job.failures).toEqual([])
  })

  it('fails the job and rejects the final checkpoint once failures exceed the tolerance', async () => {
    const job = new FakeJob()
    const target = start(job, { interval: undefined, tolerableFailedCheckpoints: 1 })
    const final = track(target.request('checkpoint', { isFinal: true }))
    target.decline(0, 1, new Error('busy'))
    target.decline(0, 2, new Error('still busy'))
    await vi.advanceTimersByTimeAsync(0)
    expect(final.state).toBe('rejected')
    expect(job.failures).toHaveLength(1)
    expect(job.triggered.map((t) => t.checkpointId)).toEqual([1, 2])
  })

  it('stop rejects what is pending and queued and triggers nothing more', async () => {
    const job = new FakeJob()
    const target = start(job, { interval: 100 })
    const pending = track(target.request('checkpoint'))
    const queued = track(target.request('savepoint'))
    await target.stop()
    await vi.advanceTimersByTimeAsync(1000)
    expect(pending.state).toBe('rejected')
    expect(queued.state).toBe('rejected')
    expect((queued.error as Error).message).toContain('the job stopped')
    expect(job.triggered.map((t) => t.checkpointId)).toEqual([1])
    target.acknowledge(0, 1, taskState(0))
    target.acknowledge(1, 1, taskState(1))
    await vi.advanceTimersByTimeAsync(0)
    expect(job.persisted).toEqual([])
  })
})
