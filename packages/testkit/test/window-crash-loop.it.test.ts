import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { describe, expect, it } from 'vitest'
import { type CrashLoopReport, listInProgressFiles, planKillDelays, readCommittedRecords, runCrashLoop } from '../src/index.js'
import {
  checkpointsOnDisk,
  crashLoopKills,
  crashLoopSeed,
  latencySummary,
  recordCountFor,
  useCrashLoopDirectory,
} from './__fixtures__/crash-loop-support.js'

/**
 * Exactly-once window results under `kill -9`: the keyed tumbling event-time window count of
 * `__fixtures__/window-count-job.mjs` is killed at seeded random moments and restarted from its
 * checkpoints (window contents and pending timers are keyed state), and its committed output is
 * compared with the counts computed here.
 *
 * Knobs (environment): SLUICE_CRASH_KILLS (default 20), SLUICE_CRASH_SEED (default 20261126). A failed
 * run prints its seed; rerun with it to get the same kill delays.
 */

const jobScript = fileURLToPath(new URL('./__fixtures__/window-count-job.mjs', import.meta.url))
const RECORDS_PER_SECOND = 8000
const KEYS = 7
const WINDOW_MS = 1000

interface WindowCount {
  key: string
  start: number
  count: number
}

/** The count of every (key, window) of records 0..count-1: record `seq` is key `seq % 7` at time `seq`. */
function reference(count: number): Map<string, number> {
  const counts = new Map<string, number>()
  for (let seq = 0; seq < count; seq++) {
    const id = `key-${seq % KEYS}@${Math.floor(seq / WINDOW_MS) * WINDOW_MS}`
    counts.set(id, (counts.get(id) ?? 0) + 1)
  }
  return counts
}

interface Analysis {
  /** (key, window) pairs of the reference without a committed result. */
  lost: number
  /** Committed results beyond the first one of their (key, window). */
  duplicated: number
  /** (key, window) pairs whose committed count differs from the reference. */
  wrongCounts: string[]
  /** Committed results for a (key, window) the reference does not have. */
  unexpected: number
}

function analyse(records: WindowCount[], count: number): Analysis {
  const expected = reference(count)
  const seen = new Map<string, number[]>()
  let unexpected = 0
  for (const record of records) {
    const id = `${record.key}@${record.start}`
    if (!expected.has(id)) {
      unexpected++
      continue
    }
    seen.set(id, [...(seen.get(id) ?? []), record.count])
  }
  let lost = 0
  let duplicated = 0
  const wrongCounts: string[] = []
  for (const [id, n] of expected) {
    const counts = seen.get(id)
    if (counts === undefined) {
      lost++
      continue
    }
    duplicated += counts.length - 1
    if (counts.some((c) => c !== n)) wrongCounts.push(`${id}: expected ${n}, got ${counts.join(',')}`)
  }
  return { lost, duplicated, wrongCounts, unexpected }
}



const kills = crashLoopKills
const seed = crashLoopSeed(20261126)

const currentDirectory = useCrashLoopDirectory('sluice-window-crash-')

describe('crash loop: keyed tumbling event-time window count into a TransactionalFileSink under kill -9', () => {
  /**
   * Purpose: prove window results exactly-once end to end: checkpointed source positions, window
   * state with its pending timers, and two-phase commit lose and duplicate nothing when the process is
   * killed at any moment.
   * Method: run the job (datagen with per-split watermarks → keyBy → 1 s tumbling event-time window
   * count → TransactionalFileSink, parallelism 2, checkpoints every 100 ms) under runCrashLoop with
   * SLUICE_CRASH_KILLS kills (default 20) at seeded random delays of 100–1500 ms after the job runs;
   * then read the committed files.
   * Pass: every (key, window) of the input has exactly one committed result, with exactly the
   * reference count; no result for a window that does not exist.
   */
  it(
    'EXACTLY_ONCE: every window result exactly once, with exact counts',
    async () => {
      const delays = planKillDelays({ seed, kills })
      const directory = currentDirectory()
      const count = recordCountFor(delays, RECORDS_PER_SECOND)
      const outputDirectory = path.join(directory, 'out')
      const report: CrashLoopReport = await runCrashLoop({
        script: jobScript,
        env: {
          CHECKPOINT_DIR: path.join(directory, 'checkpoints'),
          OUTPUT_DIR: outputDirectory,
          COUNT: String(count),
          RECORDS_PER_SECOND: String(RECORDS_PER_SECOND),
        },
        kills,
        seed,
        timeoutMs: 120_000 + kills * 5_000,
      })
      expect(report).toMatchObject({ kills, runs: kills + 1, finalExitCode: 0 })
      const records = await readCommittedRecords<WindowCount>(outputDirectory)
      const analysis = analyse(records, count)
      expect(analysis).toEqual({ lost: 0, duplicated: 0, wrongCounts: [], unexpected: 0 })
      expect(records).toHaveLength(reference(count).size)
      console.log(
        JSON.stringify({
          test: 'window-exactly-once',
          seed: report.seed,
          kills: report.kills,
          runs: report.runs,
          records: count,
          windowResults: records.length,
          durationMs: report.durationMs,
          lost: analysis.lost,
          duplicated: analysis.duplicated,
          restartToFirstRecordMs: latencySummary(report.restartToFirstRecordMs),
          inProgressGarbageFiles: (await listInProgressFiles(outputDirectory)).length,
          checkpointsOnDisk: await checkpointsOnDisk(path.join(directory, 'checkpoints')),
        }),
      )
    },
    240_000 + kills * 10_000,
  )
})
