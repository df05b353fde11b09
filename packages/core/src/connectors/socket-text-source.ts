import { type Socket, connect } from 'node:net'
import type { SimpleVersionedSerializer } from '../api/serializer.js'
import type { Source } from '../api/source.js'
import type { InputStatus, ReaderOutput, SourceReader, SourceReaderContext } from '../api/source-reader.js'
import type { SourceSplit } from '../api/source-split.js'
import type { SplitEnumerator, SplitEnumeratorContext } from '../api/split-enumerator.js'
import { ConfigError, IllegalStateError, SluiceError } from '../errors.js'
import { AvailabilityNotifier, availableNow } from './availability-notifier.js'
import { expectArray, expectInteger, expectObject, expectString, jsonSerializer } from './json-serializer.js'
import {
  defaultSourceBatchSize,
  describeValue,
  integerInRangeOption,
  nonEmptyStringOption,
  nonNegativeIntegerOption,
  optionsObject,
  positiveIntegerOption,
} from './option-validation.js'
import { StaticSplitEnumerator } from './static-split-enumerator.js'

/** The one split of a {@link socketTextSource}: only the address, as nothing read can be replayed. */
export interface SocketSplit extends SourceSplit {
  readonly splitId: string
  readonly host: string
  readonly port: number
}

/** Options of {@link socketTextSource}. */
export interface SocketTextSourceOptions {
  /** What separates records in the byte stream. Default `'\n'` (then a `'\r'` before it is dropped too). */
  delimiter?: string
  /**
   * How many times to reconnect after the connection closes or cannot be opened, over the whole life
   * of the reader (as in Flink). 0 (default) ends the input when the connection closes; -1 retries forever.
   */
  maxRetry?: number
  /** Pause before each reconnection, in ms. Default 500 (Flink's). */
  retryDelayMs?: number
  /** Most lines emitted per `pollNext`. Default 1024. */
  batchSize?: number
}

const optionKeys = ['delimiter', 'maxRetry', 'retryDelayMs', 'batchSize'] as const

/** Batches of lines buffered before the socket is paused, so a fast sender cannot fill the heap. */
const bufferedBatchesBeforePause = 8

/**
 * Reads text lines from a TCP socket (Flink's `socketTextStream`), e.g. from `nc -lk 9999`.
 *
 * There is one split, assigned to subtask 0; the other subtasks get no split and end at once. Its
 * reader connects when it gets the split, cuts the UTF-8 byte stream on `delimiter` (lines and
 * multi-byte characters may be cut anywhere between chunks), and emits one record per line, without
 * timestamps. When the connection closes, the last unterminated line is emitted too; then the reader
 * reconnects while retries are left (`maxRetry`), and otherwise its input ends. A connection that
 * fails (refused, reset) with no retries left fails the job.
 *
 * Guarantee: **at-most-once** across failures, as in Flink. A socket cannot be rewound, so the
 * checkpointed split holds only the address: after a restore the reader opens a new connection, and
 * whatever the old one had delivered after the checkpoint, or had buffered, is lost. Records are not
 * duplicated. Use it for demos and tests, not for data that matters.
 */
export function socketTextSource(
  host: string,
  port: number,
  options?: SocketTextSourceOptions,
): Source<string, SocketSplit, SocketSplit[]> {
  const checkedHost = nonEmptyStringOption(host, 'socket.host')
  if (checkedHost === undefined) throw new ConfigError('socket.host', `expected a non-empty string, got ${describeValue(host)}`)
  const checkedPort = integerInRangeOption(port, 'socket.port', 1, 65535)
  if (checkedPort === undefined) throw new ConfigError('socket.port', `expected an integer in [1, 65535], got ${describeValue(port)}`)
  const checked = optionsObject(options, 'socket', optionKeys)
  const settings: ReaderSettings = {
    delimiter: nonEmptyStringOption(checked.delimiter, 'socket.delimiter') ?? '\n',
    maxRetry: integerInRangeOption(checked.maxRetry, 'socket.maxRetry', -1, Number.MAX_SAFE_INTEGER) ?? 0,
    retryDelayMs: nonNegativeIntegerOption(checked.retryDelayMs, 'socket.retryDelayMs') ?? 500,
    batchSize: positiveIntegerOption(checked.batchSize, 'socket.batchSize') ?? defaultSourceBatchSize,
  }
  const split: SocketSplit = { splitId: `socket-${checkedHost}:${checkedPort}`, host: checkedHost, port: checkedPort }

  return {
    boundedness: 'CONTINUOUS_UNBOUNDED',
    createEnumerator(context: SplitEnumeratorContext<SocketSplit>): SplitEnumerator<SocketSplit, SocketSplit[]> {
      // The only split is the first of the list, so it always goes to subtask 0.
      return new StaticSplitEnumerator(context, [split])
    },
    restoreEnumerator(context: SplitEnumeratorContext<SocketSplit>, checkpoint: SocketSplit[]): SplitEnumerator<SocketSplit, SocketSplit[]> {
      return new StaticSplitEnumerator(context, checkpoint)
    },
    createReader(_context: SourceReaderContext): SourceReader<string, SocketSplit> {
      return new SocketTextReader(settings)
    },
    splitSerializer(): SimpleVersionedSerializer<SocketSplit> {
      return jsonSerializer('socket split', (json) => decodeSocketSplit(json, 'socket split'))
    },
    enumeratorCheckpointSerializer(): SimpleVersionedSerializer<SocketSplit[]> {
      const what = 'socket enumerator state'
      return jsonSerializer(what, (json) => expectArray(json, what).map((element) => decodeSocketSplit(element, what)))
    },
  }
}

function decodeSocketSplit(json: unknown, what: string): SocketSplit {
  const object = expectObject(json, what)
  return { splitId: expectString(object, 'splitId', what), host: expectString(object, 'host', what), port: expectInteger(object, 'port', what) }
}

interface ReaderSettings {
  readonly delimiter: string
  readonly maxRetry: number
  readonly retryDelayMs: number
  readonly batchSize: number
}

/**
 * Owns the connection of the socket split. Socket events only append to the line buffer and wake the
 * task loop; `pollNext` hands buffered lines over, a batch at a time.
 */
class SocketTextReader implements SourceReader<string, SocketSplit> {
  private readonly settings: ReaderSettings
  private split: SocketSplit | undefined
  private socket: Socket | undefined
  private decoder = new TextDecoder('utf-8')
  /** Text after the last delimiter of the current connection. */
  private partialLine = ''
  /** Complete lines not yet emitted are `lines[head..]`; a head index avoids `shift()` per line. */
  private lines: string[] = []
  private head = 0
  private paused = false
  private retries = 0
  private retryTimer: ReturnType<typeof setTimeout> | undefined
  private lastError: unknown
  /** The split's connection is closed for good: retries are used up. */
  private connectionFinished = false
  private failure: SluiceError | undefined
  private noMoreSplits = false
  private closed = false
  private readonly availability = new AvailabilityNotifier()

  constructor(settings: ReaderSettings) {
    this.settings = settings
  }

  start(): void {}

  pollNext(output: ReaderOutput<string>): InputStatus {
    const stop = Math.min(this.lines.length, this.head + this.settings.batchSize)
    const emitted = stop - this.head
    for (let index = this.head; index < stop; index++) output.collect(this.lines[index] as string)
    this.head = stop
    if (this.head === this.lines.length) {
      this.lines = []
      this.head = 0
    }
    const buffered = this.lines.length - this.head
    if (this.paused && buffered <= (bufferedBatchesBeforePause * this.settings.batchSize) / 2) {
      this.paused = false
      this.socket?.resume()
    }
    if (buffered > 0) return 'MORE_AVAILABLE'
    // Lines received before a failure are real data: they go out first, then the failure.
    if (this.failure !== undefined) {
      if (emitted > 0) return 'MORE_AVAILABLE'
      throw this.failure
    }
    if (this.inputEnded()) return emitted > 0 ? 'MORE_AVAILABLE' : 'END_OF_INPUT'
    return 'NOTHING_AVAILABLE'
  }

  isAvailable(): Promise<void> {
    if (this.closed || this.head < this.lines.length || this.failure !== undefined || this.inputEnded()) return availableNow
    return this.availability.wait()
  }

  addSplits(splits: SocketSplit[]): void {
    for (const split of splits) {
      if (this.split !== undefined) {
        throw new IllegalStateError(`socket source reader got a second split ${split.splitId} while reading ${this.split.splitId}`)
      }
      this.split = split
      this.open()
    }
    this.availability.notify()
  }

  notifyNoMoreSplits(): void {
    this.noMoreSplits = true
    this.availability.notify()
  }

  snapshotState(_checkpointId: number): SocketSplit[] {
    return this.split === undefined ? [] : [{ ...this.split }]
  }

  close(): void {
    this.closed = true
    if (this.retryTimer !== undefined) clearTimeout(this.retryTimer)
    this.retryTimer = undefined
    this.socket?.destroy()
    this.socket = undefined
    this.availability.notify()
  }

  private inputEnded(): boolean {
    return this.noMoreSplits && (this.split === undefined || this.connectionFinished)
  }

  private open(): void {
    const split = this.split
    if (split === undefined || this.closed) return
    this.decoder = new TextDecoder('utf-8')
    this.partialLine = ''
    this.lastError = undefined
    const socket = connect({ host: split.host, port: split.port })
    this.socket = socket
    socket.on('data', (chunk: Buffer) => this.onData(chunk))
    socket.on('error', (error) => {
      this.lastError = error
    })
    socket.on('close', (hadError) => this.onClose(socket, hadError))
  }

  private onData(chunk: Buffer): void {
    // `stream: true` keeps a multi-byte character cut by the chunk boundary for the next chunk.
    this.appendText(this.decoder.decode(chunk, { stream: true }))
    if (this.lines.length - this.head >= bufferedBatchesBeforePause * this.settings.batchSize && this.socket !== undefined) {
      this.paused = true
      this.socket.pause()
    }
    this.availability.notify()
  }

  private appendText(text: string): void {
    if (text.length === 0) return
    const { delimiter } = this.settings
    const buffer = this.partialLine + text
    // A delimiter may straddle the previous chunk and this one; anything earlier was searched already.
    let searchFrom = Math.max(0, this.partialLine.length - delimiter.length + 1)
    let lineStart = 0
    for (let found = buffer.indexOf(delimiter, searchFrom); found !== -1; found = buffer.indexOf(delimiter, searchFrom)) {
      // As Flink's SocketTextStreamFunction: with the default delimiter, Windows line ends lose their '\r'.
      const lineEnd = delimiter === '\n' && found > lineStart && buffer.charCodeAt(found - 1) === 13 ? found - 1 : found
      this.lines.push(buffer.slice(lineStart, lineEnd))
      lineStart = found + delimiter.length
      searchFrom = lineStart
    }
    this.partialLine = buffer.slice(lineStart)
  }

  private onClose(socket: Socket, hadError: boolean): void {
    if (socket !== this.socket) return
    this.socket = undefined
    this.paused = false
    // Flush a character cut off by the close (it decodes as U+FFFD) and the unterminated last line.
    this.appendText(this.decoder.decode())
    if (this.partialLine.length > 0) this.lines.push(this.partialLine)
    this.partialLine = ''
    if (this.closed) return
    const { maxRetry, retryDelayMs } = this.settings
    if (maxRetry === -1 || this.retries < maxRetry) {
      this.retries++
      this.retryTimer = setTimeout(() => {
        this.retryTimer = undefined
        this.open()
      }, retryDelayMs)
    } else {
      this.connectionFinished = true
      if (hadError) {
        const split = this.split as SocketSplit
        const cause = this.lastError
        const reason = cause instanceof Error ? cause.message : String(cause)
        this.failure = new SluiceError(
          'SOCKET_SOURCE_FAILED',
          `socket source ${split.host}:${split.port}: connection failed after ${this.retries + 1} attempt(s): ${reason}; ` +
            'is the server listening? (raise maxRetry to keep trying)',
          { cause, retriable: true },
        )
      }
    }
    this.availability.notify()
  }
}
