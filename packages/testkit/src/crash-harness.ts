import { type ChildProcess, spawn } from 'node:child_process'
import { existsSync } from 'node:fs'
import path from 'node:path'
import { performance } from 'node:perf_hooks'
import { createInterface } from 'node:readline'
import { ConfigError, seededRandom } from '@sluice/core'
import { CrashLoopError } from './errors.js'
import { firstRecordMarker, runningMarker } from './report-running.js'

/** Options of {@link runCrashLoop}. */
export interface CrashLoopOptions {
  /** Path of the job script (a plain `.mjs` file) run with `node`. */
  script: string
  /** Arguments after the script path. */
  args?: string[]
  /** Environment of every run, on top of this process's environment (e.g. `CHECKPOINT_DIR`). */
  env?: Record<string, string>
  /** Kills to do before the last run is let finish. An integer ≥ 0. */
  kills: number
  /** Seed of the kill delays: the same seed gives the same delays, so a failing loop can be rerun. */
  seed: number
  /** Shortest delay between `SLUICE_RUNNING` and the kill, in ms. Default 100. */
  minDelayMs?: number
  /** Longest delay between `SLUICE_RUNNING` and the kill, in ms. Default 1500. */
  maxDelayMs?: number
  /** The whole loop fails (and the running child is killed) after this many ms. Default 600 000. */
  timeoutMs?: number
  /** When to kill: `random-time`, a uniform delay in `[minDelayMs, maxDelayMs]` after `SLUICE_RUNNING`. */
  killWhen?: 'random-time'
  /** Called on every step of the loop, e.g. to log it. Must not throw. */
  onEvent?: (event: CrashLoopEvent) => void
}

/** One step of a crash loop. `run` is the 1-based number of the child process. */
export type CrashLoopEvent =
  | { readonly type: 'start'; readonly run: number; readonly pid: number | undefined; readonly elapsedMs: number }
  /** The child printed `SLUICE_RUNNING`; `startupMs` is measured by the harness from spawn. */
  | { readonly type: 'running'; readonly run: number; readonly startupMs: number; readonly firstRecordMs: number | undefined }
  | { readonly type: 'kill'; readonly run: number; readonly kill: number; readonly delayMs: number }
  | {
      readonly type: 'exit'
      readonly run: number
      readonly exitCode: number | null
      readonly signal: NodeJS.Signals | null
      /** True when the harness killed it. */
      readonly killed: boolean
      readonly uptimeMs: number
    }
  | { readonly type: 'output'; readonly run: number; readonly stream: 'stdout' | 'stderr'; readonly line: string }

/** What a crash loop did; every figure comes from this loop's runs. */
export interface CrashLoopReport {
  readonly seed: number
  /** Kills done (equals `options.kills`). */
  readonly kills: number
  /** Child processes started: `kills + 1`. */
  readonly runs: number
  /** Exit code of the last run (0: the job finished its input). */
  readonly finalExitCode: number
  /** Wall time of the whole loop. */
  readonly durationMs: number
  /**
   * Per restarted run (run 2 onwards) that printed `SLUICE_FIRST_RECORD_MS`: ms from process start to
   * the first record, i.e. Node startup + checkpoint restore + recommit + first record.
   */
  readonly restartToFirstRecordMs: number[]
  /** Per restarted run that printed `SLUICE_RUNNING`: ms from spawn to that line, measured by the harness. */
  readonly restartToRunningMs: number[]
  /** The delay of each kill, in order: a pure function of the seed. */
  readonly killDelaysMs: number[]
}

/** How one child process ended. */
interface RunOutcome {
  readonly exitCode: number | null
  readonly signal: NodeJS.Signals | null
  readonly killedByHarness: boolean
  readonly timedOut: boolean
  readonly sawRunning: boolean
  readonly startupMs: number | undefined
  readonly firstRecordMs: number | undefined
  readonly stderrTail: string
  readonly uptimeMs: number
  readonly spawnError: Error | undefined
}

/** Bytes of stderr kept per run for the error message. */
const stderrTailBytes = 8192

/**
 * Runs a job script in a child process, `kill -9`s it at random moments and restarts it, until it
 * exits 0 by itself after `kills` kills: the test of a sink's (and core's) exactly-once under crashes.
 *
 * Each run:
 * 1. `node <script> ...args` with `options.env` and `SLUICE_CRASH_LOOP_RUN=<run>`; the script runs its
 *    job with checkpointing into a directory that stays the same across runs, so each run resumes from
 *    the latest checkpoint of the one before.
 * 2. The harness waits for the line `SLUICE_RUNNING` (print it with `reportRunning(handle)`), so the
 *    kill lands while the job processes records, not while Node is starting.
 * 3. If kills are still due, it waits a delay drawn from the seed in `[minDelayMs, maxDelayMs]` and
 *    sends SIGKILL. Once `kills` kills are done, the next run is let finish.
 *
 * Resolves with a {@link CrashLoopReport} when the last run exits 0. Rejects with a {@link CrashLoopError}
 * when a run exits non-zero by itself (with its stderr tail), when the job finishes its input before
 * all kills landed (make the input larger or the delays shorter: a loop with fewer kills than asked
 * would prove less than it claims), or after `timeoutMs`.
 *
 * Runs are sequential; one child at a time. If this process exits while a child runs, the child is
 * killed with it.
 */
export async function runCrashLoop(options: CrashLoopOptions): Promise<CrashLoopReport> {
  const resolved = resolveOptions(options)
  const startedAt = performance.now()
  const deadline = startedAt + resolved.timeoutMs
  const killDelaysMs: number[] = []
  const restartToFirstRecordMs: number[] = []
  const restartToRunningMs: number[] = []
  let kills = 0
  for (let run = 1; ; run++) {
    const killDelayMs = kills < resolved.kills ? killDelay(resolved, kills) : undefined
    const outcome = await runOnce(resolved, run, kills, killDelayMs, deadline, startedAt)
    const facts = { seed: resolved.seed, run, kills, stderrTail: outcome.stderrTail }
    if (outcome.spawnError) {
      throw new CrashLoopError('spawn-failed', facts, `cannot start node ${resolved.script}: ${outcome.spawnError.message}`, {
        cause: outcome.spawnError,
      })
    }
    if (run > 1 && outcome.firstRecordMs !== undefined) restartToFirstRecordMs.push(outcome.firstRecordMs)
    if (run > 1 && outcome.startupMs !== undefined) restartToRunningMs.push(outcome.startupMs)
    if (outcome.timedOut) {
      throw new CrashLoopError('timeout', facts, `the loop did not finish within ${resolved.timeoutMs} ms (the running child was killed)`)
    }
    if (outcome.killedByHarness) {
      killDelaysMs.push(killDelayMs as number)
      kills++
      continue
    }
    if (outcome.exitCode !== 0) {
      const how = outcome.signal ? `was killed by ${outcome.signal} (not sent by the harness)` : `exited with code ${outcome.exitCode}`
      throw new CrashLoopError('script-failed', facts, `${resolved.script} ${how}`)
    }
    if (kills < resolved.kills) {
      throw new CrashLoopError(
        'finished-too-early',
        facts,
        `the job finished its input after ${kills} of ${resolved.kills} kills` +
          (outcome.sawRunning ? ` (it ran ${Math.round(outcome.uptimeMs)} ms, the kill was due ${killDelayMs} ms after ${runningMarker})` : ` (it never printed ${runningMarker})`) +
          '; give the job more input or lower maxDelayMs',
      )
    }
    return {
      seed: resolved.seed,
      kills,
      runs: run,
      finalExitCode: 0,
      durationMs: Math.round(performance.now() - startedAt),
      restartToFirstRecordMs,
      restartToRunningMs,
      killDelaysMs,
    }
  }
}

type ResolvedCrashLoopOptions = Required<Omit<CrashLoopOptions, 'onEvent'>> & { onEvent: (event: CrashLoopEvent) => void }

/** An integer option ≥ `min`, or `fallback` when undefined and a fallback exists. */
function integerOption(value: unknown, name: string, min: number, fallback?: number): number {
  if (value === undefined && fallback !== undefined) return fallback
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < min) {
    throw new ConfigError(`crashLoop.${name}`, `expected an integer >= ${min}, got ${JSON.stringify(value)}`)
  }
  return value
}

/** The options that decide the kill delays, validated. */
function resolveKillPlan(options: Pick<CrashLoopOptions, 'seed' | 'kills' | 'minDelayMs' | 'maxDelayMs'>) {
  if (typeof options !== 'object' || options === null) throw new ConfigError('crashLoop', 'expected an options object')
  const minDelayMs = integerOption(options.minDelayMs, 'minDelayMs', 0, 100)
  const maxDelayMs = integerOption(options.maxDelayMs, 'maxDelayMs', 0, 1500)
  if (maxDelayMs < minDelayMs) {
    throw new ConfigError('crashLoop.maxDelayMs', `must be >= minDelayMs (${minDelayMs}), got ${maxDelayMs}`)
  }
  return {
    kills: integerOption(options.kills, 'kills', 0),
    // Any integer: seeds may be negative (seededRandom uses `seed | 0`).
    seed: integerOption(options.seed, 'seed', Number.MIN_SAFE_INTEGER),
    minDelayMs,
    maxDelayMs,
  }
}

function resolveOptions(options: CrashLoopOptions): ResolvedCrashLoopOptions {
  const plan = resolveKillPlan(options)
  if (typeof options.script !== 'string' || options.script.length === 0) {
    throw new ConfigError('crashLoop.script', `expected the path of a job script, got ${JSON.stringify(options.script)}`)
  }
  const script = path.resolve(options.script)
  if (!existsSync(script)) throw new ConfigError('crashLoop.script', `${script} does not exist`)
  const killWhen = options.killWhen ?? 'random-time'
  if (killWhen !== 'random-time') throw new ConfigError('crashLoop.killWhen', `expected 'random-time', got ${JSON.stringify(killWhen)}`)
  if (options.args !== undefined && (!Array.isArray(options.args) || options.args.some((a) => typeof a !== 'string'))) {
    throw new ConfigError('crashLoop.args', 'expected an array of strings')
  }
  if (options.onEvent !== undefined && typeof options.onEvent !== 'function') {
    throw new ConfigError('crashLoop.onEvent', `expected a function, got ${typeof options.onEvent}`)
  }
  return {
    ...plan,
    script,
    args: options.args ?? [],
    env: options.env ?? {},
    timeoutMs: integerOption(options.timeoutMs, 'timeoutMs', 1, 600_000),
    killWhen,
    onEvent: options.onEvent ?? (() => {}),
  }
}

/** Delay of kill number `kill` (0-based): depends only on the seed, the range and the kill's number. */
function killDelay(options: { seed: number; minDelayMs: number; maxDelayMs: number }, kill: number): number {
  const span = options.maxDelayMs - options.minDelayMs + 1
  return options.minDelayMs + Math.floor(seededRandom(options.seed, kill) * span)
}

/**
 * The kill delays a crash loop with these options will use, in order, without running anything
 * (they depend only on `seed`, `kills`, `minDelayMs` and `maxDelayMs`). Use it to size a job's
 * input: a job that emits at most `r` records per ms makes at most about `sum(delay + startup burst) * r`
 * progress before its last run, so bounded input larger than that cannot finish before the last kill.
 */
export function planKillDelays(options: Pick<CrashLoopOptions, 'seed' | 'kills' | 'minDelayMs' | 'maxDelayMs'>): number[] {
  const plan = resolveKillPlan(options)
  return Array.from({ length: plan.kills }, (_, kill) => killDelay(plan, kill))
}

/** Runs one child to its end: kills it `killDelayMs` after `SLUICE_RUNNING` when given. */
function runOnce(
  options: ResolvedCrashLoopOptions,
  run: number,
  killsSoFar: number,
  killDelayMs: number | undefined,
  deadline: number,
  loopStartedAt: number,
): Promise<RunOutcome> {
  return new Promise<RunOutcome>((resolve) => {
    const spawnedAt = performance.now()
    const emit = options.onEvent
    let child: ChildProcess
    let killTimer: NodeJS.Timeout | undefined
    let killedByHarness = false
    let timedOut = false
    let sawRunning = false
    let startupMs: number | undefined
    let firstRecordMs: number | undefined
    let stderrTail = ''
    let spawnError: Error | undefined
    let settled = false

    const killChild = (): void => {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL')
    }
    const timeoutTimer = setTimeout(
      () => {
        timedOut = true
        killChild()
      },
      Math.max(0, deadline - performance.now()),
    )
    const killOnParentExit = (): void => killChild()
    process.once('exit', killOnParentExit)

    try {
      child = spawn(process.execPath, [options.script, ...options.args], {
        env: { ...process.env, ...options.env, SLUICE_CRASH_LOOP_RUN: String(run) },
        stdio: ['ignore', 'pipe', 'pipe'],
      })
    } catch (error) {
      clearTimeout(timeoutTimer)
      process.removeListener('exit', killOnParentExit)
      resolve(outcomeOf({ exitCode: null, signal: null, spawnError: error as Error }))
      return
    }
    emit({ type: 'start', run, pid: child.pid, elapsedMs: Math.round(spawnedAt - loopStartedAt) })

    function outcomeOf(end: { exitCode: number | null; signal: NodeJS.Signals | null; spawnError?: Error }): RunOutcome {
      return {
        exitCode: end.exitCode,
        signal: end.signal,
        killedByHarness,
        timedOut,
        sawRunning,
        startupMs,
        firstRecordMs,
        stderrTail,
        uptimeMs: performance.now() - spawnedAt,
        spawnError: end.spawnError ?? spawnError,
      }
    }

    const stdout = createInterface({ input: child.stdout as NodeJS.ReadableStream })
    stdout.on('line', (line) => {
      emit({ type: 'output', run, stream: 'stdout', line })
      if (line.startsWith(firstRecordMarker)) {
        const value = Number(line.slice(firstRecordMarker.length).trim())
        if (Number.isFinite(value)) firstRecordMs = value
      } else if (line.trim() === runningMarker && !sawRunning) {
        sawRunning = true
        startupMs = Math.round(performance.now() - spawnedAt)
        emit({ type: 'running', run, startupMs, firstRecordMs })
        if (killDelayMs !== undefined) {
          killTimer = setTimeout(() => {
            if (child.exitCode !== null || child.signalCode !== null) return
            killedByHarness = true
            emit({ type: 'kill', run, kill: killsSoFar + 1, delayMs: killDelayMs })
            child.kill('SIGKILL')
          }, killDelayMs)
        }
      }
    })
    const stderr = createInterface({ input: child.stderr as NodeJS.ReadableStream })
    stderr.on('line', (line) => {
      emit({ type: 'output', run, stream: 'stderr', line })
      stderrTail = `${stderrTail}${line}\n`
      if (stderrTail.length > stderrTailBytes) stderrTail = stderrTail.slice(-stderrTailBytes)
    })

    const finish = (end: { exitCode: number | null; signal: NodeJS.Signals | null }): void => {
      if (settled) return
      settled = true
      clearTimeout(timeoutTimer)
      if (killTimer) clearTimeout(killTimer)
      process.removeListener('exit', killOnParentExit)
      // A child that exited 0 by itself just before the timer fired was not killed by the harness.
      if (end.signal !== 'SIGKILL') killedByHarness = false
      const outcome = outcomeOf(end)
      emit({ type: 'exit', run, exitCode: end.exitCode, signal: end.signal, killed: killedByHarness, uptimeMs: Math.round(outcome.uptimeMs) })
      resolve(outcome)
    }
    child.on('error', (error) => {
      // 'error' without a process means spawn failed; 'close' does not follow then.
      spawnError = error
      if (child.pid === undefined) finish({ exitCode: null, signal: null })
    })
    // 'close' (not 'exit'): fires after stdout and stderr ended, so no line of the run is lost.
    child.on('close', (exitCode, signal) => finish({ exitCode, signal }))
  })
}
