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
 * Exactly-once broadcast state under `kill -9`: the keyed broadcast enrichment of
 * `__fixtures__/broadcast-enrich-job.mjs` (events keyed by `key-(seq % 7)`, connected with a stream of
 * rule updates broadcast into two MapStateDescriptors, a keyed running count) is killed at seeded random
 * moments and restarted from its checkpoints, at the same parallelism and, in the second test, at
 * parallelism 2 → 3 → 1 → 2 ...; its committed output is checked record by record.
 *
 * Rule update u sets `rule-(u % 5)` to version floor(u / 5) + 1, so the broadcast state after `applied`
 * updates is a pure function of `applied`, and every record says which `applied` it saw: the check is
 * exact whatever the interleaving of the two inputs.
 *
 * Knobs (environment): SLUICE_CRASH_KILLS (default 20; the rescale loop does half as many, at least 6),
 * SLUICE_CRASH_SEED (default 20261128). A failed run prints its seed; rerun with it to get the same
 * kill delays.
 */

const jobScript = fileURLToPath(new URL('./__fixtures__/broadcast-enrich-job.mjs', import.meta.url))
const RECORDS_PER_SECOND = 8000
const RULES_PER_SECOND = 200
const KEYS = 7
const RULES = 5

type Versions = number[]

interface EventRecord {
  type: 'event'
  seq: number
  key: string
  count: number
  applied: number
  versions: Versions
  run: number
  subtask: number
  parallelism: number
}
interface FinalRecord {
  type: 'final'
  key: string
  count: number
  applied: number
  versions: Versions
  run: number
  subtask: number
  parallelism: number
}
interface ResumeRecord {
  type: 'resume'
  run: number
  attempt: number
  subtask: number
  parallelism: number
  applied: number
  /** The rule update that was the subtask's first record in the run, or null for an event. */
  update: number | null
}
interface GapRecord {
  type: 'gap'
  run: number
  subtask: number
  expected: number
  got: number
}
type OutputRecord = EventRecord | FinalRecord | ResumeRecord | GapRecord

/** The version of each rule after updates 0..applied-1 (0: never set): rule r is set by u = r, r + 5, ... */
function expectedVersions(applied: number): Versions {
  return Array.from({ length: RULES }, (_, rule) => (applied > rule ? Math.floor((applied - 1 - rule) / RULES) + 1 : 0))
}

const sameVersions = (a: Versions, b: Versions) => a.length === b.length && a.every((v, i) => v === b[i])

/** Events of each key among 0..count-1. */
function eventsPerKey(count: number): Map<string, number> {
  const perKey = new Map<string, number>()
  for (let k = 0; k < KEYS; k++) perKey.set(`key-${k}`, Math.floor(count / KEYS) + (k < count % KEYS ? 1 : 0))
  return perKey
}

interface Analysis {
  /** Events of the input without a committed record. */
  lost: number
  /** Committed event records beyond the first one of their seq. */
  duplicated: number
  /** Event records for a seq outside the input, or with the wrong key. */
  unexpected: number
  /** Keys whose running counts are not exactly 1..n (n: the key's events), with the first few differences. */
  wrongCounts: string[]
  /** Event and final records whose versions are not the broadcast state after `applied` updates. */
  inconsistentEnrichment: number
  /** Per key, in running-count order: records that saw fewer broadcast updates than the record before. */
  broadcastRegressions: number
  /** Rule updates that reached a subtask whose broadcast state expected another one (state lost or replayed). */
  gaps: number
  /** Keys without exactly one final record with the key's total count and the state after all updates. */
  wrongFinals: string[]
  /** Runs (and in-process attempts) whose subtasks resumed their broadcast state at different progress. */
  restoreDisagreements: string[]
  /** Records of a run at another parallelism than the run was started with. */
  wrongParallelism: number
  /** Committed resume records with 0 < applied < ruleUpdates: restores of a non-empty, still growing broadcast state. */
  restoredMidStream: number
  /** Parallelisms of the runs that restored a non-empty broadcast state (committed resume records). */
  restoredAtParallelism: number[]
}

function analyse(records: OutputRecord[], count: number, ruleUpdates: number, parallelismOfRun: (run: number) => number): Analysis {
  const perKey = eventsPerKey(count)
  const timesSeen = new Uint32Array(count)
  let unexpected = 0
  let inconsistentEnrichment = 0
  let wrongParallelism = 0
  let gaps = 0
  const byKey = new Map<string, EventRecord[]>()
  const finals = new Map<string, FinalRecord[]>()
  const resumes = new Map<string, Set<number>>()
  let restoredMidStream = 0
  const restoredAtParallelism = new Set<number>()
  for (const record of records) {
    if (record.type !== 'gap' && record.parallelism !== parallelismOfRun(record.run)) wrongParallelism++
    switch (record.type) {
      case 'event': {
        if (!Number.isInteger(record.seq) || record.seq < 0 || record.seq >= count || record.key !== `key-${record.seq % KEYS}`) {
          unexpected++
          continue
        }
        timesSeen[record.seq] = (timesSeen[record.seq] ?? 0) + 1
        if (!sameVersions(record.versions, expectedVersions(record.applied))) inconsistentEnrichment++
        const events = byKey.get(record.key)
        if (events === undefined) byKey.set(record.key, [record])
        else events.push(record)
        break
      }
      case 'final':
        if (!sameVersions(record.versions, expectedVersions(record.applied))) inconsistentEnrichment++
        finals.set(record.key, [...(finals.get(record.key) ?? []), record]) // a handful
        break
      case 'resume': {
        const id = `run ${record.run} attempt ${record.attempt}`
        resumes.set(id, (resumes.get(id) ?? new Set()).add(record.applied))
        if (record.applied > 0) restoredAtParallelism.add(record.parallelism)
        if (record.applied > 0 && record.applied < ruleUpdates) restoredMidStream++
        break
      }
      case 'gap':
        gaps++
        break
    }
  }
  let lost = 0
  let duplicated = 0
  for (const times of timesSeen) {
    if (times === 0) lost++
    else duplicated += times - 1
  }
  const wrongCounts: string[] = []
  let broadcastRegressions = 0
  for (const [key, n] of perKey) {
    const events = (byKey.get(key) ?? []).sort((a, b) => a.count - b.count)
    const counts = events.map((e) => e.count)
    if (counts.length !== n || counts.some((c, i) => c !== i + 1)) {
      const at = counts.findIndex((c, i) => c !== i + 1)
      wrongCounts.push(`${key}: ${counts.length} records for ${n} events, first count out of place at position ${at}: ${counts[at]}`)
    }
    events.reduce((previous, event) => {
      if (event.applied < previous) broadcastRegressions++
      return event.applied
    }, 0)
  }
  const wrongFinals: string[] = []
  const full = expectedVersions(ruleUpdates)
  for (const [key, n] of perKey) {
    const got = finals.get(key) ?? []
    const only = got.length === 1 ? got[0] : undefined
    if (only === undefined || only.count !== n || only.applied !== ruleUpdates || !sameVersions(only.versions, full)) {
      wrongFinals.push(`${key}: expected one final { count: ${n}, applied: ${ruleUpdates} }, got ${JSON.stringify(got)}`)
    }
  }
  const restoreDisagreements = [...resumes]
    .filter(([, applied]) => applied.size > 1)
    .map(([id, applied]) => `${id}: subtasks resumed at ${[...applied].join(', ')} updates`)
  return {
    lost,
    duplicated,
    unexpected,
    wrongCounts,
    inconsistentEnrichment,
    broadcastRegressions,
    gaps,
    wrongFinals,
    restoreDisagreements,
    wrongParallelism,
    restoredMidStream,
    restoredAtParallelism: [...restoredAtParallelism].sort((a, b) => a - b),
  }
}

/** What a correct run must show, whatever the timing. */
const exactlyOnce = {
  lost: 0,
  duplicated: 0,
  unexpected: 0,
  wrongCounts: [],
  inconsistentEnrichment: 0,
  broadcastRegressions: 0,
  gaps: 0,
  wrongFinals: [],
  restoreDisagreements: [],
  wrongParallelism: 0,
}

interface LoopResult {
  report: CrashLoopReport
  analysis: Analysis
  count: number
  ruleUpdates: number
  committedRecords: number
  inProgressGarbageFiles: number
  checkpointsOnDisk: number
}

/** Runs the loop with `parallelismByRun` (cycled over the runs) and analyses the committed output. */
async function runLoop(options: { directory: string; kills: number; seed: number; parallelismByRun: number[]; env?: Record<string, string> }): Promise<LoopResult> {
  const { directory, kills, seed, parallelismByRun } = options
  const count = recordCountFor(planKillDelays({ seed, kills }), RECORDS_PER_SECOND)
  // Rule updates for about 60% of the events' time: kills land both while the broadcast state grows
  // and after it is complete.
  const ruleUpdates = Math.max(100, Math.floor((count / RECORDS_PER_SECOND) * RULES_PER_SECOND * 0.6))
  const outputDirectory = path.join(directory, 'out')
  const checkpointDirectory = path.join(directory, 'checkpoints')
  const report = await runCrashLoop({
    script: jobScript,
    env: {
      CHECKPOINT_DIR: checkpointDirectory,
      OUTPUT_DIR: outputDirectory,
      COUNT: String(count),
      RULE_UPDATES: String(ruleUpdates),
      RECORDS_PER_SECOND: String(RECORDS_PER_SECOND),
      RULES_PER_SECOND: String(RULES_PER_SECOND),
      PARALLELISM_BY_RUN: parallelismByRun.join(','),
      ...options.env,
    },
    kills,
    seed,
    timeoutMs: 120_000 + kills * 5_000,
  })
  expect(report).toMatchObject({ kills, runs: kills + 1, finalExitCode: 0 })
  const records = await readCommittedRecords<OutputRecord>(outputDirectory)
  const parallelismOfRun = (run: number) => parallelismByRun[(run - 1) % parallelismByRun.length] as number
  return {
    report,
    analysis: analyse(records, count, ruleUpdates, parallelismOfRun),
    count,
    ruleUpdates,
    committedRecords: records.length,
    inProgressGarbageFiles: (await listInProgressFiles(outputDirectory)).length,
    checkpointsOnDisk: await checkpointsOnDisk(checkpointDirectory),
  }
}

function summary(test: string, parallelismByRun: number[], result: LoopResult): string {
  const { report, analysis } = result
  return JSON.stringify({
    test,
    seed: report.seed,
    kills: report.kills,
    runs: report.runs,
    parallelismByRun: parallelismByRun.join(','),
    records: result.count,
    ruleUpdates: result.ruleUpdates,
    committedRecords: result.committedRecords,
    durationMs: report.durationMs,
    lost: analysis.lost,
    duplicated: analysis.duplicated,
    gaps: analysis.gaps,
    broadcastRegressions: analysis.broadcastRegressions,
    inconsistentEnrichment: analysis.inconsistentEnrichment,
    wrongFinals: analysis.wrongFinals.length,
    restoredMidStream: analysis.restoredMidStream,
    restoredAtParallelism: analysis.restoredAtParallelism,
    restartToFirstRecordMs: latencySummary(report.restartToFirstRecordMs),
    inProgressGarbageFiles: result.inProgressGarbageFiles,
    checkpointsOnDisk: result.checkpointsOnDisk,
  })
}

const kills = crashLoopKills
const rescaleKills = Math.max(6, Math.ceil(kills / 2))
const seed = crashLoopSeed(20261128)

const currentDirectory = useCrashLoopDirectory('sluice-broadcast-crash-')

describe('crash loop: keyed broadcast enrichment into a TransactionalFileSink under kill -9', () => {
  /**
   * Purpose: prove broadcast state exactly-once end to end: each subtask's copy of the broadcast state
   * is checkpointed with the rule source's position and restored after a kill, next to keyed state,
   * source positions and two-phase commit.
   * Method: run the job (rule updates at 200/s, parallelism 1, broadcast into two map states, connected
   * with 8000 events/s keyed by 7 keys → KeyedBroadcastProcessFunction with a running count →
   * TransactionalFileSink, parallelism 2, checkpoints every 100 ms) under runCrashLoop with
   * SLUICE_CRASH_KILLS kills (default 20) at seeded random delays of 100–1500 ms after the job runs.
   * Pass: every event exactly once, running counts exactly 1..n per key; every record's versions are the
   * state after the `applied` updates it reports; per key, `applied` never goes back; no rule update
   * reaches a state that expected another (a reset state would expect update 0); all subtasks of a run
   * resume at the same progress; each key's final record (end of input) sees all updates; and some kill
   * landed while the broadcast state was non-empty and still growing, so the restore was exercised.
   */
  it(
    'EXACTLY_ONCE at parallelism 2: every event once, broadcast state restored, never reset',
    async () => {
      const parallelismByRun = [2]
      const result = await runLoop({ directory: currentDirectory(), kills, seed, parallelismByRun })
      console.log(summary('broadcast-exactly-once', parallelismByRun, result))
      expect(result.analysis).toMatchObject(exactlyOnce)
      expect(result.analysis.restoredMidStream).toBeGreaterThan(0)
    },
    240_000 + kills * 10_000,
  )

  /**
   * Purpose: prove broadcast state survives restores at another parallelism: every new subtask gets a
   * whole copy, equal to the others, and the keyed count moves with its key groups.
   * Method: as above, but run r starts at parallelism 2, 3, 1, 2, 3, 1, ... (entry (r - 1) mod 3), so every
   * restart restores the previous run's checkpoint at another parallelism (2 → 3 → 1 → 2); half the kills
   * (at least 6), seed SLUICE_CRASH_SEED + 1.
   * Pass: as above; in addition every record comes from a subtask of its run's parallelism, the subtasks
   * of each run resumed at the same number of updates, and non-empty broadcast state was restored at
   * parallelism 3 and at parallelism 1.
   */
  it(
    'EXACTLY_ONCE restored at parallelism 2 → 3 → 1 → 2 ...: broadcast state identical on every subtask',
    async () => {
      const parallelismByRun = [2, 3, 1]
      const result = await runLoop({ directory: currentDirectory(), kills: rescaleKills, seed: seed + 1, parallelismByRun })
      console.log(summary('broadcast-rescale-exactly-once', parallelismByRun, result))
      expect(result.analysis).toMatchObject(exactlyOnce)
      expect(result.analysis.restoredAtParallelism).toEqual(expect.arrayContaining([1, 3]))
    },
    240_000 + rescaleKills * 10_000,
  )

  /**
   * Purpose: show that the checks above fail a runtime that loses broadcast state on restore (a loop
   * that passes every job proves nothing).
   * Method: the same job with FORGET_BROADCAST_STATE=1: after each restart the function reads broadcast
   * state as empty until its first rule update, which clears it, which is what a runtime that does not
   * restore broadcast state would do. 3 kills, seed SLUICE_CRASH_SEED + 2.
   * Pass: events are still exactly once (keyed state and the sink are untouched), but rule updates reach
   * a state that expected update 0 (gaps) and keys see fewer updates after a restart than before it.
   */
  it(
    'negative control: a job that forgets broadcast state on restore fails the checks',
    async () => {
      const parallelismByRun = [2]
      const result = await runLoop({ directory: currentDirectory(), kills: 3, seed: seed + 2, parallelismByRun, env: { FORGET_BROADCAST_STATE: '1' } })
      console.log(summary('broadcast-negative-control', parallelismByRun, result))
      const { analysis } = result
      expect(analysis).toMatchObject({ lost: 0, duplicated: 0, unexpected: 0, wrongCounts: [] })
      expect(analysis.gaps).toBeGreaterThan(0)
      expect(analysis.broadcastRegressions).toBeGreaterThan(0)
    },
    120_000,
  )
})
