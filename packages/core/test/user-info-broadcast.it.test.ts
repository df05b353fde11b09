import { type ChildProcess, spawn } from 'node:child_process'
import { existsSync } from 'node:fs'
import { createInterface } from 'node:readline'
import { fileURLToPath } from 'node:url'
import mysql from 'mysql2/promise'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'

/**
 * The seed's BroadcastState example (`examples/user-info-broadcast.mjs`) against the real MariaDB:
 * events are enriched with user info polled from a table (every 200 ms, and at the example's default
 * of 5 s); a row changed in the table shows up in the output after the next poll, on every subtask.
 */

const example = fileURLToPath(new URL('../examples/user-info-broadcast.mjs', import.meta.url))
const dist = fileURLToPath(new URL('../dist/index.js', import.meta.url))
const connection = { host: '127.0.0.1', port: 3306, user: 'root', password: '', database: 'test' }
const table = `user_info_it_${process.pid}_${Date.now().toString(36)}`
const POLL_MS = 200

let db: mysql.Connection
let child: ChildProcess | undefined

beforeAll(async () => {
  if (!existsSync(dist)) throw new Error(`${dist} is missing: the example imports the built @sluice/core; run 'pnpm build' first`)
  db = await mysql.createConnection(connection)
  await db.query(
    `CREATE TABLE ${mysql.escapeId(table)} (userID varchar(20) NOT NULL PRIMARY KEY, userName varchar(10), userAge int) CHARACTER SET utf8mb4`,
  )
  await db.query(`INSERT INTO ${mysql.escapeId(table)} (userID, userName, userAge) VALUES (?, ?, ?), (?, ?, ?), (?, ?, ?), (?, ?, ?)`, [
    'user_1', '张三', 10, 'user_2', '李四', 20, 'user_3', '王五', 30, 'user_4', '赵六', 40,
  ])
})

afterAll(async () => {
  child?.kill('SIGKILL')
  await db?.query(`DROP TABLE IF EXISTS ${mysql.escapeId(table)}`)
  await db?.end()
})

interface Line {
  subtask: string
  userId: string
  name: string
  age: number
  at: number
}

/** Starts the example with `env` on top of the test's table; returns its parsed output lines as they come. */
function startExample(extraEnv: Record<string, string>) {
  const lines: Line[] = []
  const stderr: string[] = []
  const process_ = spawn(process.execPath, [example], {
    env: { ...process.env, SLUICE_USER_INFO_TABLE: table, SLUICE_EVENTS_PER_SECOND: '200', SLUICE_PARALLELISM: '2', ...extraEnv },
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  child = process_
  createInterface({ input: process_.stdout as NodeJS.ReadableStream }).on('line', (text) => {
    const match = /^(\d+)> \((user_\d),[^,]+,type_\d,\d,([^,]+),(\d+)\)$/.exec(text)
    if (!match) throw new Error(`unexpected output line: ${text}`)
    lines.push({ subtask: match[1] as string, userId: match[2] as string, name: match[3] as string, age: Number(match[4]), at: Date.now() })
  })
  createInterface({ input: process_.stderr as NodeJS.ReadableStream }).on('line', (text) => stderr.push(text))
  const until = async (condition: () => boolean, what: string, timeoutMs = 20_000) => {
    const deadline = Date.now() + timeoutMs
    while (!condition()) {
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}; stderr: ${stderr.join('\n')}`)
      await new Promise((r) => setTimeout(r, 10))
    }
  }
  const stop = async () => {
    const exited = new Promise<number | null>((resolve) => process_.once('exit', (code) => resolve(code)))
    process_.kill('SIGTERM')
    expect(await exited).toBe(0)
    expect(stderr.join('\n')).toMatch(/job user-info-broadcast CANCELED/)
  }
  const user3 = (age: number, subtask: string) => lines.some((l) => l.userId === 'user_3' && l.age === age && l.subtask === subtask)
  return { lines, until, stop, user3 }
}

const setAge = (userId: string, age: number) => db.query(`UPDATE ${mysql.escapeId(table)} SET userAge = ? WHERE userID = ?`, [age, userId])

describe('example: user info broadcast from MariaDB', () => {
  it('enriches every event, and a changed row shows up after the next poll on every subtask', async () => {
    await setAge('user_3', 30)
    const { lines, until, stop, user3 } = startExample({ SLUICE_POLL_INTERVAL_MS: String(POLL_MS) })

    await until(() => user3(30, '1') && user3(30, '2'), 'the first poll on both subtasks')
    const expected = new Map([
      ['user_1', ['张三', 10]],
      ['user_2', ['李四', 20]],
      ['user_3', ['王五', 30]],
      ['user_4', ['赵六', 40]],
    ])
    for (const line of lines) expect([line.name, line.age]).toEqual(expected.get(line.userId))

    // The seed's output shows 王五 at 33: change the row, as an operator would.
    const changedAt = Date.now()
    await setAge('user_3', 33)
    await until(() => user3(33, '1') && user3(33, '2'), 'the changed row on both subtasks')
    for (const subtask of ['1', '2']) {
      const firstNew = lines.findIndex((l) => l.subtask === subtask && l.userId === 'user_3' && l.age === 33)
      // After the next poll (within one interval plus the query), and never the old value again.
      expect((lines[firstNew] as Line).at - changedAt).toBeLessThan(POLL_MS * 2 + 1500)
      const later = lines.slice(firstNew).filter((l) => l.subtask === subtask && l.userId === 'user_3')
      expect(later.every((l) => l.age === 33)).toBe(true)
    }
    // Other users keep their info.
    expect(lines.filter((l) => l.userId !== 'user_3').every((l) => l.age === (expected.get(l.userId) as [string, number])[1])).toBe(true)
    await stop()
  })

  it('polls every 5 s by default: a row changed right after a poll shows up after the next one, not before', async () => {
    await setAge('user_3', 30)
    const { lines, until, stop, user3 } = startExample({})
    // The first poll runs at the start; change the row as soon as its result is seen.
    await until(() => user3(30, '1') && user3(30, '2'), 'the first poll on both subtasks')
    const changedAt = Date.now()
    await setAge('user_3', 33)
    await until(() => user3(33, '1') && user3(33, '2'), 'the changed row on both subtasks', 15_000)
    const firstNewAt = Math.min(...lines.filter((l) => l.userId === 'user_3' && l.age === 33).map((l) => l.at))
    const lastOldAt = Math.max(...lines.filter((l) => l.userId === 'user_3' && l.age === 30).map((l) => l.at))
    // The next poll starts 5 s after the first one ended: the old age is still used seconds after the
    // change (3 s leaves room for a slow start), the new one arrives within the interval plus slack.
    expect(lastOldAt - changedAt).toBeGreaterThan(3000)
    expect(firstNewAt - changedAt).toBeLessThan(5000 + 2500)
    expect(lines.filter((l) => l.at > firstNewAt + 500 && l.userId === 'user_3').every((l) => l.age === 33)).toBe(true)
    await stop()
  }, 30_000)
})
