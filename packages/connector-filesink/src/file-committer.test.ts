import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import path from 'node:path'
import type { CommitRequest } from '@sluice/core'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { PendingFileMismatchError, PendingFileMissingError } from './errors.js'
import { FileCommitter } from './file-committer.js'
import type { FileSinkCommittable } from './file-sink-committable.js'

type Outcome = 'committed' | 'already' | 'retry' | 'failed-known' | 'failed-unknown'

/** A real CommitRequest as the runtime builds one: records how it was settled. */
function request(committable: FileSinkCommittable, checkpointId = 5): CommitRequest<FileSinkCommittable> & { outcome: Outcome; error?: unknown } {
  const r = {
    committable,
    checkpointId,
    numberOfRetries: 0,
    outcome: 'committed' as Outcome,
    error: undefined as unknown,
    retryLater: () => {
      r.outcome = 'retry'
    },
    updateAndRetryLater: () => {
      r.outcome = 'retry'
    },
    signalAlreadyCommitted: () => {
      r.outcome = 'already'
    },
    signalFailedWithKnownReason: (error: unknown) => {
      r.outcome = 'failed-known'
      r.error = error
    },
    signalFailedWithUnknownReason: (error: unknown) => {
      r.outcome = 'failed-unknown'
      r.error = error
    },
  }
  return r
}

let bucket: string
beforeEach(async () => {
  bucket = path.join(await mkdtemp(path.join(tmpdir(), 'sluice-committer-')), 'b')
  await mkdir(bucket)
})
afterEach(async () => {
  await rm(path.dirname(bucket), { recursive: true, force: true })
})

async function pending(name: string, content: string): Promise<FileSinkCommittable> {
  const pendingPath = path.join(bucket, `.${name}.inprogress.1.abcd`)
  await writeFile(pendingPath, content)
  return { bucketId: 'b', pendingPath, finalPath: path.join(bucket, name), size: Buffer.byteLength(content) }
}

describe('FileCommitter', () => {
  it('publishes a pending file by renaming it to its finished name', async () => {
    const committable = await pending('part-0-0', 'a\nb\n')
    const r = request(committable)
    await new FileCommitter().commit([r])
    expect(r.outcome).toBe('committed')
    expect(await readdir(bucket)).toEqual(['part-0-0'])
    expect(await readFile(committable.finalPath, 'utf8')).toBe('a\nb\n')
  })

  it('reports a committable published before a crash as already committed (idempotent re-commit)', async () => {
    const committable = await pending('part-0-1', 'x\n')
    await new FileCommitter().commit([request(committable)])
    const again = request(committable)
    await new FileCommitter().commit([again])
    expect(again.outcome).toBe('already')
    expect(await readFile(committable.finalPath, 'utf8')).toBe('x\n')
  })

  it('fails with an error naming both paths when neither file exists', async () => {
    const committable = await pending('part-0-2', 'x\n')
    await rm(committable.pendingPath)
    const r = request(committable, 9)
    await new FileCommitter().commit([r])
    expect(r.outcome).toBe('failed-unknown')
    expect(PendingFileMissingError.isInstance(r.error)).toBe(true)
    expect((r.error as Error).message).toContain(committable.pendingPath)
    expect((r.error as Error).message).toContain(committable.finalPath)
    expect((r.error as Error).message).toContain('checkpoint 9')
  })

  it('never publishes a pending file whose size differs from what the writer handed over', async () => {
    const committable = await pending('part-0-3', 'complete\n')
    await writeFile(committable.pendingPath, 'compl')
    const r = request(committable)
    await new FileCommitter().commit([r])
    expect(r.outcome).toBe('failed-unknown')
    expect(PendingFileMismatchError.isInstance(r.error)).toBe(true)
    expect((r.error as Error).message).toMatch(/holds 5 bytes, but the writer handed over 9/)
    expect(await readdir(bucket)).toEqual([path.basename(committable.pendingPath)])
  })

  it('never overwrites a finished file', async () => {
    const committable = await pending('part-0-4', 'new\n')
    await writeFile(committable.finalPath, 'old\n')
    const r = request(committable)
    await new FileCommitter().commit([r])
    expect(r.outcome).toBe('failed-unknown')
    expect((r.error as Error).message).toMatch(/already exists/)
    expect(await readFile(committable.finalPath, 'utf8')).toBe('old\n')
  })

  it('deletes the inputs of a compacted file once it is published, also on a re-commit', async () => {
    const a = await pending('part-0-5', 'a\n')
    const b = await pending('part-0-6', 'b\n')
    const merged = await pending('part-0-7', 'a\nb\n')
    const committable = { ...merged, compactedFrom: [a.pendingPath, b.pendingPath] }
    await new FileCommitter().commit([request(committable)])
    expect(await readdir(bucket)).toEqual(['part-0-7'])
    // A crash between the rename and the deletes: the inputs are back, the re-commit removes them.
    await writeFile(a.pendingPath, 'a\n')
    const again = request(committable)
    await new FileCommitter().commit([again])
    expect(again.outcome).toBe('already')
    expect(await readdir(bucket)).toEqual(['part-0-7'])
  })

  it('commits each request of a batch on its own', async () => {
    const good = await pending('part-1-0', '1\n')
    const missing = await pending('part-1-1', '2\n')
    await rm(missing.pendingPath)
    const requests = [request(good), request(missing)]
    await new FileCommitter().commit(requests)
    expect(requests.map((r) => r.outcome)).toEqual(['committed', 'failed-unknown'])
  })
})
