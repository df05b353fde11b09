import type { Source } from '../../src/api/source.js'
import type { InputStatus, ReaderOutput, SourceReader } from '../../src/api/source-reader.js'
import type { SplitEnumeratorContext } from '../../src/api/split-enumerator.js'
import { AvailabilityNotifier, availableNow } from '../../src/connectors/availability-notifier.js'
import { expectInteger, expectObject, expectString, jsonSerializer } from '../../src/connectors/json-serializer.js'
import { StaticSplitEnumerator } from '../../src/connectors/static-split-enumerator.js'

/** One step of a script: a record with its event timestamp, or a watermark. */
export type ScriptStep<T> = { readonly value: T; readonly timestamp: number } | { readonly watermark: number }

/** A split is one script of the source, with how far it has been read and its last watermark. */
export interface ScriptSplit {
  readonly splitId: string
  readonly script: number
  readonly position: number
  readonly watermark: number
}

export interface ScriptedSourceOptions {
  /** Most records per poll. Default 64. A watermark step always ends the poll, so it is forwarded right after the records before it. */
  stepsPerPoll?: number
  /** Pause after each poll, in ms, so a test can stop the job mid-stream. Default 0. */
  pauseMs?: number
  /** Keep running (idle) after the scripts end, as an endless source would. Default false. */
  unbounded?: boolean
}

/**
 * A test source that plays scripts of records and watermarks exactly as written: script `i` is split
 * `i`, splits are spread over the readers round-robin (StaticSplitEnumerator). A reader's watermark is
 * the minimum of the last watermarks of its unfinished splits, emitted when it rises. Positions and
 * watermarks are checkpointed, so a restored job continues where the checkpoint was taken.
 */
export function scriptedSource<T>(scripts: readonly (readonly ScriptStep<T>[])[], options: ScriptedSourceOptions = {}): Source<T, ScriptSplit, ScriptSplit[]> {
  const stepsPerPoll = options.stepsPerPoll ?? 64
  const pauseMs = options.pauseMs ?? 0
  const splitSerializer = jsonSerializer<ScriptSplit>('script split', decodeSplit)
  return {
    boundedness: options.unbounded ? 'CONTINUOUS_UNBOUNDED' : 'BOUNDED',
    createEnumerator: (context: SplitEnumeratorContext<ScriptSplit>) =>
      new StaticSplitEnumerator(
        context,
        scripts.map((_, script) => ({ splitId: `script-${script}`, script, position: 0, watermark: Number.MIN_SAFE_INTEGER })),
      ),
    restoreEnumerator: (context, checkpoint) => new StaticSplitEnumerator(context, checkpoint),
    createReader: () => new ScriptReader(scripts, stepsPerPoll, pauseMs, options.unbounded ?? false),
    splitSerializer: () => splitSerializer,
    enumeratorCheckpointSerializer: () =>
      jsonSerializer<ScriptSplit[]>('script splits', (json) => {
        if (!Array.isArray(json)) throw new TypeError('expected an array of splits')
        return json.map(decodeSplit)
      }),
  }
}

function decodeSplit(json: unknown): ScriptSplit {
  const object = expectObject(json, 'script split')
  return {
    splitId: expectString(object, 'splitId', 'script split'),
    script: expectInteger(object, 'script', 'script split'),
    position: expectInteger(object, 'position', 'script split'),
    watermark: expectInteger(object, 'watermark', 'script split'),
  }
}

interface SplitPosition {
  splitId: string
  script: number
  position: number
  watermark: number
}

class ScriptReader<T> implements SourceReader<T, ScriptSplit> {
  private readonly splits: SplitPosition[] = []
  private next = 0
  private noMoreSplits = false
  private closed = false
  private emittedWatermark = Number.NEGATIVE_INFINITY
  private pausedUntil = 0
  private readonly availability = new AvailabilityNotifier()
  private timer: NodeJS.Timeout | undefined

  constructor(
    private readonly scripts: readonly (readonly ScriptStep<T>[])[],
    private readonly stepsPerPoll: number,
    private readonly pauseMs: number,
    private readonly unbounded: boolean,
  ) {}

  start(): void {}

  pollNext(output: ReaderOutput<T>): InputStatus {
    if (this.pauseMs > 0 && Date.now() < this.pausedUntil) return 'NOTHING_AVAILABLE'
    this.emitCombinedWatermark(output)
    if (this.splits.length === 0) return this.noMoreSplits && !this.unbounded ? 'END_OF_INPUT' : 'NOTHING_AVAILABLE'
    this.next %= this.splits.length
    const split = this.splits[this.next] as SplitPosition
    const script = this.scripts[split.script] as readonly ScriptStep<T>[]
    let emitted = 0
    while (split.position < script.length && emitted < this.stepsPerPoll) {
      const step = script[split.position] as ScriptStep<T>
      split.position++
      if ('watermark' in step) {
        if (step.watermark > split.watermark) split.watermark = step.watermark
        break
      }
      output.collect(step.value, step.timestamp)
      emitted++
    }
    if (split.position >= script.length) this.splits.splice(this.next, 1)
    else this.next++
    this.emitCombinedWatermark(output)
    if (this.pauseMs > 0) this.pausedUntil = Date.now() + this.pauseMs
    return 'MORE_AVAILABLE'
  }

  private emitCombinedWatermark(output: ReaderOutput<T>): void {
    if (this.splits.length === 0) return
    let minimum = Number.POSITIVE_INFINITY
    for (const split of this.splits) if (split.watermark < minimum) minimum = split.watermark
    if (minimum > this.emittedWatermark && minimum > Number.MIN_SAFE_INTEGER) {
      this.emittedWatermark = minimum
      output.emitWatermark(minimum)
    }
  }

  isAvailable(): Promise<void> {
    if (this.closed) return availableNow
    if (this.pauseMs > 0 && Date.now() < this.pausedUntil) {
      this.timer ??= setTimeout(() => {
        this.timer = undefined
        this.availability.notify()
      }, this.pausedUntil - Date.now())
      return this.availability.wait()
    }
    if (this.splits.length > 0 || (this.noMoreSplits && !this.unbounded)) return availableNow
    return this.availability.wait()
  }

  addSplits(splits: ScriptSplit[]): void {
    for (const split of splits) this.splits.push({ ...split })
    this.availability.notify()
  }

  notifyNoMoreSplits(): void {
    this.noMoreSplits = true
    this.availability.notify()
  }

  snapshotState(): ScriptSplit[] {
    return this.splits.map((s) => ({ ...s }))
  }

  close(): void {
    this.closed = true
    if (this.timer) clearTimeout(this.timer)
    this.availability.notify()
  }
}
