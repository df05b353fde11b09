/**
 * What the crash-loop tests (`src/*.crash.it.test.ts`) share: the job script they kill, the loop's
 * settings from the environment, and the check that the built `dist` the script runs is current.
 */
import { readdir, stat } from 'node:fs/promises'
import path from 'node:path'
import { fileURLToPath } from 'node:url'

/**
 * The job script (`file-sink-job.mjs`) runs the package's built `dist` (it is a plain `.mjs`).
 * `SLUICE_CRASH_JOB_SCRIPT` runs a copy of it instead, e.g. beside a frozen copy of the built packages
 * while someone else rebuilds them.
 */
export const crashJobScript = process.env.SLUICE_CRASH_JOB_SCRIPT ?? fileURLToPath(new URL('./file-sink-job.mjs', import.meta.url))

/** Kills per loop: `SLUICE_CRASH_KILLS`, default 20 (CI); 100 for the figures in the README. */
export const crashKills = Number(process.env.SLUICE_CRASH_KILLS ?? 20)

/** Seed of the kill delays: `SLUICE_CRASH_SEED`, default 4. The same seed kills at the same moments. */
export const crashSeed = Number(process.env.SLUICE_CRASH_SEED ?? 4)

const packageRoot = fileURLToPath(new URL('../..', import.meta.url))

/**
 * The job script imports the built package: make sure `dist` is not older than `src`. Skipped when
 * `SLUICE_CRASH_JOB_SCRIPT` names another script (its own copy of the build).
 */
export async function assertDistFresh(): Promise<void> {
  if (process.env.SLUICE_CRASH_JOB_SCRIPT !== undefined) return
  const dist = path.join(packageRoot, 'dist', 'index.js')
  const builtAt = await stat(dist).then(
    (s) => s.mtimeMs,
    () => 0,
  )
  const sources = (await readdir(path.join(packageRoot, 'src'), { recursive: true })).filter((f) => f.endsWith('.ts') && !f.endsWith('.test.ts') && !f.includes('__fixtures__'))
  const newest = Math.max(...(await Promise.all(sources.map((f) => stat(path.join(packageRoot, 'src', f)).then((s) => s.mtimeMs)))))
  if (builtAt < newest) {
    throw new Error(`${dist} is missing or older than src/: run \`pnpm --filter @sluice/connector-filesink build\` before the crash-loop tests`)
  }
}

export function median(values: number[]): number | undefined {
  if (values.length === 0) return undefined
  const sorted = [...values].sort((a, b) => a - b)
  return sorted[Math.floor(sorted.length / 2)]
}
