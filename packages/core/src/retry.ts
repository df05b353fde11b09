import { ConfigError, RetriesExhaustedError, SluiceError } from './errors.js'

/**
 * Options of {@link retry}. Timings are options, never read from the environment, so tests pass fast ones.
 */
export interface RetryOptions {
  /** What is being attempted, for the error message, e.g. `commit of checkpoint 7`. */
  what: string
  /** Attempts in total, the first one included; an integer >= 1. Default 5. */
  attempts?: number
  /** Delay after the first failed attempt. Default 100 ms. */
  initialDelayMs?: number
  /** Upper bound of every delay, jitter included. Default 10 000 ms. */
  maxDelayMs?: number
  /** Each delay is the previous one times this; >= 1. Default 2. */
  multiplier?: number
  /** Each delay is moved by a random amount of up to ± this fraction of it; 0..1. Default 0.2. */
  jitter?: number
  /** Which failures are worth another attempt. Default: Sluice errors marked `retriable`. */
  isRetriable?: (error: unknown) => boolean
  /** Aborting stops the waiting between attempts; the attempt in flight is not interrupted. */
  signal?: AbortSignal
  /** Source of jitter, returning values in [0, 1). Default `Math.random`. */
  random?: () => number
  /** Waits `ms`, settling early (either way) when `signal` aborts. Default: a timer. */
  sleep?: (ms: number, signal?: AbortSignal) => Promise<void>
}

const defaults = {
  attempts: 5,
  initialDelayMs: 100,
  maxDelayMs: 10_000,
  multiplier: 2,
  jitter: 0.2,
} as const

const isRetriableSluiceError = (error: unknown): boolean => SluiceError.isInstance(error) && error.retriable

/**
 * Runs `operation` until it succeeds, retrying retriable failures with jittered exponential backoff:
 * the delay after failed attempt `n` is `initialDelayMs × multiplier^(n-1)`, moved by up to ±`jitter`
 * of itself and capped at `maxDelayMs`.
 *
 * `operation` receives the attempt number, starting at 1; attempts never overlap.
 *
 * @returns what the first successful attempt returned.
 * @throws the failure itself, at once, when `isRetriable` says it is not retriable.
 * @throws RetriesExhaustedError when every attempt failed; its `cause` is the last failure.
 * @throws `signal.reason` when `signal` aborts before an attempt starts or while waiting between attempts.
 * @throws ConfigError when an option is out of range.
 */
export async function retry<T>(operation: (attempt: number) => Promise<T>, options: RetryOptions): Promise<T> {
  const settings = validate(options)
  const { what, attempts, initialDelayMs, maxDelayMs, multiplier, jitter } = settings
  const { signal, isRetriable = isRetriableSluiceError, random = Math.random, sleep = defaultSleep } = options

  let delayMs = initialDelayMs
  for (let attempt = 1; ; attempt++) {
    signal?.throwIfAborted()
    try {
      return await operation(attempt)
    } catch (error) {
      if (!isRetriable(error)) throw error
      if (attempt >= attempts) throw new RetriesExhaustedError(what, attempts, { cause: error })
    }
    const draw = Math.min(Math.max(random(), 0), 1)
    const jittered = delayMs * (1 + jitter * (2 * draw - 1))
    await sleepUnlessAborted(sleep, Math.min(Math.round(jittered), maxDelayMs), signal)
    delayMs = Math.min(delayMs * multiplier, maxDelayMs)
  }
}

function validate(options: RetryOptions) {
  const what = options.what
  const attempts = options.attempts ?? defaults.attempts
  const initialDelayMs = options.initialDelayMs ?? defaults.initialDelayMs
  const maxDelayMs = options.maxDelayMs ?? defaults.maxDelayMs
  const multiplier = options.multiplier ?? defaults.multiplier
  const jitter = options.jitter ?? defaults.jitter
  const fail = (option: string, expected: string, value: unknown): never => {
    throw new ConfigError(`retry.${option}`, `expected ${expected}, got ${String(value)} (retrying ${what})`)
  }
  if (!Number.isSafeInteger(attempts) || attempts < 1) fail('attempts', 'an integer >= 1', attempts)
  if (!(Number.isFinite(initialDelayMs) && initialDelayMs >= 0)) fail('initialDelayMs', 'a number >= 0', initialDelayMs)
  if (!(Number.isFinite(maxDelayMs) && maxDelayMs >= 0)) fail('maxDelayMs', 'a number >= 0', maxDelayMs)
  if (!(Number.isFinite(multiplier) && multiplier >= 1)) fail('multiplier', 'a number >= 1', multiplier)
  if (!(Number.isFinite(jitter) && jitter >= 0 && jitter <= 1)) fail('jitter', 'a number between 0 and 1', jitter)
  return { what, attempts, initialDelayMs, maxDelayMs, multiplier, jitter }
}

/**
 * Waits with `sleep`, but stops waiting as soon as `signal` aborts even if a custom `sleep` ignores the
 * signal, and then throws its reason.
 */
async function sleepUnlessAborted(
  sleep: (ms: number, signal?: AbortSignal) => Promise<void>,
  ms: number,
  signal: AbortSignal | undefined,
): Promise<void> {
  if (signal === undefined) return sleep(ms)
  signal.throwIfAborted()
  let onAbort: (() => void) | undefined
  const aborted = new Promise<never>((_, reject) => {
    onAbort = () => reject(signal.reason)
    signal.addEventListener('abort', onAbort, { once: true })
  })
  try {
    await Promise.race([sleep(ms, signal), aborted])
  } catch (error) {
    // A sleep that rejects on abort has its own error; the caller should see the abort reason either way.
    signal.throwIfAborted()
    throw error
  } finally {
    if (onAbort !== undefined) signal.removeEventListener('abort', onAbort)
  }
  signal.throwIfAborted()
}

function defaultSleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(done, ms)
    function done() {
      clearTimeout(timer)
      signal?.removeEventListener('abort', done)
      resolve()
    }
    signal?.addEventListener('abort', done, { once: true })
  })
}
