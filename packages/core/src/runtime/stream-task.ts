import type { CheckpointingMode, RuntimeMode } from '../api/config.js'
import { JobCancelledError, TaskFailedError } from '../errors.js'
import type { Channel } from './channel.js'
import type { Notifier } from './notifier.js'
import { SourceOperator } from './operators/source-operator.js'
import { OutputBuffer } from './output-buffer.js'
import type { RecordWriter } from './record-writer.js'
import {
  END_OF_DATA,
  END_OF_PARTITION,
  MAX_WATERMARK,
  MIN_WATERMARK,
  type StreamElement,
  type Timestamps,
  WATERMARK_STATUS_ACTIVE,
  WATERMARK_STATUS_IDLE,
  type WatermarkStatus,
} from './stream-element.js'
import { StatusWatermarkValve, type ValveOutput } from './status-watermark-valve.js'
import type { OperatorContext, OperatorSubtaskState, ProcessingTimeService, StreamOperator } from './stream-operator.js'
import type { TaskCheckpointState, TaskEvents, TaskMessage } from './task-messages.js'

/** One input channel of a task and which input of the head operator it feeds. */
export interface TaskInput {
  readonly channel: Channel
  readonly inputIndex: 1 | 2
}

/** Everything a task needs to run; built by the job execution for one subtask of one job vertex. */
export interface TaskDeployment {
  readonly taskIndex: number
  /** e.g. `Source: numbers -> map -> sum (2/4)` */
  readonly taskName: string
  readonly jobName: string
  readonly subtaskId: number
  readonly parallelism: number
  readonly maxParallelism: number
  readonly attemptNumber: number
  readonly restoredCheckpointId: number | undefined
  /** The chain, head first. A source task's head is a SourceOperator. */
  readonly operators: StreamOperator[]
  readonly restoredStates: (OperatorSubtaskState | undefined)[]
  readonly inputs: TaskInput[]
  /** Writers for the main output of the last operator. */
  readonly mainWriters: RecordWriter[]
  /** Writers for side outputs: by operator index in the chain, then tag id. */
  readonly sideWriters: Map<number, Map<string, RecordWriter[]>>
  readonly checkpointingMode: CheckpointingMode
  readonly runtimeMode: RuntimeMode
  /** Periodic checkpointing, or undefined when off. */
  readonly checkpointing: { readonly interval: number; readonly mode: CheckpointingMode } | undefined
  readonly notifier: Notifier
  readonly events: TaskEvents
  /** Shared counters of the job, read by its handle. */
  readonly metrics: { recordsFromSources: number; firstRecordAt: number | undefined }
  warn(message: string): void
}

/** How long a task loop may run without giving the event loop a turn (timers, I/O, other tasks). */
const YIELD_AFTER_MS = 8

/**
 * Runs one subtask: a chain of operators fed by a source reader or by input channels.
 *
 * The loop handles, in turn, its mailbox (coordinator messages, processing-time timers) and one input
 * element (a record batch, a watermark, a barrier, an end marker). Everything an operator does happens
 * in this loop, so operators are never called concurrently. Barriers are aligned per checkpoint mode:
 * EXACTLY_ONCE blocks a channel that delivered barrier n until every open channel has; AT_LEAST_ONCE
 * keeps reading and snapshots when the last barrier arrives.
 */
export class StreamTask {
  private readonly mailbox: TaskMessage[] = []
  private readonly buffers: OutputBuffer[]
  private readonly source: SourceOperator | undefined
  private cancelled = false
  private lastYield = performance.now()
  private currentWatermark = MIN_WATERMARK
  /** The last watermark each operator of the chain received: what its `currentWatermark()` returns. */
  private readonly operatorWatermarks: number[]
  private processingTimeDue = false
  private processingTimer: NodeJS.Timeout | undefined
  private processingTimerAt = Number.POSITIVE_INFINITY

  // source task state
  private sourceEnded = false
  private stopRequested = false
  private finishRequested = false

  // input task state
  /** Combines the watermarks and watermark statuses of the input channels (idle channels excluded). */
  private readonly valve: StatusWatermarkValve
  /** What the valve emitted and the loop has not pushed into the chain yet. */
  private readonly valvePending: StreamElement[] = []
  private readonly valveOutput: ValveOutput = {
    emitWatermark: (timestamp) => this.valvePending.push({ kind: 'watermark', timestamp }),
    emitWatermarkStatus: (status) => this.valvePending.push(status === 'IDLE' ? WATERMARK_STATUS_IDLE : WATERMARK_STATUS_ACTIVE),
  }
  private readonly channelEndedData: boolean[]
  private readonly channelEndedPartition: boolean[]
  private endedPartitions = 0
  private endedData = 0
  private alignedCheckpointId: number | undefined
  private readonly barrierReceived: boolean[]
  private lastCheckpointId = 0
  private nextChannel = 0

  constructor(private readonly deployment: TaskDeployment) {
    this.buffers = deployment.operators.map(() => new OutputBuffer())
    const head = deployment.operators[0]
    this.source = head instanceof SourceOperator ? head : undefined
    const inputCount = deployment.inputs.length
    this.valve = new StatusWatermarkValve(inputCount)
    this.operatorWatermarks = deployment.operators.map(() => MIN_WATERMARK)
    this.channelEndedData = new Array(inputCount).fill(false)
    this.channelEndedPartition = new Array(inputCount).fill(false)
    this.barrierReceived = new Array(inputCount).fill(false)
  }

  get name(): string {
    return this.deployment.taskName
  }

  /** Queues a coordinator message; handled by the loop before the next input element. */
  post(message: TaskMessage): void {
    this.mailbox.push(message)
    this.deployment.notifier.signal()
  }

  cancel(): void {
    this.cancelled = true
    this.deployment.notifier.signal()
  }

  /** Runs the task to completion. Rejects with a TaskFailedError on failure. */
  async run(): Promise<void> {
    let failure: unknown
    try {
      await this.openOperators()
      if (this.source) await this.runSourceLoop(this.source)
      else await this.runInputLoop()
    } catch (error) {
      failure = error
    }
    if (this.processingTimer) clearTimeout(this.processingTimer)
    // Close from head to tail; a failure in close after a failure in run is reported as the first one.
    for (const operator of this.deployment.operators) {
      try {
        await operator.close()
      } catch (error) {
        failure ??= error
      }
    }
    if (failure !== undefined) {
      if (JobCancelledError.isInstance(failure)) throw failure
      throw new TaskFailedError(this.deployment.taskName, { cause: failure })
    }
  }

  private async openOperators(): Promise<void> {
    const d = this.deployment
    const processingTime: ProcessingTimeService = {
      now: () => Date.now(),
      requestWakeup: (timestamp) => this.scheduleProcessingTime(timestamp),
    }
    // Open from tail to head (as Flink does): a sink commits restored committables before records flow.
    for (let index = d.operators.length - 1; index >= 0; index--) {
      const operator = d.operators[index] as StreamOperator
      const context: OperatorContext = {
        jobName: d.jobName,
        taskName: d.taskName,
        subtaskId: d.subtaskId,
        parallelism: d.parallelism,
        maxParallelism: d.maxParallelism,
        attemptNumber: d.attemptNumber,
        runtimeMode: d.runtimeMode,
        checkpointing: d.checkpointing,
        restoredCheckpointId: d.restoredCheckpointId,
        restoredState: d.restoredStates[index],
        output: this.buffers[index] as OutputBuffer,
        processingTime,
        currentWatermark: () => this.operatorWatermarks[index] as number,
        warn: d.warn,
      }
      await operator.open(context)
    }
  }

  // ---------------------------------------------------------------- source loop

  private async runSourceLoop(source: SourceOperator): Promise<void> {
    const notifier = this.deployment.notifier
    while (true) {
      const epoch = notifier.epoch
      await this.processMailbox()
      if (this.finishRequested) {
        this.broadcast(END_OF_PARTITION)
        return
      }
      if (this.sourceEnded || this.stopRequested) {
        await notifier.waitSince(epoch)
        continue
      }
      const status = source.pollNext()
      const emitted = (this.buffers[0] as OutputBuffer).size
      if (emitted > 0) {
        const metrics = this.deployment.metrics
        metrics.recordsFromSources += emitted
        metrics.firstRecordAt ??= Date.now()
      }
      // Records, and the watermarks the source emitted between them, in order.
      await this.forwardOutput(0)
      await this.waitForBackpressure()
      if (status === 'END_OF_INPUT') {
        await this.endOfData(true)
      } else if (status === 'NOTHING_AVAILABLE') {
        await Promise.race([source.isAvailable(), notifier.waitSince(epoch)])
      } else {
        await this.yieldIfNeeded()
      }
    }
  }

  // ---------------------------------------------------------------- input loop

  private async runInputLoop(): Promise<void> {
    const inputs = this.deployment.inputs
    const notifier = this.deployment.notifier
    while (true) {
      const epoch = notifier.epoch
      await this.processMailbox()
      const index = this.pollInput()
      if (index === -1) {
        if (this.endedPartitions === inputs.length) {
          await this.processMailbox()
          this.broadcast(END_OF_PARTITION)
          return
        }
        await notifier.waitSince(epoch)
        continue
      }
      const input = inputs[index] as TaskInput
      const element = input.channel.poll() as StreamElement
      switch (element.kind) {
        case 'records':
          await this.pushBatch(0, element.values, element.timestamps, input.inputIndex)
          await this.waitForBackpressure()
          break
        case 'watermark':
          this.valve.inputWatermark(element.timestamp, index, this.valveOutput)
          await this.drainValve()
          break
        case 'watermark-status':
          this.valve.inputWatermarkStatus(element.status, index, this.valveOutput)
          await this.drainValve()
          break
        case 'barrier':
          await this.onBarrier(index, element.checkpointId)
          break
        case 'end-of-data':
          if (!this.channelEndedData[index]) {
            this.channelEndedData[index] = true
            this.endedData++
            // An ended input holds no watermark back.
            this.valve.inputEnded(index, this.valveOutput)
            await this.drainValve()
            if (this.endedData === inputs.length) await this.endOfData(false)
          }
          break
        case 'end-of-partition':
          this.channelEndedPartition[index] = true
          this.endedPartitions++
          if (!this.channelEndedData[index]) {
            // Stopped without draining (e.g. stop-with-savepoint): it holds nothing back, but its end
            // is no reason to advance the watermark now (that would fire windows before the savepoint).
            this.valve.inputFinishedSilently(index)
          }
          // A finished channel sends no barrier: it counts as aligned.
          if (this.alignedCheckpointId !== undefined) await this.maybeCompleteAlignment()
          break
      }
      await this.yieldIfNeeded()
    }
  }

  /** Index of the next channel with an element that is not blocked by alignment, round-robin; -1 if none. */
  private pollInput(): number {
    const inputs = this.deployment.inputs
    const count = inputs.length
    const blocking = this.deployment.checkpointingMode === 'EXACTLY_ONCE'
    for (let step = 0; step < count; step++) {
      const index = (this.nextChannel + step) % count
      if (blocking && this.barrierReceived[index]) continue
      const input = inputs[index] as TaskInput
      if (input.channel.size() > 0) {
        // Stay on a channel while it has records (fewer switches), move on after control elements.
        this.nextChannel = input.channel.peek()?.kind === 'records' ? index : (index + 1) % count
        return index
      }
    }
    return -1
  }

  /** Pushes what the valve emitted into the chain, in order. */
  private async drainValve(): Promise<void> {
    const pending = this.valvePending
    while (pending.length > 0) {
      const element = pending.shift() as StreamElement
      if (element.kind === 'watermark') await this.pushWatermark(0, element.timestamp)
      else if (element.kind === 'watermark-status') await this.pushWatermarkStatus(0, element.status)
    }
  }

  private async onBarrier(channelIndex: number, checkpointId: number): Promise<void> {
    if (checkpointId <= this.lastCheckpointId) return // of a checkpoint already taken or aborted here
    if (this.alignedCheckpointId !== undefined && checkpointId > this.alignedCheckpointId) {
      // A newer checkpoint started while the older one was still aligning: the older one is lost.
      this.resetAlignment()
    }
    if (this.alignedCheckpointId === undefined) this.alignedCheckpointId = checkpointId
    if (!this.barrierReceived[channelIndex]) {
      this.barrierReceived[channelIndex] = true
    }
    await this.maybeCompleteAlignment()
  }

  private async maybeCompleteAlignment(): Promise<void> {
    const checkpointId = this.alignedCheckpointId
    if (checkpointId === undefined) return
    const inputs = this.deployment.inputs
    for (let index = 0; index < inputs.length; index++) {
      if (!this.barrierReceived[index] && !this.channelEndedPartition[index]) return
    }
    this.resetAlignment()
    this.lastCheckpointId = checkpointId
    await this.performCheckpoint(checkpointId)
  }

  private resetAlignment(): void {
    this.alignedCheckpointId = undefined
    this.barrierReceived.fill(false)
    this.deployment.notifier.signal()
  }

  // ---------------------------------------------------------------- checkpoints

  private async performCheckpoint(checkpointId: number): Promise<void> {
    const d = this.deployment
    const state: TaskCheckpointState = {}
    try {
      for (let index = 0; index < d.operators.length; index++) {
        await (d.operators[index] as StreamOperator).prepareSnapshotPreBarrier(checkpointId)
        await this.forwardOutput(index)
      }
      this.broadcast({ kind: 'barrier', checkpointId })
      for (const operator of d.operators) state[operator.uid] = await operator.snapshotState(checkpointId)
    } catch (error) {
      // The barrier must still travel on, or downstream tasks would wait for it forever.
      if (!this.barrierSent(checkpointId)) this.broadcast({ kind: 'barrier', checkpointId })
      d.events.declineCheckpoint(d.taskIndex, checkpointId, error)
      return
    }
    d.events.acknowledgeCheckpoint(d.taskIndex, checkpointId, state)
  }

  private lastBarrierSent = 0
  private barrierSent(checkpointId: number): boolean {
    return this.lastBarrierSent >= checkpointId
  }

  // ---------------------------------------------------------------- mailbox

  private async processMailbox(): Promise<void> {
    if (this.cancelled) throw new JobCancelledError()
    if (this.processingTimeDue) await this.fireProcessingTime()
    while (this.mailbox.length > 0) {
      const message = this.mailbox.shift() as TaskMessage
      await this.handleMessage(message)
      if (this.cancelled) throw new JobCancelledError()
    }
  }

  private async handleMessage(message: TaskMessage): Promise<void> {
    const d = this.deployment
    switch (message.type) {
      case 'add-splits':
        this.source?.addSplits(message.splits)
        return
      case 'no-more-splits':
        this.source?.notifyNoMoreSplits()
        return
      case 'trigger-checkpoint':
        this.lastCheckpointId = message.checkpointId
        await this.performCheckpoint(message.checkpointId)
        return
      case 'checkpoint-complete':
        for (let index = 0; index < d.operators.length; index++) {
          await (d.operators[index] as StreamOperator).notifyCheckpointComplete(message.checkpointId)
          await this.forwardOutput(index)
        }
        return
      case 'checkpoint-aborted':
        if (this.alignedCheckpointId === message.checkpointId) this.resetAlignment()
        if (message.checkpointId > this.lastCheckpointId) this.lastCheckpointId = message.checkpointId
        for (const operator of d.operators) operator.notifyCheckpointAborted(message.checkpointId)
        return
      case 'stop':
        this.stopRequested = true
        if (message.drain && !this.sourceEnded) await this.endOfData(true)
        return
      case 'finish':
        this.finishRequested = true
        return
    }
  }

  // ---------------------------------------------------------------- processing time

  private scheduleProcessingTime(timestamp: number): void {
    if (timestamp >= this.processingTimerAt) return
    if (this.processingTimer) clearTimeout(this.processingTimer)
    this.processingTimerAt = timestamp
    this.processingTimer = setTimeout(() => {
      this.processingTimer = undefined
      this.processingTimerAt = Number.POSITIVE_INFINITY
      this.processingTimeDue = true
      this.deployment.notifier.signal()
    }, Math.max(0, timestamp + 1 - Date.now()))
    this.processingTimer.unref?.()
  }

  private async fireProcessingTime(): Promise<void> {
    this.processingTimeDue = false
    // Timers at `t` fire once the clock reads past `t` (Flink's ProcessingTimeServiceUtil delays them by
    // 1 ms): a record processed while the clock still reads `t` is assigned to, and counted in, what a
    // timer at `t` closes (the window ending at `t + 1`) before that timer fires, never after it.
    const now = Date.now() - 1
    const operators = this.deployment.operators
    for (let index = 0; index < operators.length; index++) {
      ;(operators[index] as StreamOperator).onProcessingTime(now)
      await this.forwardOutput(index)
    }
  }

  // ---------------------------------------------------------------- moving data along the chain

  private async pushBatch(index: number, values: unknown[], timestamps: Timestamps, inputIndex: 1 | 2): Promise<void> {
    const result = (this.deployment.operators[index] as StreamOperator).processBatch(values, timestamps, inputIndex)
    if (result !== undefined) await result
    await this.forwardOutput(index)
  }

  /** Hands what operator `index` emitted to the next operator of the chain, or to the network writers. */
  private async forwardOutput(index: number): Promise<void> {
    const buffer = this.buffers[index] as OutputBuffer
    if (buffer.side !== undefined && buffer.side.size > 0) this.emitSideOutputs(index, buffer)
    if (buffer.segments !== undefined) await this.forwardSegments(index, buffer)
    if (buffer.size === 0) return
    const { values, timestamps } = buffer.take()
    if (index === this.deployment.operators.length - 1) {
      for (const writer of this.deployment.mainWriters) writer.emit(values, timestamps)
    } else {
      await this.pushBatch(index + 1, values, timestamps, 1)
    }
  }

  private emitSideOutputs(index: number, buffer: OutputBuffer): void {
    const side = buffer.side as NonNullable<OutputBuffer['side']>
    const writersByTag = this.deployment.sideWriters.get(index)
    for (const [tagId, output] of side) {
      const writers = writersByTag?.get(tagId)
      if (writers) for (const writer of writers) writer.emit(output.values, output.timestamps)
    }
    side.clear()
  }

  /** Records, watermarks and statuses an operator emitted before its latest watermark (see OutputBuffer.segments). */
  private async forwardSegments(index: number, buffer: OutputBuffer): Promise<void> {
    const last = index === this.deployment.operators.length - 1
    for (const element of buffer.takeSegments()) {
      if (element.kind === 'records') {
        if (last) for (const writer of this.deployment.mainWriters) writer.emit(element.values, element.timestamps)
        else await this.pushBatch(index + 1, element.values, element.timestamps, 1)
      } else if (element.kind === 'watermark') {
        if (last) this.broadcast(element)
        else await this.pushWatermark(index + 1, element.timestamp)
      } else if (element.kind === 'watermark-status') {
        if (last) this.broadcast(element)
        else await this.pushWatermarkStatus(index + 1, element.status)
      }
    }
  }

  private async pushWatermark(index: number, watermark: number): Promise<void> {
    if (index === 0) this.currentWatermark = watermark
    const operators = this.deployment.operators
    const operator = operators[index] as StreamOperator
    // Set before the operator's timers fire, as Flink's timer service does.
    this.operatorWatermarks[index] = watermark
    operator.processWatermark(watermark)
    await this.forwardOutput(index)
    // An operator that makes its own watermarks emitted them (if any) through its output.
    if (operator.generatesWatermarks) return
    if (index === operators.length - 1) this.broadcast({ kind: 'watermark', timestamp: watermark })
    else await this.pushWatermark(index + 1, watermark)
  }

  private async pushWatermarkStatus(index: number, status: WatermarkStatus): Promise<void> {
    const operators = this.deployment.operators
    if ((operators[index] as StreamOperator).generatesWatermarks) return
    if (index === operators.length - 1) this.broadcast(status === 'IDLE' ? WATERMARK_STATUS_IDLE : WATERMARK_STATUS_ACTIVE)
    else await this.pushWatermarkStatus(index + 1, status)
  }

  /** The input ended: MAX watermark (sources), endInput along the chain, end-of-data downstream. */
  private async endOfData(isSource: boolean): Promise<void> {
    const d = this.deployment
    if (isSource) {
      this.sourceEnded = true
      if (this.currentWatermark < MAX_WATERMARK) await this.pushWatermark(0, MAX_WATERMARK)
    }
    for (let index = 0; index < d.operators.length; index++) {
      await (d.operators[index] as StreamOperator).endInput()
      await this.forwardOutput(index)
    }
    this.broadcast(END_OF_DATA)
    d.events.endOfData(d.taskIndex)
  }

  private broadcast(element: StreamElement): void {
    if (element.kind === 'barrier') this.lastBarrierSent = element.checkpointId
    for (const writer of this.deployment.mainWriters) writer.broadcastElement(element)
    for (const writers of this.deployment.sideWriters.values()) {
      for (const list of writers.values()) for (const writer of list) writer.broadcastElement(element)
    }
  }

  private async waitForBackpressure(): Promise<void> {
    const d = this.deployment
    for (const writer of d.mainWriters) {
      writer.flush()
      const wait = writer.backpressure()
      if (wait) await wait
    }
    for (const writers of d.sideWriters.values()) {
      for (const list of writers.values()) {
        for (const writer of list) {
          writer.flush()
          const wait = writer.backpressure()
          if (wait) await wait
        }
      }
    }
    if (this.cancelled) throw new JobCancelledError()
  }

  private async yieldIfNeeded(): Promise<void> {
    const now = performance.now()
    if (now - this.lastYield < YIELD_AFTER_MS) return
    this.lastYield = now
    await new Promise<void>((resolve) => setImmediate(resolve))
  }
}
