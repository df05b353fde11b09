import { mkdir, mkdtemp, readdir, readFile, rename, rm, truncate, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { CheckpointCorruptedError, CheckpointFailedError, ConfigError, UnsupportedVersionError } from '../errors.js'
import { FileCheckpointStorage, type CheckpointStorageOptions } from './checkpoint-storage.js'

let root: string
let directory: string
let warnings: string[]

beforeEach(async () => {
  root = await mkdtemp(join(tmpdir(), 'sluice-checkpoint-storage-'))
  directory = join(root, 'job-1')
  warnings = []
})

afterEach(async () => {
  await rm(root, { recursive: true, force: true })
})

function storage(options: Partial<CheckpointStorageOptions> = {}): FileCheckpointStorage {
  return new FileCheckpointStorage({ directory, onWarning: (message) => warnings.push(message), ...options })
}

const bytes = (text: string) => new TextEncoder().encode(text)
const text = (payload: Uint8Array) => new TextDecoder().decode(payload)

async function rejectionOf(promise: Promise<unknown>): Promise<unknown> {
  return promise.then(
    () => {
      throw new Error('expected a rejection')
    },
    (error: unknown) => error,
  )
}

describe('FileCheckpointStorage', () => {
  it('writes a checkpoint that reads back identically, by directory or by _metadata file', async () => {
    const store = storage()
    const path = await store.write(7, bytes('state of checkpoint 7'), { timestamp: 1_700_000_000_123 })
    expect(path).toBe(join(directory, 'chk-7'))
    expect(await readdir(directory)).toEqual(['chk-7'])
    expect(await readdir(path)).toEqual(['_metadata'])

    const file = await readFile(join(path, '_metadata'))
    expect(file.subarray(0, 4).toString('ascii')).toBe('SLCK')
    expect(file.length).toBe(64 + 'state of checkpoint 7'.length)

    for (const location of [path, join(path, '_metadata')]) {
      const stored = await store.read(location)
      expect(stored).toMatchObject({ checkpointId: 7, kind: 'checkpoint', path, timestamp: 1_700_000_000_123 })
      expect(text(stored.payload)).toBe('state of checkpoint 7')
    }
  })

  it('round-trips an empty payload and a binary one', async () => {
    const store = storage()
    const binary = Uint8Array.from({ length: 70_000 }, (_, index) => (index * 31) % 256)
    await store.write(1, new Uint8Array(0))
    await store.write(2, binary.subarray(5, 60_005))
    expect((await store.read(join(directory, 'chk-1'))).payload).toHaveLength(0)
    expect(Array.from((await store.read(join(directory, 'chk-2'))).payload)).toEqual(Array.from(binary.subarray(5, 60_005)))
  })

  it('finds nothing in a missing or empty directory', async () => {
    const store = storage()
    expect(await store.latest()).toBeUndefined()
    expect(await store.list()).toEqual([])
    await mkdir(directory)
    expect(await store.latest()).toBeUndefined()
    expect(warnings).toEqual([])
  })

  it('latest() is the checkpoint with the highest id', async () => {
    const store = storage({ retainedCheckpoints: 5 })
    for (const checkpointId of [1, 3, 2]) await store.write(checkpointId, bytes(`state ${checkpointId}`))
    const latest = await store.latest()
    expect(latest?.checkpointId).toBe(3)
    expect(text(latest?.payload ?? new Uint8Array())).toBe('state 3')
    expect(await store.list()).toEqual([1, 2, 3])
  })

  it('keeps only the newest retainedCheckpoints checkpoints', async () => {
    const store = storage({ retainedCheckpoints: 2 })
    for (let checkpointId = 1; checkpointId <= 5; checkpointId++) await store.write(checkpointId, bytes(`state ${checkpointId}`))
    expect(await store.list()).toEqual([4, 5])
    expect((await readdir(directory)).sort()).toEqual(['chk-4', 'chk-5'])
    expect(warnings).toEqual([])
  })

  it('never deletes savepoints: not by retention, not by discardAll', async () => {
    const store = storage({ retainedCheckpoints: 1 })
    const elsewhere = join(root, 'my-savepoints')
    await store.write(1, bytes('one'))
    const savepoint = await store.write(2, bytes('two'), { kind: 'savepoint' })
    const movedSavepoint = await store.write(3, bytes('three'), { kind: 'savepoint', targetDirectory: elsewhere })
    await store.write(4, bytes('four'))
    await store.write(5, bytes('five'))

    expect(savepoint).toMatch(new RegExp(`^${join(directory, 'savepoints', 'savepoint-2-')}[0-9a-f]{6}$`))
    expect(movedSavepoint).toMatch(new RegExp(`^${join(elsewhere, 'savepoint-3-')}[0-9a-f]{6}$`))
    expect(await store.list()).toEqual([5])

    await store.discardAll()
    expect(await store.list()).toEqual([])
    expect(await store.latest()).toBeUndefined()
    expect(await readdir(directory)).toEqual(['savepoints'])
    expect(await store.read(savepoint)).toMatchObject({ checkpointId: 2, kind: 'savepoint', path: savepoint })
    expect(text((await store.read(movedSavepoint)).payload)).toBe('three')
  })

  it('replaces a checkpoint whose id is written again (after a crash) without leftovers', async () => {
    const store = storage()
    await store.write(4, bytes('first attempt'))
    await store.write(4, bytes('second attempt'))
    expect(text((await store.read(join(directory, 'chk-4'))).payload)).toBe('second attempt')
    expect(await readdir(directory)).toEqual(['chk-4'])
  })

  describe('damaged checkpoints', () => {
    const metadataOf = (checkpointId: number) => join(directory, `chk-${checkpointId}`, '_metadata')

    const damages: Array<[string, (file: string) => Promise<void>, RegExp]> = [
      ['a truncated file', (file) => truncate(file, 64 + 3), /truncated \(header says 11 payload bytes, file has 3\)/],
      [
        'a flipped payload byte',
        async (file) => {
          const content = await readFile(file)
          content[70] = (content[70] ?? 0) ^ 0x01
          await writeFile(file, content)
        },
        /checksum mismatch \(expected [0-9a-f]{8}\.\., got [0-9a-f]{8}\.\.\)/,
      ],
      ['a zero-length file', (file) => truncate(file, 0), /file is empty \(0 bytes\)/],
      ['a header cut short', (file) => truncate(file, 20), /file is too short \(20 bytes; the header alone is 64\)/],
      ['a missing _metadata', (file) => rm(file), /_metadata file is missing/],
      [
        'bad magic bytes',
        async (file) => {
          const content = await readFile(file)
          content.write('XXXX', 0, 'ascii')
          await writeFile(file, content)
        },
        /bad magic bytes \(expected 'SLCK', got 0x58585858\)/,
      ],
    ]

    it.each(damages)('detects %s, names the file and falls back to the previous checkpoint', async (_, damage, reason) => {
      const store = storage()
      await store.write(1, bytes('good state'))
      await store.write(2, bytes('newer state'))
      await damage(metadataOf(2))

      const error = await rejectionOf(store.read(join(directory, 'chk-2')))
      expect(CheckpointCorruptedError.isInstance(error)).toBe(true)
      expect((error as CheckpointCorruptedError).path).toBe(metadataOf(2))
      expect((error as CheckpointCorruptedError).checkpointId).toBe(2)
      expect((error as Error).message).toMatch(`checkpoint 2 at ${metadataOf(2)}: `)
      expect((error as Error).message).toMatch(reason)

      const latest = await store.latest()
      expect(latest?.checkpointId).toBe(1)
      expect(text(latest?.payload ?? new Uint8Array())).toBe('good state')
      expect(warnings).toHaveLength(1)
      expect(warnings[0]).toMatch(`checkpoint 2 at ${metadataOf(2)}: `)
      expect(warnings[0]).toMatch(reason)
      expect(warnings[0]).toMatch(/; falling back to checkpoint 1$/)
      // Left in place for inspection; the next write of id 2 replaces it.
      expect(await store.list()).toEqual([1, 2])
    })

    it('skips several damaged checkpoints and says so when none is left', async () => {
      const store = storage()
      await store.write(1, bytes('one'))
      await store.write(2, bytes('two'))
      await truncate(metadataOf(1), 0)
      await truncate(metadataOf(2), 10)
      expect(await store.latest()).toBeUndefined()
      expect(warnings).toEqual([
        `checkpoint 2 at ${metadataOf(2)}: file is too short (10 bytes; the header alone is 64); no older readable checkpoint; starting without one`,
        `checkpoint 1 at ${metadataOf(1)}: file is empty (0 bytes); no older readable checkpoint; starting without one`,
      ])
    })

    it('rejects a file whose checkpoint id differs from its directory name', async () => {
      const store = storage()
      await store.write(2, bytes('two'))
      await rename(join(directory, 'chk-2'), join(directory, 'chk-5'))
      await expect(store.read(join(directory, 'chk-5'))).rejects.toThrow(
        `checkpoint 5 at ${metadataOf(5)}: the file holds checkpoint 2, but its directory is named chk-5`,
      )
    })

    it('refuses a future format version with UnsupportedVersionError naming the file, in read() and latest()', async () => {
      const store = storage()
      await store.write(1, bytes('one'))
      await store.write(2, bytes('two'))
      const content = await readFile(metadataOf(2))
      content.writeUInt16BE(2, 4)
      await writeFile(metadataOf(2), content)

      const error = await rejectionOf(store.read(join(directory, 'chk-2')))
      expect(UnsupportedVersionError.isInstance(error)).toBe(true)
      expect(error).toMatchObject({ version: 2, supportedVersion: 1 })
      expect((error as Error).message).toBe(
        `checkpoint metadata of checkpoint 2 in ${metadataOf(2)} was written with format version 2, ` +
          'but this code reads versions up to 1; upgrade Sluice or the connector',
      )
      // Restoring checkpoint 1 instead would silently rewind a job that a newer Sluice already moved on.
      expect(UnsupportedVersionError.isInstance(await rejectionOf(store.latest()))).toBe(true)
    })
  })

  describe('interrupted writes', () => {
    /** A complete, valid `_metadata` for `checkpointId`, produced by a storage in another directory. */
    async function validMetadata(checkpointId: number): Promise<Buffer> {
      const other = new FileCheckpointStorage({ directory: join(root, 'other') })
      const path = await other.write(checkpointId, bytes(`state ${checkpointId}`))
      return readFile(join(path, '_metadata'))
    }

    it('does not take a complete file that was never renamed into place for a checkpoint, and deletes it', async () => {
      const store = storage()
      await store.write(1, bytes('state 1'))
      const crashed = join(directory, '.chk-2.tmp-0123456789abcdef')
      await mkdir(crashed)
      await writeFile(join(crashed, '_metadata'), await validMetadata(2))

      expect(await store.list()).toEqual([1])
      expect((await store.latest())?.checkpointId).toBe(1)
      expect(await readdir(directory)).toEqual(['chk-1'])
      expect(warnings).toEqual([])
    })

    it('cleans leftovers of interrupted replacements and deletions, and ignores unrelated names', async () => {
      const store = storage()
      await store.write(3, bytes('state 3'))
      for (const leftover of ['.chk-3.old-aa11', '.chk-1.deleting-bb22', '.chk-4.tmp-cc33']) {
        await mkdir(join(directory, leftover))
        await writeFile(join(directory, leftover, '_metadata'), 'partial')
      }
      for (const unrelated of ['chk-abc', 'chk-03', 'notes.txt']) await writeFile(join(directory, unrelated), 'keep me')
      await mkdir(join(directory, 'chk-9-backup'))

      expect(await store.list()).toEqual([3])
      expect((await store.latest())?.checkpointId).toBe(3)
      expect((await readdir(directory)).sort()).toEqual(['chk-03', 'chk-3', 'chk-9-backup', 'chk-abc', 'notes.txt'])
      expect(warnings).toEqual([])
    })
  })

  it('reports a filesystem failure as a retriable CheckpointFailedError and leaves nothing behind', async () => {
    const blocked = join(root, 'a-file')
    await writeFile(blocked, 'not a directory')
    const store = new FileCheckpointStorage({ directory: join(blocked, 'checkpoints') })
    const error = await rejectionOf(store.write(1, bytes('x')))
    expect(CheckpointFailedError.isInstance(error)).toBe(true)
    expect(error).toMatchObject({ checkpointId: 1, retriable: true })
    expect((error as Error).message).toMatch(`checkpoint 1 failed: writing ${join(blocked, 'checkpoints', 'chk-1')} failed: `)
    expect(await readFile(blocked, 'utf8')).toBe('not a directory')
  })

  it('validates its options with the option path', () => {
    expect(() => storage({ retainedCheckpoints: 0 })).toThrow(
      'checkpointing.retainedCheckpoints: expected an integer >= 1, got 0',
    )
    expect(() => storage({ retainedCheckpoints: 1.5 })).toThrow(ConfigError)
    expect(() => new FileCheckpointStorage({ directory: '' })).toThrow("checkpointing.directory: expected a non-empty path, got ''")
  })

  it('rejects invalid write arguments before touching the disk', async () => {
    const store = storage()
    await expect(store.write(-1, bytes('x'))).rejects.toThrow('checkpoint id must be a non-negative integer, got -1')
    await expect(store.write(1, bytes('x'), { targetDirectory: root })).rejects.toThrow(/targetDirectory applies to savepoints only/)
    expect(await store.list()).toEqual([])
  })
})
