import { stat } from 'node:fs/promises'
import type { BulkFormat, BulkWriter } from './bulk/bulk-format.js'
import { PartFileWriteError } from './errors.js'
import type { PartFileInfo } from './rolling-policy.js'

/**
 * One in-progress bulk-format part file: a {@link BulkWriter} writing a hidden file. It is never
 * resumed: it rolls at every checkpoint, and one left by a failure is deleted on recovery.
 * Used by one sink writer, never concurrently.
 */
export class BulkPartFile<T> implements PartFileInfo {
  private constructor(
    readonly bucketId: string,
    readonly path: string,
    readonly finalPath: string,
    private readonly writer: BulkWriter<T>,
    readonly creationTime: number,
    public lastUpdateTime: number,
  ) {}

  static async create<T>(format: BulkFormat<T>, bucketId: string, path: string, finalPath: string, now: number): Promise<BulkPartFile<T>> {
    let writer: BulkWriter<T>
    try {
      writer = await format.createWriter(path)
    } catch (error) {
      throw new PartFileWriteError('create bulk part file', path, error)
    }
    return new BulkPartFile(bucketId, path, finalPath, writer, now, now)
  }

  get size(): number {
    return this.writer.bytesWritten
  }

  /** Hands a batch of one bucket to the bulk writer; its errors (a value the schema rejects) pass through. */
  addElements(records: readonly T[]): Promise<void> | void {
    return this.writer.addElements(records)
  }

  /** Finishes the file (footer, fsync, close): it is complete (pending). Returns its size on disk. */
  async close(): Promise<number> {
    try {
      await this.writer.finish()
    } catch (error) {
      await this.abort()
      throw new PartFileWriteError('finish bulk part file', this.path, error)
    }
    try {
      return (await stat(this.path)).size
    } catch (error) {
      throw new PartFileWriteError('stat finished bulk part file', this.path, error)
    }
  }

  /** Closes without completing: the file stays hidden as garbage until the next recovery deletes it. */
  async abort(): Promise<void> {
    await Promise.resolve()
      .then(() => this.writer.abort())
      .catch(() => {})
  }
}
