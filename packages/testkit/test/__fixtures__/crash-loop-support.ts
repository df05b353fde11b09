import { existsSync, readdirSync, statSync } from 'node:fs'
import { mkdtemp, readdir, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { afterEach, beforeAll, beforeEach } from 'vitest'

/*
 * What every crash-loop test of this package shares: the kill count and seed from the environment,
 * how much input keeps a job busy until the last kill, the built-testkit check, a temporary
 * directory per test, and the latency summary printed with the figures.
 */

const testkitRoot = fileURLToPath(new URL('../..', import.meta.url))

/** Kills per loop: `SLUICE_CRASH_KILLS`, 20 by default (CI); run with 100 locally for the notes. */
export const crashLoopKills = Number(process.env.SLUICE_CRASH_KILLS ?? 20)

/** The loop's seed: `SLUICE_CRASH_SEED`, or the test's own default, so a failing loop can be replayed. */
export function crashLoopSeed(fallback: number): number {
  return Number(process.env.SLUICE_CRASH_SEED ?? fallback)
}

/**
 * Records to generate so that the job cannot finish before the last kill: each killed run makes at
 * most about (delay + 200 ms of startup burst and timer slack) of progress at the job's rate; one more
 * second of input is left for the last run.
 */
export function recordCountFor(delays: number[], recordsPerSecond: number): number {
  const budgetMs = delays.reduce((sum, delay) => sum + delay + 200, 0) + 1000
  return Math.max(20_000, Math.ceil((budgetMs * recordsPerSecond) / 1000))
}

export function percentile(values: number[], fraction: number): number | undefined {
  if (values.length === 0) return undefined
  const sorted = [...values].sort((a, b) => a - b)
  return sorted[Math.min(sorted.length - 1, Math.ceil(fraction * sorted.length) - 1)]
}

/** Median, p95 and max of restart → first record times, for the printed figures. */
export function latencySummary(values: number[]): { median: number | undefined; p95: number | undefined; max: number | undefined } {
  return { median: percentile(values, 0.5), p95: percentile(values, 0.95), max: percentile(values, 1) }
}

/** Completed checkpoints left in a checkpoint directory. */
export async function checkpointsOnDisk(checkpointDirectory: string): Promise<number> {
  return (await readdir(checkpointDirectory)).filter((name) => name.startsWith('chk-')).length
}

/**
 * Registers the hooks of a crash-loop test file: the job scripts import '@sluice/testkit', i.e. this
 * package's dist, so it must be built (and a stale one is reported); each test gets a fresh temporary
 * directory, removed afterwards. Returns a getter for the current test's directory.
 */
export function useCrashLoopDirectory(prefix: string): () => string {
  let directory: string | undefined
  beforeAll(() => {
    const dist = path.join(testkitRoot, 'dist', 'index.js')
    if (!existsSync(dist)) {
      throw new Error(`${dist} is missing: the crash-loop job imports the built testkit; run 'pnpm build' (or 'npx tsup' in packages/testkit) first`)
    }
    const sources = path.join(testkitRoot, 'src')
    const newestSource = Math.max(
      ...readdirSync(sources)
        .filter((name) => name.endsWith('.ts') && !name.endsWith('.test.ts'))
        .map((name) => statSync(path.join(sources, name)).mtimeMs),
    )
    if (newestSource > statSync(dist).mtimeMs) {
      console.warn(`[testkit] ${dist} is older than src/: the crash-loop job runs the previous build; rebuild the testkit`)
    }
  })
  beforeEach(async () => {
    directory = await mkdtemp(path.join(tmpdir(), prefix))
  })
  afterEach(async () => {
    if (directory) await rm(directory, { recursive: true, force: true })
  })
  return () => {
    if (!directory) throw new Error('useCrashLoopDirectory: no test is running')
    return directory
  }
}
