/**
 * The seed's order records as a deterministic generator, for jobs whose output a test checks record by
 * record. `test/__fixtures__/file-sink-job.mjs` (plain JS, run by `node`) has the same generator: the
 * crash loop compares every record it reads against this one, so the two cannot drift apart unnoticed.
 *
 * The seed's `OrderItemSource` emits, once per tick, an order item for a random good and then the same
 * (mutable) object again with goodsId "111" — a good that does not exist, so it joins with nothing.
 * Here tick `t` gives records `2t` and `2t + 1`; the item id is UUID-shaped like the seed's
 * `UUID.randomUUID()`, but a function of the tick (its last 12 hex digits are the tick), so a reader
 * can tell from a record which input record it is.
 */
import { createHash } from 'node:crypto'

/** The seed's `OrderItem` (订单明细类: 订单id, 商品id, 订单数量). */
export interface OrderItem {
  itemId: string
  goodsId: string
  count: number
}

/** The seed's `GOODS_LIST`: goodsId, goodsName, goodsPrice. */
export const seedGoods = [
  { goodsId: '1', goodsName: '小米12', goodsPrice: '4890' },
  { goodsId: '2', goodsName: 'iphone12', goodsPrice: '12000' },
  { goodsId: '3', goodsName: 'MacBookPro', goodsPrice: '15000' },
  { goodsId: '4', goodsName: 'Thinkpad X1', goodsPrice: '9800' },
  { goodsId: '5', goodsName: 'MeiZu One', goodsPrice: '3200' },
  { goodsId: '6', goodsName: 'Mate 40', goodsPrice: '6500' },
] as const

/**
 * The Avro schema `ParquetAvroWriters.forReflectRecord(OrderItem.class)` derives (Avro's ReflectData):
 * one non-null field per Java field, String → string, Integer → int.
 */
export const orderItemAvroSchema = {
  type: 'record',
  name: 'OrderItem',
  namespace: 'cn.seed.flink',
  fields: [
    { name: 'itemId', type: { type: 'string', 'avro.java.string': 'String' } },
    { name: 'goodsId', type: { type: 'string', 'avro.java.string': 'String' } },
    { name: 'count', type: { type: 'int', 'java-class': 'java.lang.Integer' } },
  ],
}

/** The goodsId of the seed's second record per tick: no good has it. */
export const unknownGoodsId = '111'

/**
 * Record `seq` of the seed's OrderItemSource (see the module comment): sha1 of the tick gives the item
 * id's random digits, the good and the count.
 */
export function orderItemOf(seq: number): OrderItem {
  const tick = Math.floor(seq / 2)
  const h = createHash('sha1').update(`order-${tick}`).digest('hex')
  const good = seedGoods[Number.parseInt(h.slice(18, 20), 16) % seedGoods.length] as (typeof seedGoods)[number]
  return {
    itemId: `${h.slice(0, 8)}-${h.slice(8, 12)}-4${h.slice(12, 15)}-a${h.slice(15, 18)}-${tick.toString(16).padStart(12, '0')}`,
    goodsId: seq % 2 === 0 ? good.goodsId : unknownGoodsId,
    count: (Number.parseInt(h.slice(20, 22), 16) % 10) + 1,
  }
}

/** The `seq` a record claims to be (from its item id and goodsId); check it with `orderItemOf(seq)`. */
export function seqOfOrderItem(item: OrderItem): number {
  const tick = Number.parseInt(item.itemId.slice(-12), 16)
  return 2 * tick + (item.goodsId === unknownGoodsId ? 1 : 0)
}
