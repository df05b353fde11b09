import type { SourceSplit } from '../api/source-split.js'
import type { SplitEnumerator, SplitEnumeratorContext } from '../api/split-enumerator.js'

/**
 * An enumerator for sources whose splits are all known up front (`fromElements`, `datagen`, a socket):
 * the splits are spread round-robin over the readers once, each reader gets its share when it
 * registers, followed at once by `signalNoMoreSplits`. It never discovers anything.
 *
 * Runs on the coordinator loop like every {@link SplitEnumerator}, never concurrently.
 * - The `j`-th split of the list goes to subtask `j % parallelism`, so with as many splits as readers
 *   each reader owns one, and after a restore with another parallelism no split is left to a subtask
 *   that no longer exists.
 * - `snapshotState` returns the splits not yet handed out: those of readers that have not registered
 *   yet, and those given back by `addSplitsBack`. Splits already assigned live in the readers' state.
 * - Splits given back by a reader that goes away are kept for that subtask and handed to it when it
 *   registers again.
 */
export class StaticSplitEnumerator<Split extends SourceSplit> implements SplitEnumerator<Split, Split[]> {
  private readonly context: SplitEnumeratorContext<Split>
  /** Splits not yet assigned, by the subtask they are meant for. */
  private readonly unassigned = new Map<number, Split[]>()

  constructor(context: SplitEnumeratorContext<Split>, splits: readonly Split[]) {
    this.context = context
    for (const [position, split] of splits.entries()) this.keepFor(position % context.parallelism, [split])
  }

  start(): void {}

  addReader(subtaskId: number): void {
    this.assignTo(subtaskId)
  }

  /** Readers of these sources do not ask, but if one does it gets whatever is left for it. */
  handleSplitRequest(subtaskId: number): void {
    this.assignTo(subtaskId)
  }

  addSplitsBack(splits: Split[], subtaskId: number): void {
    this.keepFor(subtaskId % this.context.parallelism, splits)
  }

  snapshotState(_checkpointId: number): Split[] {
    const subtaskIds = [...this.unassigned.keys()].sort((a, b) => a - b)
    return subtaskIds.flatMap((subtaskId) => this.unassigned.get(subtaskId) ?? [])
  }

  close(): void {}

  private keepFor(subtaskId: number, splits: readonly Split[]): void {
    if (splits.length === 0) return
    const kept = this.unassigned.get(subtaskId)
    if (kept === undefined) this.unassigned.set(subtaskId, [...splits])
    else kept.push(...splits)
  }

  private assignTo(subtaskId: number): void {
    const splits = this.unassigned.get(subtaskId)
    if (splits !== undefined) {
      this.unassigned.delete(subtaskId)
      this.context.assignSplits(subtaskId, splits)
    }
    this.context.signalNoMoreSplits(subtaskId)
  }
}
