import { access, type FileHandle, open } from 'node:fs/promises'
import { PartFileRecoveryError, PartFileWriteError } from './errors.js'
import type { PartFileInfo } from './rolling-policy.js'

/** Bytes a row part file buffers in memory before it writes them to its file descriptor. */
export const rowWriteBufferBytes = 256 * 1024

/**
 * One in-progress row-format part file: a hidden file opened for writing, records appended as
 * encoded bytes.
 *
 * Hot path, measured (bench/row-sink.bench.mjs): encoded strings of a batch are collected in an array
 * and converted to UTF-8 once, with one `join` (`seal`, called by the writer at the end of each batch
 * and before a roll); converting or measuring each record's UTF-8 length on its own costs about twice
 * the whole write. Sealed batches are written with one positional `write` per `rowWriteBufferBytes`,
 * on `drain`, `sync` and `close`.
 *
 * `size` is exact for everything sealed; strings of the batch being written count by their UTF-16
 * length until the batch is sealed (exact for ASCII text, an undercount for other text). So a rolling
 * policy checking size per record can let a file of non-ASCII text pass `maxPartSize` by part of one
 * batch; at batch ends and checkpoints the size it sees is exact.
 *
 * Used by one sink writer, never concurrently. `sync` makes `size` bytes durable: that is the length a
 * checkpoint records and a restore truncates back to.
 */
export class RowPartFile implements PartFileInfo {
  /** Strings of the current batch, not yet converted. */
  private parts: string[] = []
  private partsLength = 0
  /** Converted bytes not yet written to the descriptor. */
  private chunks: Uint8Array[] = []
  private chunkBytes = 0
  /** Bytes in the file (written to the descriptor). */
  private written: number
  /** The writer's number of the last batch that appended to this file (to seal each file once per batch). */
  batchMark = -1

  private constructor(
    readonly bucketId: string,
    readonly path: string,
    readonly finalPath: string,
    private readonly handle: FileHandle,
    written: number,
    readonly creationTime: number,
    public lastUpdateTime: number,
  ) {
    this.written = written
  }

  /** Creates the hidden file; fails if it exists (`wx`), so two writers can never share one. */
  static async create(bucketId: string, path: string, finalPath: string, now: number): Promise<RowPartFile> {
    let handle: FileHandle
    try {
      handle = await open(path, 'wx')
    } catch (error) {
      throw new PartFileWriteError('create part file', path, error)
    }
    return new RowPartFile(bucketId, path, finalPath, handle, 0, now, now)
  }

  /**
   * Reopens an in-progress file of a restored checkpoint and cuts it back to the length the checkpoint
   * covers: bytes after it were written after the checkpoint, and their records are replayed.
   */
  static async resume(
    state: { bucketId: string; path: string; finalPath: string; validLength: number; creationTime: number; lastUpdateTime: number },
    checkpointId: number | undefined,
  ): Promise<RowPartFile> {
    let handle: FileHandle
    try {
      handle = await open(state.path, 'r+')
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code
      if (code === 'ENOENT') {
        const published = await exists(state.finalPath)
        throw new PartFileRecoveryError(
          state.path,
          state.bucketId,
          checkpointId,
          published
            ? `it is gone and ${state.finalPath} exists: it was published after this checkpoint was taken; restoring a checkpoint older than published output would duplicate records, restore the latest one`
            : 'it is gone (was the output directory changed?)',
          { cause: error },
        )
      }
      throw new PartFileWriteError('reopen in-progress part file', state.path, error)
    }
    try {
      const { size } = await handle.stat()
      if (size < state.validLength) {
        throw new PartFileRecoveryError(state.path, state.bucketId, checkpointId, `it holds ${size} bytes but the checkpoint covers ${state.validLength}; the file was truncated or replaced`)
      }
      if (size > state.validLength) {
        await handle.truncate(state.validLength)
        await handle.sync()
      }
    } catch (error) {
      await handle.close().catch(() => {})
      if (PartFileRecoveryError.isInstance(error)) throw error
      throw new PartFileWriteError('truncate in-progress part file', state.path, error)
    }
    return new RowPartFile(state.bucketId, state.path, state.finalPath, handle, state.validLength, state.creationTime, state.lastUpdateTime)
  }

  get size(): number {
    return this.written + this.chunkBytes + this.partsLength
  }

  /** Bytes not yet written to the descriptor (exact once sealed). */
  get bufferedBytes(): number {
    return this.chunkBytes + this.partsLength
  }

  /** Appends one encoded record (already type-checked by the caller). */
  append(encoded: string | Uint8Array): void {
    if (typeof encoded === 'string') {
      this.parts.push(encoded)
      this.partsLength += encoded.length
    } else {
      this.seal()
      this.chunks.push(encoded)
      this.chunkBytes += encoded.byteLength
    }
  }

  /** Converts the strings appended since the last seal to UTF-8, in one go. */
  seal(): void {
    if (this.parts.length === 0) return
    const bytes = Buffer.from(this.parts.length === 1 ? (this.parts[0] as string) : this.parts.join(''), 'utf8')
    this.parts = []
    this.partsLength = 0
    this.chunks.push(bytes)
    this.chunkBytes += bytes.byteLength
  }

  /** Writes the buffered bytes to the file (no fsync). */
  async drain(): Promise<void> {
    this.seal()
    if (this.chunkBytes === 0) return
    const bytes = this.chunks.length === 1 ? (this.chunks[0] as Uint8Array) : Buffer.concat(this.chunks, this.chunkBytes)
    this.chunks = []
    this.chunkBytes = 0
    try {
      let offset = 0
      while (offset < bytes.byteLength) {
        const { bytesWritten } = await this.handle.write(bytes, offset, bytes.byteLength - offset, this.written + offset)
        offset += bytesWritten
      }
    } catch (error) {
      throw new PartFileWriteError('write part file', this.path, error)
    }
    this.written += bytes.byteLength
  }

  /** Drains and fsyncs: afterwards `size` bytes are durable. */
  async sync(): Promise<void> {
    await this.drain()
    try {
      await this.handle.sync()
    } catch (error) {
      throw new PartFileWriteError('fsync part file', this.path, error)
    }
  }

  /** Drains, fsyncs and closes: the file is complete (pending). Returns its size. */
  async close(): Promise<number> {
    try {
      await this.sync()
    } catch (error) {
      // The file is not complete; release the descriptor anyway (the caller no longer holds this part).
      await this.abort()
      throw error
    }
    try {
      await this.handle.close()
    } catch (error) {
      throw new PartFileWriteError('close part file', this.path, error)
    }
    return this.written
  }

  /** Closes without writing what is buffered (after a failure): the file stays hidden as garbage. */
  async abort(): Promise<void> {
    this.parts = []
    this.partsLength = 0
    this.chunks = []
    this.chunkBytes = 0
    await this.handle.close().catch(() => {})
  }
}

async function exists(path: string): Promise<boolean> {
  try {
    await access(path)
    return true
  } catch {
    return false
  }
}
