import type { AnySource } from '../../api/source.js'
import type { InputStatus, ReaderOutput, SourceReader } from '../../api/source-reader.js'
import type { SourceSplit } from '../../api/source-split.js'
import { AbstractStreamOperator } from '../abstract-stream-operator.js'
import type { OutputBuffer } from '../output-buffer.js'
import { deserializeItem, serializeItem } from '../versioned-items.js'
import type { OperatorContext, OperatorSubtaskState } from '../stream-operator.js'

/**
 * The head of a source task: owns the subtask's SourceReader. The task loop calls `pollNext`;
 * splits from the enumerator arrive through `addSplits` in the task's mailbox, so they are ordered
 * with checkpoint triggers (see SplitEnumerator).
 */
export class SourceOperator extends AbstractStreamOperator {
  private reader!: SourceReader<unknown, SourceSplit>
  private readerOutput!: ReaderOutput<unknown>
  /** Highest watermark the reader emitted during the current poll; forwarded after the poll's records. */
  pendingWatermark: number | undefined

  constructor(
    uid: string,
    name: string,
    private readonly source: AnySource<unknown>,
    private readonly sendSplitRequest: () => void,
  ) {
    super(uid, name)
  }

  override async open(context: OperatorContext): Promise<void> {
    await super.open(context)
    // The reader writes straight into the task's output buffer: one call per record, no wrapper.
    const output = context.output as OutputBuffer & ReaderOutput<unknown>
    output.emitWatermark = (timestamp) => {
      if (this.pendingWatermark === undefined || timestamp > this.pendingWatermark) this.pendingWatermark = timestamp
    }
    this.readerOutput = output
    this.reader = this.source.createReader({
      subtaskId: context.subtaskId,
      parallelism: context.parallelism,
      sendSplitRequest: this.sendSplitRequest,
    })
    await this.reader.start()
    const restored = context.restoredState?.lists?.splits
    if (restored && restored.length > 0) {
      const serializer = this.source.splitSerializer()
      const where = `checkpoint ${context.restoredCheckpointId}`
      const splits = restored.map((item, index) =>
        deserializeItem(serializer, item, `split ${index} of source '${this.name}'`, where),
      )
      this.reader.addSplits(splits)
    }
  }

  pollNext(): InputStatus {
    return this.reader.pollNext(this.readerOutput)
  }

  isAvailable(): Promise<void> {
    return this.reader.isAvailable()
  }

  addSplits(splits: SourceSplit[]): void {
    this.reader.addSplits(splits)
  }

  notifyNoMoreSplits(): void {
    this.reader.notifyNoMoreSplits()
  }

  processBatch(): void {
    throw new Error(`source operator '${this.name}' has no input`)
  }

  override snapshotState(checkpointId: number): OperatorSubtaskState {
    const serializer = this.source.splitSerializer()
    const splits = this.reader.snapshotState(checkpointId)
    return {
      lists: {
        splits: splits.map((split) => serializeItem(serializer, split, `split '${split.splitId}' of source '${this.name}'`)),
      },
    }
  }

  override notifyCheckpointComplete(checkpointId: number): Promise<void> | void {
    return this.reader.notifyCheckpointComplete?.(checkpointId)
  }

  override close(): Promise<void> | void {
    return this.reader?.close()
  }
}
