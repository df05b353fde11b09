import { spawn } from 'node:child_process'
import { existsSync, readdirSync, statSync } from 'node:fs'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { beforeAll, describe, expect, it } from 'vitest'

/**
 * Runs the join examples of issue 6 as programs (`node examples/<name>.mjs`, against the built
 * @sluice/core) on 20 simulated seconds and compares every printed FactOrderItem with a brute-force join
 * of the same generated records. The MariaDB broadcast example has its own `.it.test.ts`.
 */

const examples = fileURLToPath(new URL('../examples/', import.meta.url))
const packageRoot = fileURLToPath(new URL('..', import.meta.url))
const SECONDS = 20

beforeAll(() => {
  const dist = path.join(packageRoot, 'dist', 'index.js')
  if (!existsSync(dist)) throw new Error(`${dist} is missing: the examples import the built @sluice/core; run 'pnpm build' first`)
  const newest = (directory: string): number =>
    Math.max(...readdirSync(directory, { withFileTypes: true }).map((e) => (e.isDirectory() ? newest(path.join(directory, e.name)) : statSync(path.join(directory, e.name)).mtimeMs)))
  if (newest(path.join(packageRoot, 'src')) > statSync(dist).mtimeMs) console.warn(`[examples] ${dist} is older than src/: the examples run the previous build`)
})

function run(example: string, environment: Record<string, string>): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [path.join(examples, example)], { env: { ...process.env, ...environment } })
    let stdout = ''
    let stderr = ''
    child.stdout.on('data', (chunk) => (stdout += chunk))
    child.stderr.on('data', (chunk) => (stderr += chunk))
    child.on('error', reject)
    child.on('close', (code) => resolve({ code, stdout, stderr }))
  })
}

/** The printed facts, without the `n> ` subtask prefix, sorted. */
const facts = (stdout: string) =>
  stdout
    .split('\n')
    .filter((line) => line.length > 0)
    .map((line) => line.replace(/^\d+> /, ''))
    .sort()

interface Goods {
  goodsId: string
  goodsName: string
  goodsPrice: string
  ts: number
}
interface Item {
  goodsId: string
  count: number
  ts: number
}
interface Decimal {
  units: bigint
  scale: number
}
// The examples are plain JavaScript modules: imported by URL, typed here.
const { formatDecimal, multiplyDecimal, parseDecimal } = (await import(new URL('../examples/decimal.mjs', import.meta.url).href)) as {
  formatDecimal(decimal: Decimal): string
  multiplyDecimal(decimal: Decimal, count: number): Decimal
  parseDecimal(text: string): Decimal
}
const { GOODS_LIST, goodsAt, orderItemAt } = (await import(new URL('../examples/goods-order-model.mjs', import.meta.url).href)) as {
  GOODS_LIST: Goods[]
  goodsAt(index: number, startMs: number): Goods
  orderItemAt(index: number, startMs: number): Item
}
const allGoods: Goods[] = Array.from({ length: SECONDS * GOODS_LIST.length }, (_, i) => goodsAt(i, 0))
const allItems: Item[] = Array.from({ length: SECONDS * 2 }, (_, i) => orderItemAt(i, 0))
const fact = (g: Goods, item: Item) =>
  JSON.stringify({ goodsId: g.goodsId, goodsName: g.goodsName, count: String(item.count), totalMoney: formatDecimal(multiplyDecimal(parseDecimal(g.goodsPrice), item.count)) })

describe('examples: the seed’s goods / order-item joins', () => {
  it('window join: every order item meets its goods in its 5 s tumbling window, money exact', async () => {
    const { code, stdout, stderr } = await run('goods-order-window-join.mjs', { SLUICE_SECONDS: String(SECONDS), SLUICE_START_MS: '0' })
    expect(code).toBe(0)
    expect(stderr).toMatch(/job goods-order-window-join FINISHED/)
    const expected: string[] = []
    for (const g of allGoods) {
      for (const item of allItems) {
        if (g.goodsId === item.goodsId && Math.floor(g.ts / 5000) === Math.floor(item.ts / 5000)) expected.push(fact(g, item))
      }
    }
    // 20 matching items (the "111" copies join nothing), each with the 5 goods records of its window.
    expect(expected).toHaveLength(SECONDS * 5)
    expect(facts(stdout)).toEqual(expected.sort())
  })

  it('interval join between(-2 s, +1 s): goods.ts - 2 s <= item.ts <= goods.ts + 1 s, money exact', async () => {
    const { code, stdout, stderr } = await run('goods-order-interval-join.mjs', { SLUICE_SECONDS: String(SECONDS), SLUICE_START_MS: '0' })
    expect(code).toBe(0)
    expect(stderr).toMatch(/job goods-order-interval-join FINISHED/)
    const expected: string[] = []
    for (const g of allGoods) {
      for (const item of allItems) {
        if (g.goodsId === item.goodsId && item.ts >= g.ts - 2000 && item.ts <= g.ts + 1000) expected.push(fact(g, item))
      }
    }
    // Each item at s + 0.5 s meets the goods of seconds s, s + 1 and s + 2 (fewer at the end).
    expect(expected).toHaveLength(SECONDS * 3 - 3)
    expect(facts(stdout)).toEqual(expected.sort())
  })

  it('computes money exactly (decimal strings, bigint units), never in floating point', () => {
    expect(formatDecimal(multiplyDecimal(parseDecimal('0.1'), 3))).toBe('0.3')
    expect(formatDecimal(multiplyDecimal(parseDecimal('4890.55'), 7))).toBe('34233.85')
    expect(formatDecimal(multiplyDecimal(parseDecimal('-0.05'), 3))).toBe('-0.15')
    expect(formatDecimal(multiplyDecimal(parseDecimal('12000'), 10))).toBe('120000')
    expect(() => parseDecimal('1e3')).toThrow(/not a decimal number/)
  })
})
