import { execFileSync } from 'node:child_process'
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises'
import { type AddressInfo, createServer, type Server } from 'node:net'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { RestartStrategies, StreamExecutionEnvironment } from '@sluice/core'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { listOutputFiles } from '../test/__fixtures__/output-files.js'
import { BasePathBucketAssigner, type BucketAssigner } from './bucket-assigner.js'
import { DateTimeBucketAssigner } from './date-time-bucket-assigner.js'
import { DefaultRollingPolicy } from './default-rolling-policy.js'
import { SimpleStringEncoder } from './encoder.js'
import { PartFileWriteError, RecordEncodingError } from './errors.js'
import { FileSink } from './file-sink.js'
import { OutputFileConfig } from './output-file-config.js'

let directory: string
beforeEach(async () => {
  directory = await mkdtemp(path.join(tmpdir(), 'sluice-filesink-job-'))
})
afterEach(async () => {
  await rm(directory, { recursive: true, force: true })
})

/** The finished part files, ordered by bucket then part counter, and their concatenated lines. */
async function finishedLines(basePath: string): Promise<{ files: string[]; lines: string[] }> {
  const { finished } = await listOutputFiles(basePath)
  const counterOf = (file: string) => Number(/-(\d+)(\.[a-z]+)?$/.exec(path.basename(file))?.[1])
  const files = [...finished].sort((a, b) => path.dirname(a).localeCompare(path.dirname(b)) || counterOf(a) - counterOf(b))
  const lines: string[] = []
  for (const file of files) {
    const text = await readFile(file, 'utf8')
    expect(text.endsWith('\n'), `${file} ends mid-line`).toBe(true)
    lines.push(...text.slice(0, -1).split('\n'))
  }
  return { files, lines }
}

/** All messages of an error and its causes, joined: what a person reading the failure sees. */
function messages(error: unknown): string {
  const parts: string[] = []
  for (let e = error; e instanceof Error; e = e.cause) parts.push(e.message)
  return parts.join(' <- ')
}

function causeMatching<E>(error: unknown, isInstance: (e: unknown) => e is E): E | undefined {
  for (let e = error; e instanceof Error; e = e.cause) if (isInstance(e)) return e
  return undefined
}

describe("the seed's example: socket text source → row FileSink", () => {
  /**
   * Purpose: the seed's StreamFileSinkDemo end to end: `socketTextStream` → `FileSink.forRowFormat` with
   * `SimpleStringEncoder("UTF-8")`, `DateTimeBucketAssigner`, `DefaultRollingPolicy` and an
   * `OutputFileConfig` with prefix `prefix` and suffix `.txt`, sink parallelism 1, with checkpoints.
   * Method: a real TCP server on 127.0.0.1 sends 2000 lines in 20 bursts 30 ms apart, then closes (the
   * source's input ends). Small sizes and intervals make the part files roll on size and time.
   * Pass: the finished files, in bucket and counter order, hold exactly the lines sent, in order; they are
   * named `prefix-0-<n>.txt` in `yyyy-MM-dd--HH` buckets; several files rolled; no hidden file remains.
   */
  it('writes exactly the lines sent, in hourly buckets, rolling on size and time', async () => {
    const lines = Array.from({ length: 2000 }, (_, i) => `line ${i} ${'·'.repeat(i % 7)}`)
    const server = await listen((socket) => {
      let burst = 0
      const send = () => {
        socket.write(`${lines.slice(burst * 100, (burst + 1) * 100).join('\n')}\n`)
        if (++burst < 20) setTimeout(send, 30)
        else socket.end()
      }
      send()
    })
    const basePath = path.join(directory, 'FlinkFileSink')
    try {
      const env = StreamExecutionEnvironment.create({ parallelism: 1, checkpointing: { interval: 50, directory: path.join(directory, 'ckp') } })
      const sink = FileSink.forRowFormat(basePath, new SimpleStringEncoder<string>('utf-8'))
        .withBucketAssigner(new DateTimeBucketAssigner())
        .withRollingPolicy(DefaultRollingPolicy.builder().withRolloverInterval(200).withInactivityInterval(100).withMaxPartSize(8 * 1024).build())
        .withOutputFileConfig(OutputFileConfig.builder().withPartPrefix('prefix').withPartSuffix('.txt').build())
        .withBucketCheckInterval(50)
        .build()
      env.socketTextStream('127.0.0.1', (server.address() as AddressInfo).port).sinkTo(sink).setParallelism(1)
      const result = await env.execute('stream-file-sink-demo').result
      expect(result.state).toBe('FINISHED')
    } finally {
      server.close()
    }
    const { files, lines: written } = await finishedLines(basePath)
    expect(written).toEqual(lines)
    expect(files.length).toBeGreaterThan(1)
    for (const file of files) {
      expect(path.basename(file)).toMatch(/^prefix-0-\d+\.txt$/)
      expect(path.basename(path.dirname(file))).toMatch(/^\d{4}-\d{2}-\d{2}--\d{2}$/)
    }
    expect((await listOutputFiles(basePath)).hidden).toEqual([])
  })
})

describe('FileSink in jobs', () => {
  /**
   * Purpose: exactly-once across in-process restarts (a task fails, the job restarts from its checkpoint).
   * Method: parallelism 2, checkpoints every 20 ms, a map that throws twice; three buckets.
   * Pass: every record is in exactly one finished file; no hidden file remains.
   */
  it('writes every record exactly once across task failures and restarts', async () => {
    const count = 30_000
    let failuresLeft = 2
    const basePath = path.join(directory, 'out')
    const env = StreamExecutionEnvironment.create({
      parallelism: 2,
      checkpointing: { interval: 20, directory: path.join(directory, 'ckp') },
      restartStrategy: RestartStrategies.fixedDelay(5, 10),
      onWarning: () => {},
    })
    const byBucket: BucketAssigner<string> = { getBucketId: (line) => `b${Number(line) % 3}` }
    env
      .datagen({ generator: (i) => i, count, recordsPerSecond: 60_000 })
      .map((i) => {
        if (failuresLeft > 0 && i % 9973 === 5000) {
          failuresLeft--
          throw new Error(`injected failure at ${i}`)
        }
        return String(i)
      })
      .sinkTo(FileSink.forRowFormat<string>(basePath).withBucketAssigner(byBucket).withRollingPolicy(DefaultRollingPolicy.create({ maxPartSize: 16 * 1024 })).build())
    const result = await env.execute('restarting').result
    expect(result.metrics.restarts).toBe(2)
    const { lines } = await finishedLines(basePath)
    expect(lines).toHaveLength(count)
    expect(new Set(lines).size).toBe(count)
    expect((await listOutputFiles(basePath)).hidden).toEqual([])
  })

  it('publishes everything at the end of bounded input without checkpointing, and warns about it', async () => {
    const warnings: string[] = []
    const basePath = path.join(directory, 'out')
    const env = StreamExecutionEnvironment.create({ parallelism: 2 })
    env
      .fromIterable(Array.from({ length: 500 }, (_, i) => `r${i}`))
      .sinkTo(FileSink.forRowFormat<string>(basePath).withBucketAssigner(new BasePathBucketAssigner()).withOnWarning((m) => warnings.push(m)).build())
    await env.execute('no-checkpoints').result
    expect((await finishedLines(basePath)).lines.sort()).toEqual(Array.from({ length: 500 }, (_, i) => `r${i}`).sort())
    expect(warnings).toHaveLength(1)
    expect(warnings[0]).toContain(basePath)
  })

  /**
   * Purpose: an unwritable bucket directory fails the job with the path, and publishes nothing partial.
   * Method: the bucket `blocked` is a regular file where a directory must go (fails even for root);
   * records of bucket `ok` go fine. No restarts.
   * Pass: the job fails with a PartFileWriteError naming `<base>/blocked`; no finished file exists.
   */
  it('fails with the path of a bucket directory it cannot create, publishing nothing', async () => {
    const basePath = path.join(directory, 'out')
    await mkdir(basePath, { recursive: true })
    await writeFile(path.join(basePath, 'blocked'), 'a file where a bucket directory should be')
    const env = StreamExecutionEnvironment.create({ checkpointing: { interval: 20, directory: path.join(directory, 'ckp') }, restartStrategy: RestartStrategies.none(), onWarning: () => {} })
    env
      .fromIterable(['ok-1', 'ok-2', 'blocked-1'])
      .sinkTo(FileSink.forRowFormat<string>(basePath).withBucketAssigner({ getBucketId: (line) => line.split('-')[0] as string }).withWarnWithoutCheckpointing(false).build())
    const error = await env.execute('unwritable').result.then(() => undefined, (e: unknown) => e)
    const writeError = causeMatching(error, PartFileWriteError.isInstance)
    expect(writeError?.path).toBe(path.join(basePath, 'blocked'))
    expect(messages(error)).toContain(`cannot create bucket directory ${path.join(basePath, 'blocked')}`)
    expect((await listOutputFiles(basePath)).finished).toEqual([path.join(basePath, 'blocked')])
  })

  it('fails the job naming the record an encoder rejects and its bucket', async () => {
    const basePath = path.join(directory, 'out')
    const env = StreamExecutionEnvironment.create({ restartStrategy: RestartStrategies.none(), onWarning: () => {} })
    env
      .fromElements<unknown>('a', 'b', null, 'd')
      .sinkTo(FileSink.forRowFormat<unknown>(basePath).withBucketAssigner(new BasePathBucketAssigner()).withWarnWithoutCheckpointing(false).build())
    const error = await env.execute('bad-record').result.then(() => undefined, (e: unknown) => e)
    const encodingError = causeMatching(error, RecordEncodingError.isInstance)
    expect(encodingError).toMatchObject({ recordIndex: 2, bucketId: '' })
    expect(messages(error)).toContain(`record 2 of the batch (bucket '', value null) cannot be encoded: SimpleStringEncoder cannot encode null`)
    expect((await listOutputFiles(basePath)).finished).toEqual([])
  })

  /**
   * Purpose: a full disk fails the job with the path and never publishes a partial file.
   * Method: the base path is a 128 KiB tmpfs (needs root and mount; skipped otherwise); 4000 lines of
   * ~100 bytes do not fit. Checkpoints every 20 ms commit what fits first. No restarts.
   * Pass: the job fails with ENOSPC and the part file's path; every finished file is complete (ends with a
   * line break, every line whole and in sequence).
   */
  it.skipIf(!canMountTmpfs())('fails on a full disk naming the path, and every published file is complete', async () => {
    const mountPoint = path.join(directory, 'small-disk')
    await mkdir(mountPoint)
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=128k', 'tmpfs', mountPoint])
    try {
      const env = StreamExecutionEnvironment.create({ checkpointing: { interval: 20, directory: path.join(directory, 'ckp') }, restartStrategy: RestartStrategies.none(), onWarning: () => {} })
      const line = (i: number) => `${String(i).padStart(6, '0')} ${'x'.repeat(93)}`
      env
        .datagen({ generator: line, count: 4000, recordsPerSecond: 20_000 })
        .sinkTo(
          FileSink.forRowFormat<string>(mountPoint)
            .withBucketAssigner(new BasePathBucketAssigner())
            .withRollingPolicy(DefaultRollingPolicy.create({ maxPartSize: 16 * 1024 }))
            .withWarnWithoutCheckpointing(false)
            .build(),
        )
      const error = await env.execute('full-disk').result.then(() => undefined, (e: unknown) => e)
      const writeError = causeMatching(error, PartFileWriteError.isInstance)
      expect(writeError?.errno).toBe('ENOSPC')
      expect(writeError?.path.startsWith(mountPoint)).toBe(true)
      const { files, lines } = await finishedLines(mountPoint)
      for (const [index, text] of lines.entries()) expect(text, `line ${index} of ${files.length} files`).toBe(line(Number(text.slice(0, 6))))
    } finally {
      await unmount(mountPoint)
    }
  })
})

function listen(onConnection: (socket: import('node:net').Socket) => void): Promise<Server> {
  return new Promise((resolve, reject) => {
    const server = createServer(onConnection)
    server.once('error', reject)
    server.listen(0, '127.0.0.1', () => resolve(server))
  })
}

/** Unmounts, waiting for the failed job's last file handles to close (the job fails before its tasks finish closing). */
async function unmount(mountPoint: string): Promise<void> {
  for (let attempt = 0; ; attempt++) {
    try {
      execFileSync('umount', [mountPoint], { stdio: 'pipe' })
      return
    } catch (error) {
      if (attempt >= 50) throw error
      await new Promise((resolve) => setTimeout(resolve, 20))
    }
  }
}

/** Whether this process may mount a tmpfs (root in a container that allows it). */
function canMountTmpfs(): boolean {
  if (process.platform !== 'linux' || process.getuid?.() !== 0) return false
  const probe = path.join(tmpdir(), `sluice-mount-probe-${process.pid}`)
  try {
    execFileSync('mkdir', ['-p', probe])
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=16k', 'tmpfs', probe], { stdio: 'ignore' })
    execFileSync('umount', [probe], { stdio: 'ignore' })
    return true
  } catch {
    return false
  } finally {
    execFileSync('rm', ['-rf', probe])
  }
}
