import type { JobHandle, JobMetrics } from '@sluice/core'
import { afterEach, describe, expect, it, vi } from 'vitest'
import { reportRunning, runCrashLoopChild } from './report-running.js'

/** A handle whose metrics and result the test drives. */
function fakeHandle() {
  let settle!: () => void
  const metrics: { recordsFromSources: number; timeToFirstRecordMs: number | undefined } = {
    recordsFromSources: 0,
    timeToFirstRecordMs: undefined,
  }
  const handle: Pick<JobHandle, 'metrics' | 'result'> = {
    metrics: () => metrics as unknown as JobMetrics,
    result: new Promise((resolve) => {
      settle = () => resolve({} as never)
    }),
  }
  return { handle, metrics, settle: () => settle() }
}

describe('reportRunning', () => {
  /**
   * Purpose: the script tells the harness it is running only once records flow, with its first-record time.
   * Method: a fake handle whose sources emit their first record 30 ms in (timeToFirstRecordMs 30).
   * Pass: nothing is printed before; then exactly `SLUICE_FIRST_RECORD_MS <n>` and `SLUICE_RUNNING`,
   * with n at least 30 (process start is before the call), and the promise resolves true.
   */
  it('prints the first-record time and SLUICE_RUNNING once records flow', async () => {
    const { handle, metrics } = fakeHandle()
    const lines: string[] = []
    const done = reportRunning(handle, { write: (text) => lines.push(text), pollIntervalMs: 1 })
    await new Promise((resolve) => setTimeout(resolve, 20))
    expect(lines).toEqual([])
    metrics.recordsFromSources = 5
    metrics.timeToFirstRecordMs = 30
    expect(await done).toBe(true)
    expect(lines).toHaveLength(1)
    const [first, running, rest] = (lines[0] as string).split('\n')
    expect(first).toMatch(/^SLUICE_FIRST_RECORD_MS \d+$/)
    expect(Number(first?.split(' ')[1])).toBeGreaterThanOrEqual(30)
    expect(running).toBe('SLUICE_RUNNING')
    expect(rest).toBe('')
  })

  /**
   * Purpose: a job that ends before any record flowed does not claim to be running, and polling stops.
   * Method: settle the job's result while recordsFromSources is 0.
   * Pass: the promise resolves false and nothing was printed.
   */
  it('resolves false without printing when the job ends first', async () => {
    const { handle, settle } = fakeHandle()
    const lines: string[] = []
    const done = reportRunning(handle, { write: (text) => lines.push(text), pollIntervalMs: 1 })
    settle()
    expect(await done).toBe(false)
    expect(lines).toEqual([])
  })
})

describe('runCrashLoopChild', () => {
  afterEach(() => {
    vi.restoreAllMocks()
  })

  /**
   * Purpose: a job script's tail: exit 0 when the job finished, 1 with the stack on stderr when it failed.
   * Method: process.exit and console.error spied on; fake handles that resolve and reject.
   * Pass: exit(0) and nothing on stderr; exit(1) with the error's stack.
   */
  it('exits 0 when the job finishes and 1 with the stack when it fails', async () => {
    const exit = vi.spyOn(process, 'exit').mockImplementation((() => undefined) as never)
    const stderr = vi.spyOn(console, 'error').mockImplementation(() => {})
    const silent = { write: () => {} }
    const finished = fakeHandle()
    finished.settle()
    await runCrashLoopChild(finished.handle, silent)
    expect(exit.mock.calls).toEqual([[0]])
    expect(stderr).not.toHaveBeenCalled()

    const failure = new Error('sink exploded')
    const failed: Pick<JobHandle, 'metrics' | 'result'> = { metrics: finished.handle.metrics, result: Promise.reject(failure) }
    await runCrashLoopChild(failed, silent)
    expect(exit.mock.calls).toEqual([[0], [1]])
    expect(stderr.mock.calls).toEqual([[failure.stack]])
  })
})
