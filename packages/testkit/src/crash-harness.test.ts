import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { ConfigError } from '@sluice/core'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { type CrashLoopEvent, type CrashLoopOptions, planKillDelays, runCrashLoop } from './crash-harness.js'
import { CrashLoopError } from './errors.js'

/** A script that speaks the harness protocol without running a Sluice job, so these tests take ms. */
const fakeJob = fileURLToPath(new URL('../test/__fixtures__/fake-job.mjs', import.meta.url))

let directory: string
beforeEach(async () => {
  directory = await mkdtemp(path.join(tmpdir(), 'sluice-crash-harness-'))
})
afterEach(async () => {
  await rm(directory, { recursive: true, force: true })
})

/** Options for the fake job doing `workMs` of work in all, with its progress in a fresh file. */
function fake(mode: 'work' | 'fail' | 'silent', overrides: Partial<CrashLoopOptions> = {}, workMs = 400): CrashLoopOptions {
  return {
    script: fakeJob,
    env: { FAKE_MODE: mode, FAKE_STATE: path.join(directory, `progress-${Math.random()}`), FAKE_WORK_MS: String(workMs) },
    kills: 3,
    seed: 7,
    minDelayMs: 20,
    maxDelayMs: 60,
    timeoutMs: 30_000,
    ...overrides,
  }
}

async function failureOf(promise: Promise<unknown>): Promise<CrashLoopError> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  )
  if (!CrashLoopError.isInstance(error)) throw new Error(`expected a CrashLoopError, got ${String(error)}`)
  return error
}

describe('runCrashLoop', () => {
  /**
   * Purpose: the loop kills exactly `kills` times, each after SLUICE_RUNNING, then lets the last run finish.
   * Method: the fake job needs 400 ms of work in all; kill it 3 times 20–60 ms after it runs.
   * Pass: 4 runs, 3 kills with the planned delays (in range), final exit code 0, one restart figure per restarted run,
   * and every kill event comes after that run's running event.
   */
  it('kills the given number of times, then lets the last run finish', async () => {
    const events: CrashLoopEvent[] = []
    const options = fake('work', { onEvent: (event) => events.push(event) })
    const report = await runCrashLoop(options)
    expect(report).toMatchObject({ seed: 7, kills: 3, runs: 4, finalExitCode: 0 })
    expect(report.killDelaysMs).toEqual(planKillDelays(options))
    for (const delay of report.killDelaysMs) expect(delay).toBeGreaterThanOrEqual(20)
    for (const delay of report.killDelaysMs) expect(delay).toBeLessThanOrEqual(60)
    expect(report.restartToFirstRecordMs).toHaveLength(3)
    expect(report.restartToRunningMs).toHaveLength(3)
    expect(events.filter((e) => e.type === 'start')).toHaveLength(4)
    for (let run = 1; run <= 3; run++) {
      const ofRun = events.filter((e) => e.run === run).map((e) => e.type)
      expect(ofRun.indexOf('kill')).toBeGreaterThan(ofRun.indexOf('running'))
      expect(events.find((e) => e.type === 'exit' && e.run === run)).toMatchObject({ signal: 'SIGKILL', killed: true })
    }
    expect(events.find((e) => e.type === 'exit' && e.run === 4)).toMatchObject({ exitCode: 0, killed: false })
  })

  /**
   * Purpose: a failing loop can be reproduced from its seed.
   * Method: plan the delays of seed 11 twice and of seed 12 once (planKillDelays runs nothing); the
   * first test checks that a real loop uses its plan.
   * Pass: the same seed gives the same delays, in range; another seed gives other delays.
   */
  it('draws the same kill delays from the same seed', () => {
    const options = { seed: 11, kills: 20, minDelayMs: 100, maxDelayMs: 1500 }
    const plan = planKillDelays(options)
    expect(plan).toHaveLength(20)
    expect(planKillDelays(options)).toEqual(plan)
    expect(planKillDelays({ ...options, seed: 12 })).not.toEqual(plan)
    for (const delay of plan) {
      expect(delay).toBeGreaterThanOrEqual(100)
      expect(delay).toBeLessThanOrEqual(1500)
    }
  })

  /**
   * Purpose: a job that fails by itself is a test failure, with the reason in view.
   * Method: the fake job writes to stderr and exits 3.
   * Pass: CrashLoopError with reason 'script-failed', the exit code and the stderr line in its message.
   */
  it('rejects with the stderr tail when the script exits non-zero by itself', async () => {
    const error = await failureOf(runCrashLoop(fake('fail')))
    expect(error.reason).toBe('script-failed')
    expect(error.run).toBe(1)
    expect(error.message).toContain('exited with code 3')
    expect(error.message).toContain('boom, the sink refused the record')
    expect(error.stderrTail).toContain('boom')
  })

  /**
   * Purpose: a loop must not pass with fewer kills than asked: that would prove less than it claims.
   * Method: the fake job needs 50 ms of work; kills are due 500 ms after it runs.
   * Pass: CrashLoopError with reason 'finished-too-early' naming 0 of 3 kills.
   */
  it('rejects when the job finishes before all kills landed', async () => {
    const error = await failureOf(runCrashLoop(fake('work', { minDelayMs: 500, maxDelayMs: 500 }, 50)))
    expect(error.reason).toBe('finished-too-early')
    expect(error.message).toContain('after 0 of 3 kills')
  })

  /**
   * Purpose: a hung job ends the loop instead of the test runner's timeout, and leaves no process behind.
   * Method: the fake job never prints SLUICE_RUNNING; timeoutMs is 500.
   * Pass: CrashLoopError with reason 'timeout', and the child's pid no longer exists.
   */
  it('kills the child and rejects after timeoutMs', async () => {
    let pid: number | undefined
    const options = fake('silent', {
      timeoutMs: 500,
      onEvent: (event) => {
        if (event.type === 'start') pid = event.pid
      },
    })
    const error = await failureOf(runCrashLoop(options))
    expect(error.reason).toBe('timeout')
    expect(pid).toBeTypeOf('number')
    expect(() => process.kill(pid as number, 0)).toThrow()
  })

  /**
   * Purpose: bad options fail before any process starts, naming the option.
   * Method: maxDelayMs below minDelayMs; a missing script.
   * Pass: ConfigError with the option path.
   */
  it('validates its options before starting anything', async () => {
    await expect(runCrashLoop(fake('work', { minDelayMs: 100, maxDelayMs: 50 }))).rejects.toSatisfy(
      (error) => ConfigError.isInstance(error) && (error as ConfigError).path === 'crashLoop.maxDelayMs',
    )
    await expect(runCrashLoop(fake('work', { script: path.join(directory, 'missing.mjs') }))).rejects.toSatisfy(
      (error) => ConfigError.isInstance(error) && (error as ConfigError).path === 'crashLoop.script',
    )
  })
})
