import { randomBytes } from 'node:crypto'
import { type FileHandle, open } from 'node:fs/promises'
import path from 'node:path'
import { type CommittingSinkWriter, SerializationError, type WriterInitContext } from '@sluice/core'
import { committedDirectoryOf, fileSinkExtension, inProgressDirectoryOf } from './committed-files.js'
import type { FileCommittable } from './file-committable.js'

/** Characters allowed in a file name part; anything else in a uid becomes `_`. */
function fileNamePart(value: string): string {
  return value.replace(/[^A-Za-z0-9._-]/g, '_')
}

/** The file being written between two checkpoints. */
interface OpenFile {
  readonly handle: FileHandle
  readonly tempPath: string
  readonly finalPath: string
  records: number
}

/**
 * The writer of one subtask of a TransactionalFileSink: appends records as lines to an in-progress
 * file and, at each checkpoint, closes it and hands it to the committer.
 *
 * Called by one task, never concurrently: `write* → flush → prepareCommit` per checkpoint, `close` once.
 * A file is opened lazily by the first record after a barrier, so a checkpoint without records
 * produces no file and no committable.
 *
 * File names are `<jobName>-<operatorUid>-<subtask>-<attempt>-<token>-<counter>.jsonl`. `token` is
 * random per writer: the attempt number restarts at 0 in a new process, so without it a restarted job
 * would reuse a name that a killed process already wrote or committed. Files are opened with `wx`
 * (fail if the file exists) so a clash could never silently mix two writers' records.
 */
export class TransactionalFileWriter<T> implements CommittingSinkWriter<T, FileCommittable> {
  private readonly inProgressDirectory: string
  private readonly committedDirectory: string
  private readonly namePrefix: string
  private readonly serialize: (value: T) => string
  private counter = 0
  private current: OpenFile | undefined

  constructor(directory: string, context: WriterInitContext, serialize: (value: T) => string) {
    this.inProgressDirectory = inProgressDirectoryOf(directory)
    this.committedDirectory = committedDirectoryOf(directory)
    this.serialize = serialize
    const token = randomBytes(4).toString('hex')
    this.namePrefix = [context.jobName, context.operatorUid, context.subtaskId, context.attemptNumber, token]
      .map((part) => fileNamePart(String(part)))
      .join('-')
  }

  async write(records: readonly T[]): Promise<void> {
    if (records.length === 0) return
    // One string and one write per batch: a write per record would cost a syscall each.
    let text = ''
    for (let index = 0; index < records.length; index++) {
      const line = this.serialize(records[index] as T)
      if (typeof line !== 'string') {
        throw new SerializationError('transactional file sink record', `serialize returned ${typeof line}, expected a string`)
      }
      if (line.includes('\n')) {
        throw new SerializationError('transactional file sink record', 'serialize returned a string with a newline; each record must be one line')
      }
      text += `${line}\n`
    }
    const file = this.current ?? (await this.openNext())
    await writeFully(file.handle, Buffer.from(text, 'utf8'))
    file.records += records.length
  }

  /**
   * Nothing to do: every `write` has already handed its bytes to the file. Durability is reached in
   * `prepareCommit`, which fsyncs the file once per checkpoint rather than once per flush.
   */
  flush(_endOfInput: boolean): void {}

  /** Closes and fsyncs the current file (if it has records) and returns it as the committable of this checkpoint. */
  async prepareCommit(): Promise<FileCommittable[]> {
    const file = this.current
    if (!file) return []
    this.current = undefined
    await file.handle.sync()
    await file.handle.close()
    return [{ tempPath: file.tempPath, finalPath: file.finalPath, records: file.records }]
  }

  /** Closes the open file without committing it: after a failure it stays in `.in-progress` as garbage. */
  async close(): Promise<void> {
    const file = this.current
    this.current = undefined
    await file?.handle.close()
  }

  private async openNext(): Promise<OpenFile> {
    const name = `${this.namePrefix}-${this.counter++}${fileSinkExtension}`
    const tempPath = path.join(this.inProgressDirectory, name)
    const handle = await open(tempPath, 'wx')
    this.current = { handle, tempPath, finalPath: path.join(this.committedDirectory, name), records: 0 }
    return this.current
  }
}

/** `handle.write` may write fewer bytes than asked; loop until all are written. */
async function writeFully(handle: FileHandle, bytes: Buffer): Promise<void> {
  let offset = 0
  while (offset < bytes.length) {
    const { bytesWritten } = await handle.write(bytes, offset, bytes.length - offset)
    offset += bytesWritten
  }
}
