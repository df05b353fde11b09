import { createHash } from 'node:crypto'
import { mkdtemp, readFile, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { planKillDelays, runCrashLoop } from '@sluice/testkit'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { assertDistFresh, crashJobScript as jobScript, crashKills as kills, crashSeed as seed, median } from '../test/__fixtures__/crash-loop.js'
import { listOutputFiles } from '../test/__fixtures__/output-files.js'

/**
 * The row-format crash loop: `test/__fixtures__/file-sink-job.mjs` (datagen → line → FileSink, checkpoints
 * every 100 ms, parallelism 2, three buckets, rolling on size, rollover, inactivity and end of input) is
 * killed with SIGKILL `SLUICE_CRASH_KILLS` times (default 20) at seeded random moments and restarted
 * each time from its latest checkpoint, then let finish.
 *
 * The job script runs the package's built `dist` (it is a plain `.mjs`): build first
 * (`pnpm --filter @sluice/connector-filesink build`); the test refuses a `dist` older than `src`.
 * The Parquet loop is in `file-sink-parquet.crash.it.test.ts`.
 */

const checksumOf = (seq: number) => createHash('sha1').update(String(seq)).digest('hex').slice(0, 8)
const linePattern = /^(\d+),([0-9a-f]{8}),(x*)$/

let directory: string
beforeAll(async () => {
  directory = await mkdtemp(path.join(tmpdir(), 'sluice-filesink-crash-'))
  await assertDistFresh()
})
afterAll(async () => {
  if (directory) await rm(directory, { recursive: true, force: true })
})

describe('FileSink row format under kill -9', () => {
  /**
   * Purpose: exactly-once of the row format through process crashes at any moment (mid-write, mid-roll,
   * mid-checkpoint, mid-commit, mid-recovery).
   * Method: run the crash loop; then read every finished file under the base path.
   * Pass: every finished file ends with a line break and every line parses with the right checksum, in the
   * right bucket; the union of the lines holds every seq of the input exactly once (0 lost, 0 duplicated);
   * no hidden file (in-progress, pending or leftover) remains after the final commit.
   */
  it(`loses and duplicates nothing across ${kills} kills`, { timeout: 60_000 + kills * 15_000 }, async () => {
    const { largestFile } = await crashLoop('filesink-row-crash-loop', {})
    expect(largestFile).toBeLessThan(32 * 1024 + 64)
  })

  /**
   * Purpose: small-file compaction is exactly-once too: merged files are published by rename, their inputs
   * deleted only after, and a re-commit after a crash finishes the deletes.
   * Method: as above, with maxPartSize 4 KiB and compaction into files of up to 24 KiB.
   * Pass: as above (0 lost, 0 duplicated, no partial file, no hidden file left).
   */
  it(`compacts small files without losing or duplicating across ${kills} kills`, { timeout: 60_000 + kills * 15_000 }, async () => {
    const { largestFile } = await crashLoop('filesink-row-compaction-crash-loop', { MAX_PART_SIZE: '4096', COMPACTION_TARGET: String(24 * 1024) })
    // Without compaction no file passes 4 KiB by more than a line: larger ones are merged files.
    expect(largestFile).toBeGreaterThan(4096 + 64)
    expect(largestFile).toBeLessThanOrEqual(24 * 1024)
  })
})

async function crashLoop(name: string, extraEnv: Record<string, string>): Promise<{ largestFile: number }> {
  const rate = 20_000
  const delays = planKillDelays({ seed, kills, minDelayMs: 100, maxDelayMs: 1000 })
  // More input than the job can consume before the last kill, so every kill lands mid-job.
  const count = Math.ceil((rate * delays.reduce((a, b) => a + b, 0)) / 1000) + 2 * rate
  const outputDir = path.join(directory, name, 'out')
  const report = await runCrashLoop({
    script: jobScript,
    env: {
      CHECKPOINT_DIR: path.join(directory, name, 'checkpoints'),
      OUTPUT_DIR: outputDir,
      FORMAT: 'row',
      COUNT: String(count),
      RECORDS_PER_SECOND: String(rate),
      ...extraEnv,
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
  const seen = new Uint8Array(count)
  let duplicated = 0
  let lines = 0
  let largestFile = 0
  // Plain checks rather than an expect() per line: 10^5 lines and more.
  const problems: string[] = []
  for (const file of finished) {
    const text = await readFile(file, 'utf8')
    const bucket = path.basename(path.dirname(file))
    largestFile = Math.max(largestFile, Buffer.byteLength(text))
    if (!/^part-[01]-\d+$/.test(path.basename(file))) problems.push(`${file}: not a part file name`)
    if (text.length === 0) problems.push(`${file}: empty`)
    if (!text.endsWith('\n')) problems.push(`${file}: ends mid-line (partial file)`)
    for (const line of text.slice(0, -1).split('\n')) {
      const match = linePattern.exec(line)
      const seq = Number(match?.[1])
      if (!match || seq >= count || match[2] !== checksumOf(seq) || match[3] !== 'x'.repeat(seq % 17)) {
        problems.push(`${file}: bad line ${JSON.stringify(line)}`)
        continue
      }
      if (bucket !== `b${seq % 3}`) problems.push(`${file}: seq ${seq} in the wrong bucket`)
      if (seen[seq]) duplicated++
      seen[seq] = 1
      lines++
    }
  }
  expect(problems.slice(0, 20)).toEqual([])
  const lost = seen.reduce((missing, flag) => missing + (flag ? 0 : 1), 0)
  const figures = {
    test: name,
    kills: report.kills,
    runs: report.runs,
    records: count,
    lines,
    lost,
    duplicated,
    finishedFiles: finished.length,
    hiddenFilesLeft: hidden.length,
    largestFileBytes: largestFile,
    durationMs: report.durationMs,
    medianRestartToFirstRecordMs: median(report.restartToFirstRecordMs),
  }
  console.log(JSON.stringify(figures))
  expect({ lost, duplicated, lines }).toEqual({ lost: 0, duplicated: 0, lines: count })
  return { largestFile }
}
