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
import { TumblingEventTimeWindows } from '@sluice/core'
import { factOrderItem, goodsAndOrderItemStreams, printJoinedFacts } from './goods-order-model.mjs'

/** Builds the join on `env`; returns the stream of FactOrderItem. */
export function buildWindowJoin(env, options) {
  const { goods: goodsStream, orderItems: orderItemStream } = goodsAndOrderItemStreams(env, options)
  return goodsStream
    .join(orderItemStream)
    .where((g) => g.goodsId)
    .equalTo((item) => item.goodsId)
    .window(TumblingEventTimeWindows.of(5000))
    .apply((g, item) => factOrderItem(g, item), 'join goods with order items')
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  printJoinedFacts('goods-order-window-join', buildWindowJoin).catch((error) => {
    console.error(error)
    process.exit(1)
  })
}
