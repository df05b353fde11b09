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
 * Exactly-once interval-join results under `kill -9`: the keyed event-time interval join of
 * `__fixtures__/interval-join-job.mjs` (orders ⋈ payments, between(-2 ms, +1 ms)) is killed at seeded
 * random moments and restarted from its checkpoints (both sides' buffers are keyed state; their cleanup
 * times are rebuilt from the restored buffers), and its committed output is compared with the pairs
 * computed here by brute force.
 *
 * Knobs (environment): SLUICE_CRASH_KILLS (default 20), SLUICE_CRASH_SEED (default 20261126). A failed
 * run prints its seed; rerun with it to get the same kill delays.
 */

const jobScript = fileURLToPath(new URL('./__fixtures__/interval-join-job.mjs', import.meta.url))
const RECORDS_PER_SECOND = 8000
const KEYS = 7
const LOWER_BOUND_MS = -2
const UPPER_BOUND_MS = 1

/** A joined pair, named by the event times of its order and payment (unique per stream). */
interface JoinedPair {
  order: number
  payment: number
  id: string
}

/** Each stream has one record per event time t in [0, count); their ids differ in run length (4 and 3). */
const orderId = (t: number) => `id-${Math.floor(t / 4) % KEYS}`
const paymentId = (t: number) => `id-${Math.floor(t / 3) % KEYS}`
const pairId = (order: number, payment: number) => `${order}+${payment}`

/**
 * Every joined pair of orders and payments at event times 0..count-1, by brute force over the bounds:
 * order o joins payment p when their ids are equal and o - 2 <= p <= o + 1.
 */
function reference(count: number): Set<string> {
  const pairs = new Set<string>()
  for (let order = 0; order < count; order++) {
    for (let payment = order + LOWER_BOUND_MS; payment <= order + UPPER_BOUND_MS; payment++) {
      if (payment >= 0 && payment < count && orderId(order) === paymentId(payment)) pairs.add(pairId(order, payment))
    }
  }
  return pairs
}

interface Analysis {
  /** Pairs of the reference without a committed record. */
  lost: number
  /** Committed records beyond the first one of their pair. */
  duplicated: number
  /** Committed pairs the reference does not have, or whose id is not both sides' id. */
  unexpected: number
}

function analyse(records: JoinedPair[], expected: Set<string>): Analysis {
  const seen = new Map<string, number>()
  let unexpected = 0
  for (const record of records) {
    const id = pairId(record.order, record.payment)
    if (!expected.has(id) || record.id !== orderId(record.order) || record.id !== paymentId(record.payment)) {
      unexpected++
      continue
    }
    seen.set(id, (seen.get(id) ?? 0) + 1)
  }
  let lost = 0
  let duplicated = 0
  for (const id of expected) {
    const times = seen.get(id)
    if (times === undefined) lost++
    else duplicated += times - 1
  }
  return { lost, duplicated, unexpected }
}



const kills = crashLoopKills
const seed = crashLoopSeed(20261126)

const currentDirectory = useCrashLoopDirectory('sluice-join-crash-')

describe('crash loop: keyed event-time interval join into a TransactionalFileSink under kill -9', () => {
  /**
   * Purpose: prove interval-join results exactly-once end to end: checkpointed source positions of
   * both inputs, the join's buffered left and right elements (cleanup rebuilt on restore), and two-phase
   * commit lose and duplicate nothing when the process is killed at any moment.
   * Method: run the job (two datagen streams, orders and payments, whose two splits interleave their
   * event times so the watermark keeps up, with per-split watermarks → keyBy id
   * → interval join between(-2 ms, +1 ms) → TransactionalFileSink, parallelism 2, checkpoints every
   * 100 ms) under runCrashLoop with SLUICE_CRASH_KILLS kills (default 20) at seeded random delays of
   * 100–1500 ms after the job runs; then read the committed files.
   * Pass: every pair of the brute-force join is committed exactly once, and nothing else is committed.
   */
  it(
    'EXACTLY_ONCE: every joined pair exactly once, none lost, none extra',
    async () => {
      const delays = planKillDelays({ seed, kills })
      const directory = currentDirectory()
      const minimum = recordCountFor(delays, RECORDS_PER_SECOND)
      const count = minimum + (minimum % 2) // the job needs an even count: two splits of equal event-time ranges
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
      const records = await readCommittedRecords<JoinedPair>(outputDirectory)
      const expected = reference(count)
      const analysis = analyse(records, expected)
      expect(analysis).toEqual({ lost: 0, duplicated: 0, unexpected: 0 })
      expect(records).toHaveLength(expected.size)
      console.log(
        JSON.stringify({
          test: 'interval-join-exactly-once',
          seed: report.seed,
          kills: report.kills,
          runs: report.runs,
          recordsPerStream: count,
          joinedPairs: records.length,
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
