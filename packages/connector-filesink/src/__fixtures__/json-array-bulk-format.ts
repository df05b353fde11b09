import { type FileHandle, open } from 'node:fs/promises'
import type { BulkFormat, BulkWriter } from '../bulk/bulk-format.js'

/**
 * A small but real bulk format for the sink's own tests: a part file is one JSON array, complete only
 * once `finish` wrote the closing `]` (so a file cut short is unreadable, as a Parquet file without its
 * footer). `created` lists the paths it opened, `aborted` those it abandoned.
 */
export class JsonArrayBulkFormat<T> implements BulkFormat<T> {
  readonly extension = '.json'
  readonly created: string[] = []
  readonly aborted: string[] = []
  validateCalls = 0

  validate(): void {
    this.validateCalls++
  }

  async createWriter(path: string): Promise<BulkWriter<T>> {
    const handle = await open(path, 'wx')
    this.created.push(path)
    return new JsonArrayWriter<T>(handle, () => this.aborted.push(path))
  }
}

class JsonArrayWriter<T> implements BulkWriter<T> {
  bytesWritten = 0
  private first = true

  constructor(
    private readonly handle: FileHandle,
    private readonly onAbort: () => void,
  ) {}

  async addElements(elements: readonly T[]): Promise<void> {
    let text = ''
    for (const element of elements) {
      text += `${this.first ? '[' : ','}${JSON.stringify(element)}`
      this.first = false
    }
    await this.write(text)
  }

  async finish(): Promise<void> {
    await this.write(this.first ? '[]' : ']')
    await this.handle.sync()
    await this.handle.close()
  }

  async abort(): Promise<void> {
    this.onAbort()
    await this.handle.close()
  }

  private async write(text: string): Promise<void> {
    const bytes = Buffer.from(text)
    await this.handle.write(bytes, 0, bytes.length, this.bytesWritten)
    this.bytesWritten += bytes.length
  }
}
