// The seed's interval join (双流Join, intervalJoin): goods keyed by goods id, interval-joined with
// order items keyed by goods id, between(-2 s, +1 s): an order item at t joins the goods records of its
// goods id with timestamps in [t - 1 s, t + 2 s] (goods.ts - 2 s <= item.ts <= goods.ts + 1 s).
//
//   node packages/core/examples/goods-order-interval-join.mjs               (after `pnpm build`)
//   SLUICE_SECONDS=20 SLUICE_START_MS=0 node packages/core/examples/goods-order-interval-join.mjs
//
// One JSON line per joined pair (FactOrderItem, money exact):
//   {"goodsId":"2","goodsName":"iphone12","count":"4","totalMoney":"48000"}
import { pathToFileURL } from 'node:url'
import { factOrderItem, goodsAndOrderItemStreams, printJoinedFacts } from './goods-order-model.mjs'

/** Builds the interval join on `env`; returns the stream of FactOrderItem. */
export function buildIntervalJoin(env, options) {
  const { goods: goodsStream, orderItems: orderItemStream } = goodsAndOrderItemStreams(env, options)
  return goodsStream
    .keyBy((g) => g.goodsId)
    .intervalJoin(orderItemStream.keyBy((item) => item.goodsId))
    .between(-2000, 1000)
    .process({ processElement: (g, item, _context, out) => out.collect(factOrderItem(g, item)) }, 'interval-join goods with order items')
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  printJoinedFacts('goods-order-interval-join', buildIntervalJoin).catch((error) => {
    console.error(error)
    process.exit(1)
  })
}
