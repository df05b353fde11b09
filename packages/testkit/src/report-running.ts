import { performance } from 'node:perf_hooks'
import type { JobHandle } from '@sluice/core'

/** The line a crash-loop job script prints once its job processes records: kills are timed from it. */
export const runningMarker = 'SLUICE_RUNNING'
/** Prefix of the line with the ms from process start to the first record of the job. */
export const firstRecordMarker = 'SLUICE_FIRST_RECORD_MS'

/** Options of {@link reportRunning}. */
export interface ReportRunningOptions {
  /** How often the job's metrics are polled, in ms. Default 5. */
  pollIntervalMs?: number
  /** Where the lines go. Default `process.stdout.write` (synchronous for a pipe on Linux, so the line is out before a kill). */
  write?: (line: string) => void
}

/**
 * For job scripts run by `runCrashLoop`: waits until the job's sources emitted their first record,
 * then prints
 * ```
 * SLUICE_FIRST_RECORD_MS <ms from process start to the first record>
 * SLUICE_RUNNING
 * ```
 * The harness starts its random kill delay at `SLUICE_RUNNING`, so kills land while the job does
 * work rather than while Node is still loading, and collects the first figure as the restart time.
 *
 * Call it right after `env.execute()`: the first-record time is this call's time since process start
 * plus the job's `timeToFirstRecordMs` (measured from `execute()`). Process start is
 * `performance.timeOrigin`, which Node sets early in its bootstrap, before any module loads.
 *
 * Resolves `true` once the lines are printed, or `false` if the job ended (or failed) first; it never
 * rejects, and stops polling either way.
 */
export function reportRunning(handle: Pick<JobHandle, 'metrics' | 'result'>, options: ReportRunningOptions = {}): Promise<boolean> {
  const calledAt = performance.now()
  const pollIntervalMs = options.pollIntervalMs ?? 5
  const write = options.write ?? ((line: string) => void process.stdout.write(line))
  return new Promise<boolean>((resolve) => {
    let done = false
    const finish = (printed: boolean): void => {
      if (done) return
      done = true
      clearInterval(timer)
      resolve(printed)
    }
    const poll = (): void => {
      const metrics = handle.metrics()
      if (metrics.recordsFromSources <= 0) return
      const sinceExecute = metrics.timeToFirstRecordMs ?? performance.now() - calledAt
      write(`${firstRecordMarker} ${Math.round(calledAt + sinceExecute)}\n${runningMarker}\n`)
      finish(true)
    }
    const timer = setInterval(poll, pollIntervalMs)
    handle.result.then(
      () => finish(false),
      () => finish(false),
    )
  })
}

/**
 * The whole tail of a job script run by `runCrashLoop`: {@link reportRunning}, then waits for the job
 * and exits the process — 0 when the job finished, 1 with the error's stack on stderr when it failed
 * (the harness shows that stderr in its `CrashLoopError`).
 *
 * ```ts
 * await runCrashLoopChild(env.execute('my-job'))
 * ```
 */
export async function runCrashLoopChild(handle: Pick<JobHandle, 'metrics' | 'result'>, options: ReportRunningOptions = {}): Promise<never> {
  void reportRunning(handle, options)
  try {
    await handle.result
    process.exit(0)
  } catch (error) {
    console.error(error instanceof Error && error.stack !== undefined ? error.stack : String(error))
    process.exit(1)
  }
}
