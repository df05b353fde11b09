// The seed's BroadcastState example: an endless stream of user events is enriched with each user's
// name and age, read from the table `user_info` every 5 s and broadcast to every parallel subtask.
//
//   node packages/core/examples/user-info-broadcast.mjs            (after `pnpm build`)
//
// Table (as in the seed): user_info(userID varchar(20) primary key, userName varchar(10), userAge int).
// Environment: SLUICE_MYSQL_HOST (127.0.0.1), SLUICE_MYSQL_PORT (3306), SLUICE_MYSQL_USER (root),
// SLUICE_MYSQL_PASSWORD (''), SLUICE_MYSQL_DATABASE (test), SLUICE_USER_INFO_TABLE (user_info),
// SLUICE_POLL_INTERVAL_MS (5000), SLUICE_EVENTS_PER_SECOND (2), SLUICE_PARALLELISM (2),
// SLUICE_RUN_MS (run that long, then cancel; default: forever).
//
// Output, one line per enriched event (as the seed prints it):
//   2> (user_3,2021-06-13 09:36:47,type_1,1,王五,30)
import { pathToFileURL } from 'node:url'
import { MapStateDescriptor, seededInt, StreamExecutionEnvironment } from '@sluice/core'
import { mysqlTablePollingSource } from './mysql-table-polling-source.mjs'

/** userID → { userName, userAge }: the broadcast state, one entry per user (the seed keeps one map under a null key). */
export const userInfoDescriptor = new MapStateDescriptor('user-info')

const SEED = 2019

/** The seed's MySource: a random user event (user_1..user_4, type_0..type_2, product 0..3), deterministic per index. */
export function userEvent(index, startMs, eventsPerSecond) {
  return {
    userId: `user_${seededInt(SEED, index * 3, 1, 4)}`,
    eventTime: formatTime(startMs + Math.floor((index * 1000) / eventsPerSecond)),
    type: `type_${seededInt(SEED, index * 3 + 1, 0, 2)}`,
    productId: seededInt(SEED, index * 3 + 2, 0, 3),
  }
}

/**
 * Enriches events with the user info in broadcast state (the seed's BroadcastProcessFunction). Each poll
 * replaces the whole state, so a row changed or deleted in the table is reflected after the next poll.
 * Events of users not (yet) in the table are skipped.
 */
export const enrichWithUserInfo = {
  processElement(event, context, out) {
    const info = context.getBroadcastState(userInfoDescriptor).get(event.userId)
    if (info === undefined) return
    out.collect(`(${event.userId},${event.eventTime},${event.type},${event.productId},${info.userName},${info.userAge})`)
  },
  processBroadcastElement(table, context) {
    const state = context.getBroadcastState(userInfoDescriptor)
    state.clear()
    for (const [userId, row] of table) state.put(userId, { userName: row.userName, userAge: row.userAge })
  },
}

/** Builds the job on `env`; returns the enriched stream. */
export function buildJob(env, options) {
  const startMs = Date.now()
  const events = env.datagen(
    { generator: (index) => userEvent(index, startMs, options.eventsPerSecond), recordsPerSecond: options.eventsPerSecond },
    'user events',
  )
  const userInfo = env
    .fromSource(
      mysqlTablePollingSource({
        connection: options.connection,
        table: options.table,
        keyColumn: 'userID',
        columns: ['userName', 'userAge'],
        pollIntervalMs: options.pollIntervalMs,
      }),
      `user info (${options.table})`,
    )
    .setParallelism(1)
  return events.connect(userInfo.broadcast(userInfoDescriptor)).process(enrichWithUserInfo, 'enrich with user info')
}

function formatTime(ms) {
  const d = new Date(ms)
  const pad = (n) => String(n).padStart(2, '0')
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())} ${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}`
}

async function main() {
  const environment = process.env
  const options = {
    connection: {
      host: environment.SLUICE_MYSQL_HOST ?? '127.0.0.1',
      port: Number(environment.SLUICE_MYSQL_PORT ?? 3306),
      user: environment.SLUICE_MYSQL_USER ?? 'root',
      password: environment.SLUICE_MYSQL_PASSWORD ?? '',
      database: environment.SLUICE_MYSQL_DATABASE ?? 'test',
    },
    table: environment.SLUICE_USER_INFO_TABLE ?? 'user_info',
    pollIntervalMs: Number(environment.SLUICE_POLL_INTERVAL_MS ?? 5000),
    eventsPerSecond: Number(environment.SLUICE_EVENTS_PER_SECOND ?? 2),
  }
  const env = StreamExecutionEnvironment.create({ parallelism: Number(environment.SLUICE_PARALLELISM ?? 2) })
  buildJob(env, options).print()
  const job = env.execute('user-info-broadcast')
  if (environment.SLUICE_RUN_MS) setTimeout(() => void job.cancel(), Number(environment.SLUICE_RUN_MS))
  process.once('SIGINT', () => void job.cancel())
  process.once('SIGTERM', () => void job.cancel())
  const result = await job.result
  console.error(`job ${result.jobName} ${result.state}`)
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  main().catch((error) => {
    console.error(error)
    process.exit(1)
  })
}
