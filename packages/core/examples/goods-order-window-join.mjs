// The seed's window join (双流Join, Window Join): goods ⋈ order items on goods id in 5 s tumbling
// event-time windows, into FactOrderItem(goodsId, goodsName, count, totalMoney = price × count).
//
//   node packages/core/examples/goods-order-window-join.mjs                 (after `pnpm build`)
//   SLUICE_SECONDS=20 SLUICE_START_MS=0 node packages/core/examples/goods-order-window-join.mjs
//
// One JSON line per joined pair, as the seed prints FactOrderItem:
//   {"goodsId":"2","goodsName":"iphone12","count":"4","totalMoney":"48000"}
// Every goods is in the goods stream once per second, so an order item meets its goods five times in
// its 5 s window: five identical facts (as in Flink; the seed's dimension stream behaves the same way).
import { pathToFileURL } from 'node:url'
import { datagenSource, StreamExecutionEnvironment, TumblingEventTimeWindows, WatermarkStrategy } from '@sluice/core'
import { factOrderItem, optionsFromEnvironment, sourceOptions } from './goods-order-model.mjs'

/** Builds the join on `env`; returns the stream of FactOrderItem. */
export function buildWindowJoin(env, options) {
  const { goods, orderItems } = sourceOptions(options)
  const goodsStream = env.fromSource(datagenSource(goods), WatermarkStrategy.forMonotonousTimestamps(), 'goods')
  const orderItemStream = env.fromSource(datagenSource(orderItems), WatermarkStrategy.forMonotonousTimestamps(), 'order items')
  return goodsStream
    .join(orderItemStream)
    .where((g) => g.goodsId)
    .equalTo((item) => item.goodsId)
    .window(TumblingEventTimeWindows.of(5000))
    .apply((g, item) => factOrderItem(g, item), 'join goods with order items')
}

async function main() {
  const options = optionsFromEnvironment()
  const env = StreamExecutionEnvironment.create({ parallelism: options.parallelism })
  buildWindowJoin(env, options)
    .map((fact) => JSON.stringify(fact))
    .print()
  const job = env.execute('goods-order-window-join')
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
