import { spawn } from 'node:child_process'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { afterAll, describe, expect, it } from 'vitest'

const demo = fileURLToPath(new URL('../../../examples/demo.mjs', import.meta.url))
const workDirectory = await mkdtemp(path.join(tmpdir(), 'sluice-demo-'))
afterAll(() => rm(workDirectory, { recursive: true, force: true }))

function runDemo(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [demo, ...args], { cwd: workDirectory })
    let stdout = ''
    let stderr = ''
    child.stdout.on('data', (chunk) => (stdout += chunk))
    child.stderr.on('data', (chunk) => (stderr += chunk))
    child.on('error', reject)
    child.on('close', (code) => resolve({ code, stdout, stderr }))
  })
}

/** The README's demo: runs the real job, prints tumbling counts and progress, stops with a savepoint, resumes from it. */
describe('examples/demo.mjs', () => {
  it('prints per-page counts, checkpoints, stops with a savepoint and resumes from it', async () => {
    const first = await runDemo(['--duration', '2.5', '--rate', '2000', '--fresh'])
    expect(first.code).toBe(0)
    // Flink-style print lines: "count:<subtask>> <time> <page> <count>"
    const counts = first.stdout.split('\n').filter((line) => /^count:\d> \d\d:\d\d:\d\d \/\w+\s+\d+$/.test(line))
    expect(counts.length).toBeGreaterThan(0)
    expect(first.stderr).toMatch(/\[progress\] \d+ records\/s \| \d+ total \| last checkpoint \d+/)
    const savepoint = /savepoint: (\S+)/.exec(first.stderr)?.[1]
    expect(savepoint).toBeDefined()

    // Let every window still open at the savepoint end before the second run starts: then the windows
    // the second run prints with a start before its own start hold exactly the first run's open counts.
    await new Promise((resolve) => setTimeout(resolve, 1200))
    const secondStartSecond = Math.floor(Date.now() / 1000) % 86_400
    const second = await runDemo(['--duration', '1.5', '--rate', '2000', '--from-savepoint', savepoint as string])
    expect(second.code).toBe(0)
    expect(second.stderr).toMatch(/restored from \d+/)

    // Nothing lost or counted twice across the savepoint: the clicks of the first run that no printed
    // count holds (their windows were open) are exactly the counts the second run prints for windows
    // that began before it started (their timers are due at once after the restore).
    const windows = (stdout: string) =>
      stdout.split('\n').flatMap((line) => {
        const match = /^count:\d> (\d\d):(\d\d):(\d\d) \/\w+\s+(\d+)$/.exec(line)
        if (match === null) return []
        const [hours, minutes, seconds, count] = match.slice(1).map(Number) as [number, number, number, number]
        return [{ startSecond: hours * 3600 + minutes * 60 + seconds, count }]
      })
    const sum = (counts: { count: number }[]) => counts.reduce((total, { count }) => total + count, 0)
    const generatedFirst = Number(/job \w+: (\d+) records/.exec(first.stderr)?.[1])
    const printedFirst = sum(windows(first.stdout))
    const carried = windows(second.stdout).filter(({ startSecond }) => startSecond < secondStartSecond)
    expect(generatedFirst).toBeGreaterThan(1000)
    expect(printedFirst).toBeGreaterThan(0)
    expect(sum(carried)).toBe(generatedFirst - printedFirst)
  }, 30_000)
})
