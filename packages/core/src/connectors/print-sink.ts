import type { Sink } from '../api/sink.js'
import type { SinkWriter, WriterInitContext } from '../api/sink-writer.js'
import { ConfigError } from '../errors.js'
import { functionOption, oneOfOption, optionsObject, stringOption } from './option-validation.js'

/** Options of {@link printSink}. */
export interface PrintSinkOptions<T> {
  /** Names the output, as Flink's `print(sinkIdentifier)`: lines start with `prefix> ` or `prefix:2> `. */
  prefix?: string
  /** Where lines go. Default `'stdout'`. */
  stream?: 'stdout' | 'stderr'
  /** Turns a record into its text. Default: strings as they are, anything else as JSON. */
  format?: (value: T) => string
  /** Receives the text of each batch instead of the stream (for tests and custom logging). */
  write?: (text: string) => void
}

const optionKeys = ['prefix', 'stream', 'format', 'write'] as const

/**
 * Prints every record on its own line (Flink's `DataStream.print()`), for demos and debugging.
 *
 * Lines are prefixed as in Flink's `PrintSinkOutputWriter`: with parallelism 1 and no `prefix` the
 * record alone; with parallelism > 1 the 1-based subtask number (`2> value`); with a `prefix`, the
 * prefix before it (`prefix> value`, `prefix:2> value`).
 *
 * Each `write` call turns the whole batch into one string and makes one write, not one per record.
 * When the stream's buffer is full, `write` waits for it to drain, so a slow terminal slows the job
 * down instead of filling the heap.
 *
 * Guarantee: **at-least-once**. A plain sink without a committer: lines are out as soon as they are
 * written, so records replayed after a restore are printed again.
 */
export function printSink<T>(options?: PrintSinkOptions<T>): Sink<T> {
  const checked = optionsObject(options, 'print', optionKeys)
  const prefix = stringOption(checked.prefix, 'print.prefix') ?? ''
  const stream = oneOfOption(checked.stream, 'print.stream', ['stdout', 'stderr'] as const) ?? 'stdout'
  const format = functionOption<(value: T) => string>(checked.format, 'print.format') ?? defaultFormat
  const write = functionOption<(text: string) => void>(checked.write, 'print.write')
  if (write !== undefined && checked.stream !== undefined) {
    throw new ConfigError('print.write', 'cannot be combined with print.stream: text goes to one or the other')
  }
  return {
    createWriter(context: WriterInitContext): SinkWriter<T> {
      return new PrintWriter(linePrefix(prefix, context), format, write ?? streamWriter(stream))
    },
  }
}

/** Flink's rule: the identifier, then `:` and the 1-based subtask when parallel, then `> ` if anything came before. */
function linePrefix(prefix: string, context: WriterInitContext): string {
  let completed = prefix
  if (context.parallelism > 1) completed += `${completed.length > 0 ? ':' : ''}${context.subtaskId + 1}`
  return completed.length > 0 ? `${completed}> ` : ''
}

function defaultFormat(value: unknown): string {
  if (typeof value === 'string') return value
  if (typeof value === 'bigint' || typeof value === 'symbol' || typeof value === 'function' || value === undefined) return String(value)
  try {
    return JSON.stringify(value) ?? String(value)
  } catch {
    // A cycle or a BigInt deep inside: still print something rather than fail the job.
    return String(value)
  }
}

/** Writes to the process stream and returns a promise only when the stream asks to wait for 'drain'. */
function streamWriter(stream: 'stdout' | 'stderr'): (text: string) => Promise<void> | void {
  return (text) => {
    const target = stream === 'stdout' ? process.stdout : process.stderr
    if (target.write(text)) return
    return new Promise<void>((resolve, reject) => {
      const onDrain = (): void => {
        target.off('error', onError)
        resolve()
      }
      const onError = (error: Error): void => {
        target.off('drain', onDrain)
        reject(error)
      }
      target.once('drain', onDrain)
      target.once('error', onError)
    })
  }
}

class PrintWriter<T> implements SinkWriter<T> {
  private readonly prefix: string
  private readonly format: (value: T) => string
  private readonly output: (text: string) => Promise<void> | void

  constructor(prefix: string, format: (value: T) => string, output: (text: string) => Promise<void> | void) {
    this.prefix = prefix
    this.format = format
    this.output = output
  }

  write(records: readonly T[]): Promise<void> | void {
    if (records.length === 0) return
    const { prefix, format } = this
    let text = ''
    for (let index = 0; index < records.length; index++) text += `${prefix}${format(records[index] as T)}\n`
    return this.output(text)
  }

  /** Nothing is held back: every batch was handed to the stream in `write`. */
  flush(_endOfInput: boolean): void {}

  close(): void {}
}
