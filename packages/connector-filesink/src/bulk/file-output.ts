import { open } from 'node:fs/promises'
import type { FileHandle } from 'node:fs/promises'
import { SluiceError } from '@sluice/core'

/** Buffered bytes are written out once they reach this size. */
const chunkBytes = 1 << 20

/**
 * The file a Parquet writer writes to: appends are buffered and written in order, `finish` fsyncs.
 *
 * Used by one writer, never concurrently. Appends are synchronous and queue asynchronous writes on one
 * promise chain, so callers that do not wait for a write (parquetjs-lite does not for its header and
 * page indexes) still get their bytes in order. The first failure sticks: every later call rejects with
 * it. Errors are {@link SluiceError}s with code `PART_FILE_WRITE_FAILED` naming the path (retriable: a
 * full disk may be freed before the restart).
 */
export class FileOutput {
  private pending: Uint8Array[] = []
  private pendingBytes = 0
  private tail: Promise<void> = Promise.resolve()
  private closed = false
  /** Bytes appended so far (written or queued). */
  bytesAppended = 0

  private constructor(
    readonly path: string,
    private readonly handle: FileHandle,
  ) {}

  /** Creates (or truncates) the file. */
  static async create(path: string): Promise<FileOutput> {
    try {
      return new FileOutput(path, await open(path, 'w'))
    } catch (error) {
      throw writeFailed(path, 'cannot create the file', error)
    }
  }

  /**
   * Queues bytes. The caller must not modify `bytes` afterwards unless it awaits the returned promise,
   * which resolves once everything appended so far is written if a write was due, immediately otherwise.
   */
  append(bytes: Uint8Array): Promise<void> {
    if (this.closed) return Promise.reject(writeFailed(this.path, 'append after close', undefined))
    this.pending.push(bytes)
    this.pendingBytes += bytes.length
    this.bytesAppended += bytes.length
    if (this.pendingBytes >= chunkBytes) this.writePending()
    return this.tail
  }

  /** Writes everything appended so far and waits for it. */
  flush(): Promise<void> {
    if (this.pendingBytes > 0) this.writePending()
    return this.tail
  }

  /** Writes what is buffered, fsyncs and closes. The file is then complete on disk. */
  async finish(): Promise<void> {
    await this.flush()
    this.closed = true
    try {
      await this.handle.sync()
    } catch (error) {
      await this.handle.close().catch(() => undefined)
      throw writeFailed(this.path, 'fsync failed', error)
    }
    try {
      await this.handle.close()
    } catch (error) {
      throw writeFailed(this.path, 'close failed', error)
    }
  }

  /** Closes without writing what is buffered; never throws (the file is garbage anyway). */
  async abort(): Promise<void> {
    if (this.closed) return
    this.closed = true
    this.pending = []
    this.pendingBytes = 0
    await this.tail.catch(() => undefined)
    await this.handle.close().catch(() => undefined)
  }

  private writePending(): void {
    const chunks = this.pending
    this.pending = []
    this.pendingBytes = 0
    this.tail = this.tail.then(async () => {
      try {
        await writeFully(this.handle, chunks.length === 1 ? (chunks[0] as Uint8Array) : Buffer.concat(chunks))
      } catch (error) {
        throw writeFailed(this.path, 'write failed', error)
      }
    })
  }
}

/** `FileHandle.write` may write less than asked (e.g. at the edge of a full disk); loop until done. */
async function writeFully(handle: FileHandle, bytes: Uint8Array): Promise<void> {
  let offset = 0
  while (offset < bytes.length) {
    const { bytesWritten } = await handle.write(bytes, offset, bytes.length - offset)
    if (bytesWritten === 0) throw new Error(`wrote 0 of ${bytes.length - offset} remaining bytes`)
    offset += bytesWritten
  }
}

function writeFailed(path: string, what: string, cause: unknown): SluiceError {
  const reason = cause instanceof Error ? `: ${cause.message}` : ''
  return new SluiceError('PART_FILE_WRITE_FAILED', `Parquet part file ${path}: ${what}${reason}`, {
    cause,
    retriable: true,
  })
}
