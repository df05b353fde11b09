/**
 * Builds and runs tools/flink-reference (the Flink side of the differential test) over a list of
 * scenarios, and reads back its lines.
 */
import { execFile } from 'node:child_process'
import { existsSync } from 'node:fs'
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import type { Scenario } from './scenarios.js'

export const REFERENCE_DIR = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../../../../tools/flink-reference')

/** What Flink printed for one scenario: its sorted lines, or the error its job failed with. */
export interface FlinkOutcome {
  readonly lines: string[]
  readonly error: string | undefined
}

interface Run {
  readonly stdout: string
  readonly stderr: string
  readonly ms: number
}

function run(command: string, args: readonly string[], options: { cwd: string; timeoutMs: number }): Promise<Run> {
  const started = Date.now()
  return new Promise((resolve, reject) => {
    execFile(command, args, { cwd: options.cwd, timeout: options.timeoutMs, maxBuffer: 64 * 1024 * 1024 }, (error, stdout, stderr) => {
      if (error) {
        reject(new Error(`${command} ${args.join(' ')} (in ${options.cwd}) failed: ${error.message}\n--- stdout\n${stdout.slice(-4000)}\n--- stderr\n${stderr.slice(-4000)}`))
      } else {
        resolve({ stdout, stderr, ms: Date.now() - started })
      }
    })
  })
}

/** The first executable called `name` on PATH, or undefined. */
export function onPath(name: string): string | undefined {
  for (const dir of (process.env.PATH ?? '').split(path.delimiter)) {
    if (dir !== '' && existsSync(path.join(dir, name))) return path.join(dir, name)
  }
  return undefined
}

/**
 * `mvn -q -B compile` in tools/flink-reference: compiles the reference and writes
 * target/classpath.txt. Maven downloads Flink's jars on the first run only (they stay in ~/.m2).
 * Returns how long it took, in ms.
 */
export async function buildReference(mvn: string): Promise<number> {
  const result = await run(mvn, ['-q', '-B', 'compile'], { cwd: REFERENCE_DIR, timeoutMs: 15 * 60_000 })
  return result.ms
}

/**
 * Runs all scenarios in one JVM (one Flink MiniCluster, `concurrency` jobs at a time) and returns
 * each scenario's outcome by id. A scenario that has neither lines ending in `#end` nor an error is
 * missing from the map.
 */
export async function runInFlink(scenarios: readonly Scenario[], options: { concurrency?: number } = {}): Promise<{ outcomes: Map<string, FlinkOutcome>; ms: number; stderr: string }> {
  const work = await mkdtemp(path.join(tmpdir(), 'sluice-flink-diff-'))
  try {
    const input = path.join(work, 'scenarios.json')
    const output = path.join(work, 'flink.tsv')
    await writeFile(input, JSON.stringify({ concurrency: options.concurrency ?? 4, scenarios }))
    const classpath = (await readFile(path.join(REFERENCE_DIR, 'target', 'classpath.txt'), 'utf8')).trim()
    const java = process.env.JAVA_HOME ? path.join(process.env.JAVA_HOME, 'bin', 'java') : 'java'
    const result = await run(
      java,
      ['-Xmx1g', '-XX:+UseSerialGC', '-XX:TieredStopAtLevel=1', '-cp', `${path.join(REFERENCE_DIR, 'target', 'classes')}${path.delimiter}${classpath}`, 'dev.sluice.flinkref.FlinkReference', input, output],
      { cwd: work, timeoutMs: 10 * 60_000 },
    )
    return { outcomes: parseOutput(await readFile(output, 'utf8')), ms: result.ms, stderr: result.stderr }
  } finally {
    await rm(work, { recursive: true, force: true })
  }
}

/** Parses `<id>\t<line>` / `<id>\t#end` / `<id>\t#error <message>` lines. */
export function parseOutput(text: string): Map<string, FlinkOutcome> {
  const pending = new Map<string, string[]>()
  const outcomes = new Map<string, FlinkOutcome>()
  for (const raw of text.split('\n')) {
    if (raw === '') continue
    const tab = raw.indexOf('\t')
    if (tab < 0) throw new Error(`flink-reference: unexpected output line ${JSON.stringify(raw)}`)
    const id = raw.slice(0, tab)
    const line = raw.slice(tab + 1)
    if (line === '#end') {
      outcomes.set(id, { lines: pending.get(id) ?? [], error: undefined })
      pending.delete(id)
    } else if (line.startsWith('#error ')) {
      outcomes.set(id, { lines: [], error: line.slice('#error '.length) })
      pending.delete(id)
    } else {
      let lines = pending.get(id)
      if (lines === undefined) {
        lines = []
        pending.set(id, lines)
      }
      lines.push(line)
    }
  }
  return outcomes
}
