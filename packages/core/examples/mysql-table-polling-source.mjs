// A polling source over one MariaDB/MySQL table, written against @sluice/core's public Source contract
// (split enumerator + reader), for the broadcast-state example. Until the MySQL connector has a polling
// source, this is the "plain mysql2 polling source inside the example" the issue allows.
//
// Each poll reads the whole table (`SELECT <columns> FROM <table>`, identifiers escaped) and emits ONE
// record: a Map from the key column to the row, i.e. the table as it is now (the seed's MySQLSource
// emits the same `Map<userID, (name, age)>` every 5 s). Unbounded: it polls until the job stops.
import mysql from 'mysql2/promise'
import { ConfigError, SluiceError } from '@sluice/core'

/** The one split: the table. Persisted as JSON (format version 1). */
const SPLIT_ID = 'table-poll'

/**
 * @typedef {object} MysqlTablePollingSourceOptions
 * @property {import('mysql2/promise').ConnectionOptions} connection  host, port, user, password, database
 * @property {string} table            table to read; escaped as an identifier
 * @property {string} keyColumn        column whose value keys the emitted Map
 * @property {string[]} columns        columns to read (the key column is added when missing)
 * @property {number} [pollIntervalMs] ms between the end of one poll and the start of the next; default 5000
 */

/**
 * @param {MysqlTablePollingSourceOptions} options
 * @returns {import('@sluice/core').Source<Map<unknown, Record<string, unknown>>, { splitId: string }, { splitId: string }[]>}
 */
export function mysqlTablePollingSource(options) {
  const { connection, table, keyColumn } = options
  if (typeof table !== 'string' || table.length === 0) throw new ConfigError('mysqlTablePolling.table', `expected a table name, got ${String(table)}`)
  if (typeof keyColumn !== 'string' || keyColumn.length === 0) throw new ConfigError('mysqlTablePolling.keyColumn', `expected a column name, got ${String(keyColumn)}`)
  const columns = [...new Set([keyColumn, ...(options.columns ?? [])])]
  const pollIntervalMs = options.pollIntervalMs ?? 5000
  if (!Number.isInteger(pollIntervalMs) || pollIntervalMs < 1) {
    throw new ConfigError('mysqlTablePolling.pollIntervalMs', `expected an integer >= 1, got ${String(pollIntervalMs)}`)
  }
  // Identifiers escaped, never concatenated raw; there are no values to bind in this query.
  const sql = `SELECT ${columns.map((c) => mysql.escapeId(c)).join(', ')} FROM ${mysql.escapeId(table)}`
  const splitSerializer = jsonSerializer((json) => ({ splitId: String(json.splitId) }))
  return {
    boundedness: 'CONTINUOUS_UNBOUNDED',
    createEnumerator: (context) => new SingleSplitEnumerator(context, [{ splitId: SPLIT_ID }]),
    restoreEnumerator: (context, checkpoint) => new SingleSplitEnumerator(context, checkpoint),
    createReader: (context) => new TablePollingReader(context, connection, sql, keyColumn, pollIntervalMs, table),
    splitSerializer: () => splitSerializer,
    enumeratorCheckpointSerializer: () => jsonSerializer((json) => json.map((s) => ({ splitId: String(s.splitId) }))),
  }
}

/**
 * Hands the single split to reader 0 when it registers; every reader then hears that no more splits
 * come. Its checkpoint is the split not yet handed out (after a restore, the reader that had the split
 * gets it back from its own state).
 */
class SingleSplitEnumerator {
  constructor(context, unassigned) {
    this.context = context
    this.unassigned = [...unassigned]
  }
  start() {}
  addReader(subtaskId) {
    if (subtaskId === 0 && this.unassigned.length > 0) this.context.assignSplits(0, this.unassigned.splice(0))
    this.context.signalNoMoreSplits(subtaskId)
  }
  handleSplitRequest() {}
  addSplitsBack(splits) {
    this.unassigned.push(...splits)
  }
  snapshotState() {
    return [...this.unassigned]
  }
  close() {}
}

/**
 * Polls the table on its own timer (never inside `pollNext`, which must not wait) and keeps the latest
 * result until `pollNext` emits it. A reader without the split ends at once (END_OF_INPUT).
 */
class TablePollingReader {
  constructor(context, connectionOptions, sql, keyColumn, pollIntervalMs, table) {
    this.context = context
    this.connectionOptions = connectionOptions
    this.sql = sql
    this.keyColumn = keyColumn
    this.pollIntervalMs = pollIntervalMs
    this.table = table
    this.split = undefined
    this.noMoreSplits = false
    this.connection = undefined
    this.latest = undefined
    this.failure = undefined
    this.timer = undefined
    this.closed = false
    this.wake = undefined
  }

  start() {}

  pollNext(output) {
    if (this.failure !== undefined) throw this.failure
    if (this.latest !== undefined) {
      output.collect(this.latest)
      this.latest = undefined
      return 'MORE_AVAILABLE'
    }
    if (this.split === undefined && this.noMoreSplits) return 'END_OF_INPUT'
    return 'NOTHING_AVAILABLE'
  }

  isAvailable() {
    if (this.latest !== undefined || this.failure !== undefined || this.closed || (this.split === undefined && this.noMoreSplits)) return Promise.resolve()
    return new Promise((resolve) => {
      this.wake = resolve
    })
  }

  addSplits(splits) {
    if (splits.length === 0) return
    this.split = splits[0]
    this.schedule(0)
  }

  notifyNoMoreSplits() {
    this.noMoreSplits = true
    this.notify()
  }

  snapshotState() {
    return this.split === undefined ? [] : [this.split]
  }

  async close() {
    this.closed = true
    clearTimeout(this.timer)
    this.notify()
    await this.connection?.end().catch(() => {})
  }

  schedule(delayMs) {
    if (this.closed) return
    this.timer = setTimeout(() => void this.poll(), delayMs)
  }

  async poll() {
    try {
      this.connection ??= await mysql.createConnection(this.connectionOptions)
      const [rows] = await this.connection.query(this.sql)
      const snapshot = new Map()
      for (const row of rows) snapshot.set(row[this.keyColumn], { ...row })
      if (this.closed) return
      this.latest = snapshot
      this.notify()
      this.schedule(this.pollIntervalMs)
    } catch (error) {
      if (this.closed) return
      const where = `${this.connectionOptions.host ?? 'localhost'}:${this.connectionOptions.port ?? 3306}/${this.connectionOptions.database ?? ''}`
      this.failure = new SluiceError('MYSQL_POLL_FAILED', `polling table ${this.table} at ${where} failed: ${error.message}`, { cause: error, retriable: true })
      this.notify()
    }
  }

  notify() {
    const wake = this.wake
    this.wake = undefined
    wake?.()
  }
}

/** JSON over UTF-8, format version 1. */
function jsonSerializer(decode) {
  return {
    version: 1,
    serialize: (value) => new TextEncoder().encode(JSON.stringify(value)),
    deserialize: (version, bytes) => {
      if (version !== 1) throw new SluiceError('UNSUPPORTED_VERSION', `table-poll split format version ${version} is not known (expected 1)`)
      return decode(JSON.parse(new TextDecoder().decode(bytes)))
    },
  }
}
