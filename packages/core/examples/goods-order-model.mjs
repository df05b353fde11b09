// The seed's goods / order-item model (双流Join): a goods stream (a dimension, every goods each second)
// and an order-item stream (one random goods item per second, plus a copy with goods id "111" that joins
// nothing), joined on goods id into FactOrderItem(goodsId, goodsName, count, totalMoney = price × count).
//
// Event time is simulated: second s of the run has timestamp `startMs + s * 1000` for the goods and
// `+ 500` for the order items, so runs are reproducible; the generators are pure functions of the index.
import { datagenSource, seededInt, StreamExecutionEnvironment, WatermarkStrategy } from '@sluice/core'
import { formatDecimal, multiplyDecimal, parseDecimal } from './decimal.mjs'

/** The seed's GOODS_LIST: goodsId, goodsName, goodsPrice (a decimal string: exact money). */
export const GOODS_LIST = [
  { goodsId: '1', goodsName: '小米12', goodsPrice: '4890' },
  { goodsId: '2', goodsName: 'iphone12', goodsPrice: '12000' },
  { goodsId: '3', goodsName: 'MacBookPro', goodsPrice: '15000' },
  { goodsId: '4', goodsName: 'Thinkpad X1', goodsPrice: '9800' },
  { goodsId: '5', goodsName: 'MeiZu One', goodsPrice: '3200' },
  { goodsId: '6', goodsName: 'Mate 40', goodsPrice: '6500' },
]

const SEED = 2021

/** Goods record `index`: all goods every second, in list order. */
export function goodsAt(index, startMs) {
  const goods = GOODS_LIST[index % GOODS_LIST.length]
  return { ...goods, ts: startMs + Math.floor(index / GOODS_LIST.length) * 1000 }
}

/** Order item `index`: even indexes a random goods with a count of 1..10, odd ones the same item with goods id "111". */
export function orderItemAt(index, startMs) {
  const second = Math.floor(index / 2)
  const goods = GOODS_LIST[seededInt(SEED, second * 2, 0, GOODS_LIST.length - 1)]
  return {
    itemId: `item-${String(second).padStart(6, '0')}`,
    goodsId: index % 2 === 0 ? goods.goodsId : '111',
    count: seededInt(SEED, second * 2 + 1, 1, 10),
    ts: startMs + second * 1000 + 500,
  }
}

/** FactOrderItem, with `count` and `totalMoney` as exact decimal strings (the seed's BigDecimals). */
export function factOrderItem(goods, item) {
  return {
    goodsId: goods.goodsId,
    goodsName: goods.goodsName,
    count: String(item.count),
    totalMoney: formatDecimal(multiplyDecimal(parseDecimal(goods.goodsPrice), item.count)),
  }
}

/**
 * Options from the environment: SLUICE_SECONDS (simulated seconds to generate; default endless, paced
 * like the seed: 6 goods and 2 order items per second), SLUICE_START_MS (event time of second 0;
 * default now), SLUICE_PARALLELISM (default 2).
 */
export function optionsFromEnvironment(environment = process.env) {
  const seconds = environment.SLUICE_SECONDS === undefined ? undefined : Number(environment.SLUICE_SECONDS)
  return {
    seconds,
    startMs: environment.SLUICE_START_MS === undefined ? Date.now() : Number(environment.SLUICE_START_MS),
    parallelism: Number(environment.SLUICE_PARALLELISM ?? 2),
  }
}

/** The goods and order-item sources as datagen options: bounded with `seconds`, else endless at the seed's pace. */
function sourceOptions({ seconds, startMs }) {
  const paced = seconds === undefined
  return {
    goods: {
      generator: (index) => goodsAt(index, startMs),
      timestamp: (goods) => goods.ts,
      ...(paced ? { recordsPerSecond: GOODS_LIST.length } : { count: seconds * GOODS_LIST.length }),
    },
    orderItems: {
      generator: (index) => orderItemAt(index, startMs),
      timestamp: (item) => item.ts,
      ...(paced ? { recordsPerSecond: 2 } : { count: seconds * 2 }),
    },
  }
}

/** The goods and order-item streams on `env`, with timestamps and monotonous watermarks. */
export function goodsAndOrderItemStreams(env, options) {
  const { goods, orderItems } = sourceOptions(options)
  return {
    goods: env.fromSource(datagenSource(goods), WatermarkStrategy.forMonotonousTimestamps(), 'goods'),
    orderItems: env.fromSource(datagenSource(orderItems), WatermarkStrategy.forMonotonousTimestamps(), 'order items'),
  }
}

/**
 * The examples' `main`: builds the join with `build(env, options)` (options from the environment),
 * prints one JSON line per FactOrderItem, cancels on SIGINT/SIGTERM and reports the job's end on stderr.
 */
export async function printJoinedFacts(jobName, build) {
  const options = optionsFromEnvironment()
  const env = StreamExecutionEnvironment.create({ parallelism: options.parallelism })
  build(env, options)
    .map((fact) => JSON.stringify(fact))
    .print()
  const job = env.execute(jobName)
  process.once('SIGINT', () => void job.cancel())
  process.once('SIGTERM', () => void job.cancel())
  const result = await job.result
  console.error(`job ${result.jobName} ${result.state}`)
}
