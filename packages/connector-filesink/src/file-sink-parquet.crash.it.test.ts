import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { planKillDelays, runCrashLoop } from '@sluice/testkit'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { assertDistFresh, crashJobScript, crashKills as kills, crashSeed as seed, median } from '../test/__fixtures__/crash-loop.js'
import { listOutputFiles } from '../test/__fixtures__/output-files.js'
import { type OrderItem, orderItemOf, seedGoods, seqOfOrderItem, unknownGoodsId } from '../test/__fixtures__/seed-orders.js'
import { queryDuckDB } from './bulk/__fixtures__/parquet-readers.js'

/**
 * The Parquet crash loop: `test/__fixtures__/file-sink-job.mjs` with `FORMAT=parquet` — datagen (bounded)
 * of the seed's order records → `FileSink.forBulkFormat(parquetBulkFormat({ avroSchema }))` with the
 * schema `forReflectRecord(OrderItem.class)` derives, default writer and codec, buckets
 * `goodsId=<goodsId>`, rolling on every checkpoint, checkpoints every 100 ms, parallelism 2 — is
 * killed with SIGKILL `SLUICE_CRASH_KILLS` times (default 20) at seeded random moments (100–1000 ms
 * after it runs), restarted each time from its latest checkpoint, then let finish.
 *
 * The job script runs the package's built `dist`: build first (`pnpm --filter @sluice/connector-filesink
 * build`); the test refuses a `dist` older than `src`. The row-format loops are in `file-sink.crash.it.test.ts`.
 */

const goodsIds = new Set<string>([...seedGoods.map((good) => good.goodsId), unknownGoodsId])

let directory: string
beforeAll(async () => {
  directory = await mkdtemp(path.join(tmpdir(), 'sluice-filesink-parquet-crash-'))
  await assertDistFresh()
})
afterAll(async () => {
  if (directory) await rm(directory, { recursive: true, force: true })
})

describe('FileSink Parquet bulk format under kill -9', () => {
  /**
   * Purpose: exactly-once of a bulk format through process crashes at any moment (mid-row-group,
   * mid-footer, between roll and checkpoint, mid-commit, mid-recovery): a bulk part file is never
   * resumed, so every crash must leave its unfinished files hidden and the source must replay them.
   * Method: run the crash loop; then list the base path and read every finished file with DuckDB (an
   * independent Parquet reader), all files in one query and each file on its own if that query fails.
   * Pass: every finished file is named `part-<subtask>-<n>.parquet`, is readable and holds at least one
   * row; each row is exactly the input record it claims to be (item id, goodsId and count), in its
   * goodsId bucket; the union of the rows holds every input record exactly once (0 lost, 0 duplicated);
   * no hidden file (in-progress, pending or leftover) remains after the final commit.
   */
  it(`loses and duplicates nothing across ${kills} kills`, { timeout: 60_000 + kills * 15_000 }, async () => {
    const name = 'filesink-parquet-crash-loop'
    const rate = 20_000
    const delays = planKillDelays({ seed, kills, minDelayMs: 100, maxDelayMs: 1000 })
    // More input than the job can consume before the last kill, so every kill lands mid-job.
    const count = Math.ceil((rate * delays.reduce((a, b) => a + b, 0)) / 1000) + 2 * rate
    const outputDir = path.join(directory, name, 'out')
    const report = await runCrashLoop({
      script: crashJobScript,
      env: {
        CHECKPOINT_DIR: path.join(directory, name, 'checkpoints'),
        OUTPUT_DIR: outputDir,
        FORMAT: 'parquet',
        COUNT: String(count),
        RECORDS_PER_SECOND: String(rate),
        CHECKPOINT_INTERVAL_MS: '100',
      },
      kills,
      seed,
      minDelayMs: 100,
      maxDelayMs: 1000,
      timeoutMs: 60_000 + kills * 15_000,
    })
    expect(report.kills).toBe(kills)
    expect(report.finalExitCode).toBe(0)

    const { finished, hidden } = await listOutputFiles(outputDir)
    expect(hidden).toEqual([])
    const problems: string[] = []
    for (const file of finished) {
      if (!/^part-[01]-\d+\.parquet$/.test(path.basename(file))) problems.push(`${file}: not a part file name`)
      const bucket = path.basename(path.dirname(file))
      if (!bucket.startsWith('goodsId=') || !goodsIds.has(bucket.slice('goodsId='.length))) problems.push(`${file}: not in a goodsId bucket`)
    }

    const readStarted = performance.now()
    const rows = await readAll(finished, problems)
    const readMs = Math.round(performance.now() - readStarted)

    // Plain checks rather than an expect() per row: 10^5 rows and more.
    const seen = new Uint8Array(count)
    const rowsPerFile = new Map<string, number>()
    let duplicated = 0
    for (const [file, itemId, goodsId, itemCount] of rows) {
      rowsPerFile.set(file, (rowsPerFile.get(file) ?? 0) + 1)
      const item: OrderItem = { itemId, goodsId, count: itemCount }
      const seq = seqOfOrderItem(item)
      const expected = Number.isSafeInteger(seq) && seq >= 0 && seq < count ? orderItemOf(seq) : undefined
      if (expected === undefined || expected.itemId !== itemId || expected.goodsId !== goodsId || expected.count !== itemCount) {
        problems.push(`${file}: row ${JSON.stringify(item)} is no input record`)
        continue
      }
      if (path.basename(path.dirname(file)) !== `goodsId=${goodsId}`) problems.push(`${file}: seq ${seq} in the wrong bucket`)
      if (seen[seq]) duplicated++
      seen[seq] = 1
    }
    for (const file of finished) if (!rowsPerFile.has(file)) problems.push(`${file}: no rows`)
    expect(problems.slice(0, 20)).toEqual([])

    const lost = seen.reduce((missing, flag) => missing + (flag ? 0 : 1), 0)
    const figures = {
      test: name,
      kills: report.kills,
      runs: report.runs,
      records: count,
      rows: rows.length,
      lost,
      duplicated,
      finishedFiles: finished.length,
      hiddenFilesLeft: hidden.length,
      durationMs: report.durationMs,
      readBackMs: readMs,
      medianRestartToFirstRecordMs: median(report.restartToFirstRecordMs),
    }
    console.log(JSON.stringify(figures))
    expect({ lost, duplicated, rows: rows.length }).toEqual({ lost: 0, duplicated: 0, rows: count })
  })
})

type Row = [file: string, itemId: string, goodsId: string, count: number]

const sqlString = (text: string): string => `'${text.replaceAll("'", "''")}'`

/**
 * Every row of the finished files, with DuckDB: one query over all files. If it fails (a file is
 * unreadable), each file is read on its own so the problems name the files at fault. Hive partitioning
 * is off: DuckDB would otherwise take `goodsId` from the `goodsId=<id>` directory names, not the files.
 */
async function readAll(files: string[], problems: string[]): Promise<Row[]> {
  if (files.length === 0) return []
  const query = (list: string[]) =>
    queryDuckDB(`select filename, "itemId", "goodsId", "count" from read_parquet([${list.map(sqlString).join(', ')}], filename = true, hive_partitioning = false)`) as Promise<Row[]>
  try {
    return await query(files)
  } catch {
    const rows: Row[] = []
    for (const file of files) {
      try {
        rows.push(...(await query([file])))
      } catch (error) {
        problems.push(`${file}: unreadable: ${(error as Error).message.split('\n')[0]}`)
      }
    }
    return rows
  }
}
