import { access, mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { ConfigError } from '@sluice/core'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { JsonArrayBulkFormat } from './__fixtures__/json-array-bulk-format.js'
import { initContext } from './__fixtures__/writer-harness.js'
import type { BulkFormat } from './bulk/bulk-format.js'
import { DateTimeBucketAssigner } from './date-time-bucket-assigner.js'
import { DefaultRollingPolicy } from './default-rolling-policy.js'
import { SimpleStringEncoder } from './encoder.js'
import { FileSink } from './file-sink.js'
import { OutputFileConfig } from './output-file-config.js'
import { OnCheckpointRollingPolicy } from './rolling-policy.js'

let directory: string
beforeEach(async () => {
  directory = await mkdtemp(path.join(tmpdir(), 'sluice-filesink-build-'))
})
afterEach(async () => {
  await rm(directory, { recursive: true, force: true })
})

function configError(build: () => unknown): ConfigError {
  try {
    build()
  } catch (error) {
    if (ConfigError.isInstance(error)) return error
    throw error
  }
  throw new Error('expected a ConfigError')
}

describe('FileSink builders', () => {
  it("take Flink's defaults: SimpleStringEncoder, DateTimeBucketAssigner, DefaultRollingPolicy, 'part' prefix, 1 min check", () => {
    const sink = FileSink.forRowFormat(path.join(directory, 'out')).build()
    expect(sink.config.format).toEqual({ kind: 'row', encoder: expect.any(SimpleStringEncoder) })
    expect(sink.config.bucketAssigner).toBeInstanceOf(DateTimeBucketAssigner)
    expect(sink.config.rollingPolicy).toBeInstanceOf(DefaultRollingPolicy)
    expect(sink.config.naming.finishedName(0, 1)).toBe('part-0-1')
    expect(sink.config.bucketCheckInterval).toBe(60_000)
    expect(sink.config.basePath).toBe(path.join(directory, 'out'))
  })

  it("builds the seed's example (prefix, suffix, date-time buckets, rolling by time and size)", () => {
    const sink = FileSink.forRowFormat(path.join(directory, 'out'), new SimpleStringEncoder<string>('utf-8'))
      .withBucketAssigner(new DateTimeBucketAssigner())
      .withRollingPolicy(DefaultRollingPolicy.builder().withRolloverInterval(2000).withInactivityInterval(1000).withMaxPartSize(1024 * 1024 * 1024).build())
      .withOutputFileConfig(OutputFileConfig.builder().withPartPrefix('prefix').withPartSuffix('.txt').build())
      .build()
    expect(sink.config.naming.finishedName(0, 3)).toBe('prefix-0-3.txt')
  })

  it('resolves a relative base path once, at build time', () => {
    expect(FileSink.forRowFormat('relative/out').build().config.basePath).toBe(path.resolve('relative/out'))
  })

  it.each([
    ['basePath', () => FileSink.forRowFormat('').build(), /fileSink.basePath: expected a non-empty directory path/],
    ['encoder', () => FileSink.forRowFormat('/tmp/x', {} as never).build(), /fileSink.encoder: expected an Encoder/],
    ['bucketAssigner', () => FileSink.forRowFormat('/tmp/x').withBucketAssigner((() => '') as never).build(), /fileSink.bucketAssigner/],
    ['rollingPolicy', () => FileSink.forRowFormat('/tmp/x').withRollingPolicy({ shouldRollOnEvent: () => true } as never).build(), /fileSink.rollingPolicy: expected a RollingPolicy/],
    ['bucketCheckInterval', () => FileSink.forRowFormat('/tmp/x').withBucketCheckInterval(0).build(), /fileSink.bucketCheckInterval: expected a positive integer \(ms\), got 0/],
    ['outputFileConfig', () => FileSink.forRowFormat('/tmp/x').withOutputFileConfig({ partPrefix: '.x' }).build(), /fileSink.outputFileConfig.partPrefix/],
    ['compaction', () => FileSink.forRowFormat('/tmp/x').withCompaction({ targetFileSize: -1 }).build(), /fileSink.compaction.targetFileSize/],
    ['compaction', () => FileSink.forRowFormat('/tmp/x').withCompaction({} as never).build(), /fileSink.compaction.targetFileSize: is required/],
  ])('names the option %s when it is invalid', (_option, build, message) => {
    expect(configError(build).message).toMatch(message)
  })

  it('refuses any rolling policy but a CheckpointRollingPolicy for bulk formats, with a clear error', () => {
    const error = configError(() => FileSink.forBulkFormat('/tmp/x', new JsonArrayBulkFormat()).withRollingPolicy(DefaultRollingPolicy.create()).build())
    expect(error.path).toBe('fileSink.rollingPolicy')
    expect(error.message).toMatch(/bulk formats roll part files on every checkpoint .* only OnCheckpointRollingPolicy or another CheckpointRollingPolicy is allowed, got DefaultRollingPolicy/)
    const sink = FileSink.forBulkFormat('/tmp/x', new JsonArrayBulkFormat()).withRollingPolicy(new OnCheckpointRollingPolicy()).build()
    expect(sink.config.rollingPolicy).toBeInstanceOf(OnCheckpointRollingPolicy)
  })

  it("validates the bulk format at build time and names part files with its extension unless a suffix is set", () => {
    const format = new JsonArrayBulkFormat()
    const sink = FileSink.forBulkFormat('/tmp/x', format).build()
    expect(format.validateCalls).toBe(1)
    expect(sink.config.naming.finishedName(1, 2)).toBe('part-1-2.json')
    expect(FileSink.forBulkFormat('/tmp/x', format).withOutputFileConfig({ partSuffix: '.pq' }).build().config.naming.finishedName(1, 2)).toBe('part-1-2.pq')
    const broken: BulkFormat<unknown> = {
      extension: '.bad',
      validate: () => {
        throw new ConfigError('parquetBulkFormat.compression', "expected 'SNAPPY', got 'ZIP'")
      },
      createWriter: () => Promise.reject(new Error('never called')),
    }
    expect(configError(() => FileSink.forBulkFormat('/tmp/x', broken).build()).path).toBe('parquetBulkFormat.compression')
  })

  it('opens nothing when built: the base path appears with the first part file', async () => {
    const basePath = path.join(directory, 'not-yet')
    const sink = FileSink.forRowFormat(basePath).withWarnWithoutCheckpointing(false).build()
    await expect(access(basePath)).rejects.toThrow(/ENOENT/)
    const writer = await sink.createWriter(initContext())
    await expect(access(basePath)).rejects.toThrow(/ENOENT/)
    await writer.close()
  })

  it('warns once, from subtask 0, when the job does not checkpoint, that files are published only at the end', async () => {
    const warnings: string[] = []
    const sink = FileSink.forRowFormat(path.join(directory, 'out')).withOnWarning((m) => warnings.push(m)).build()
    const withoutCheckpointing = (subtask: number) => ({ ...initContext(subtask, 2), checkpointing: undefined })
    await (await sink.createWriter(initContext(0, 2))).close() // checkpointing on: no warning
    await (await sink.createWriter(withoutCheckpointing(1))).close()
    await (await sink.createWriter(withoutCheckpointing(0))).close()
    await (await sink.createWriter(withoutCheckpointing(0))).close()
    expect(warnings).toHaveLength(1)
    expect(warnings[0]).toMatch(/Without checkpointing they are published only at the end of bounded input, and never for unbounded input/)
    const quiet: string[] = []
    const silenced = FileSink.forRowFormat(path.join(directory, 'out')).withOnWarning((m) => quiet.push(m)).withWarnWithoutCheckpointing(false).build()
    await (await silenced.createWriter({ ...initContext(), checkpointing: undefined })).close()
    expect(quiet).toEqual([])
  })
})
