import { describe, expect, it } from 'vitest'
import { FieldMismatch, compileRecordConverter } from './record-converter.js'
import type { ConvertTarget } from './record-converter.js'
import type { LeafNode, LeafType, SchemaNode } from './schema-tree.js'

const leaf = (type: LeafType, extra: Partial<LeafNode> = {}): LeafNode => ({ kind: 'leaf', name: 'v', repetition: 'REQUIRED', type, ...extra })

/** Converts `{ v: value }` for a one-field schema; returns the converted field or the mismatch. */
function convert(node: SchemaNode, value: unknown, target: ConvertTarget): { value: unknown } | { mismatch: string; path: string } {
  try {
    return { value: (compileRecordConverter([node], target)({ v: value }) as { v: unknown }).v }
  } catch (error) {
    if (error instanceof FieldMismatch) return { mismatch: error.problem, path: error.fieldPath() }
    throw error
  }
}

const both: ConvertTarget[] = ['columnar', 'parquetjs']

describe('record converter', () => {
  /**
   * Purpose: values that would be written wrong, or that are not the declared type, are refused with a
   * reason, whichever writer; values that fit pass.
   * Pass: each case gives the mismatch text (or passes) for both targets.
   */
  it.each(both)('checks leaf values the same way for both writers (%s)', (target) => {
    const refused: [LeafNode, unknown, string][] = [
      [leaf('int'), 2 ** 31, 'expected int (32-bit integer)'],
      [leaf('int'), 1.5, 'expected int'],
      [leaf('int'), 1n, 'expected int'],
      [leaf('boolean'), 0, 'expected boolean'],
      [leaf('long'), 1.5, 'expected long'],
      [leaf('long'), '12', 'expected long'],
      [leaf('float'), 1e39, 'float (32-bit) cannot hold a value beyond ±3.4028235e38'],
      [leaf('double'), '1.0', 'expected double'],
      [leaf('string'), 'lone \ud800 surrogate', 'a string with a lone surrogate has no UTF-8 form'],
      [leaf('string'), 12, 'expected string'],
      [leaf('bytes'), [1, 2], 'expected bytes (Uint8Array)'],
      [leaf('fixed', { size: 4 }), Uint8Array.of(1, 2, 3), 'expected fixed (Uint8Array of 4 bytes)'],
      [leaf('date'), new Date(Date.UTC(2024, 0, 1, 12)), 'a date must be a Date at UTC midnight'],
      [leaf('date'), new Date(Number.NaN), 'invalid Date'],
      [leaf('date'), 1.5, 'expected date'],
      [leaf('timestamp-millis'), new Date(Number.NaN), 'invalid Date'],
      [leaf('timestamp-millis'), 2 ** 60, 'epoch milliseconds beyond ±(2^53 − 1) must be given as a bigint'],
      [leaf('timestamp-millis'), 2n ** 64n, 'a timestamp must fit in 64 bits'],
      [leaf('timestamp-micros'), '2024-01-01', 'expected timestamp-micros'],
    ]
    for (const [node, value, problem] of refused) {
      expect(convert(node, value, target), `${node.type} ${String(value)}`).toEqual({ mismatch: expect.stringContaining(problem), path: 'v' })
    }
    const accepted: [LeafNode, unknown][] = [
      [leaf('int'), -(2 ** 31)],
      [leaf('float'), Number.POSITIVE_INFINITY],
      [leaf('float'), 3.4028234e38],
      [leaf('string'), 'emoji 😀'],
      [leaf('enum', { symbols: ['A'] }), 'A'],
      [leaf('bytes'), Buffer.from('x')],
      [leaf('date'), -719_162],
      [leaf('timestamp-millis'), -1],
      [leaf('timestamp-micros'), 1_700_000_000_000_001n],
    ]
    for (const [node, value] of accepted) expect(convert(node, value, target), `${node.type} ${String(value)}`).toHaveProperty('value')
  })

  /**
   * Purpose: the columnar writer gets longs as bigint and dates as day numbers; the parquetjs writer
   * gets what parquetjs-lite converts exactly (safe numbers, Dates for dates and pre-1970 timestamps).
   */
  it('prepares values for each writer', () => {
    expect(convert(leaf('long'), 5, 'columnar')).toEqual({ value: 5n })
    expect(convert(leaf('long'), 5n, 'parquetjs')).toEqual({ value: 5 })
    expect(convert(leaf('date'), new Date(Date.UTC(1970, 0, 3)), 'columnar')).toEqual({ value: 2 })
    expect(convert(leaf('date'), -1, 'parquetjs')).toEqual({ value: new Date(-86_400_000) })
    expect(convert(leaf('timestamp-millis'), -5, 'parquetjs')).toEqual({ value: new Date(-5) })
    expect(convert(leaf('timestamp-millis'), new Date(7), 'columnar')).toEqual({ value: 7 })
    expect(convert(leaf('timestamp-micros'), new Date(7), 'columnar')).toEqual({ value: 7000n })
    expect(convert(leaf('timestamp-micros'), -2000, 'parquetjs')).toEqual({ value: new Date(-2) })
    expect(convert(leaf('timestamp-micros'), -2001, 'parquetjs')).toEqual({
      mismatch: expect.stringContaining('before 1970 in whole milliseconds'),
      path: 'v',
    })
  })

  /**
   * Purpose: nested paths in errors; for parquetjs (which shreds at once) records pass through untouched
   * when no value changes shape; for columnar (which buffers) containers and bytes are captured, so
   * mutating them after addElements cannot change what is written.
   */
  it('names nested paths; copies what the columnar writer keeps', () => {
    const schema: SchemaNode[] = [
      { kind: 'leaf', name: 'name', repetition: 'REQUIRED', type: 'string' },
      {
        kind: 'list',
        name: 'lines',
        repetition: 'OPTIONAL',
        element: {
          kind: 'group',
          name: 'element',
          repetition: 'REQUIRED',
          fields: [
            { kind: 'leaf', name: 'qty', repetition: 'REQUIRED', type: 'int' },
            { kind: 'map', name: 'attributes', repetition: 'REQUIRED', value: { kind: 'leaf', name: 'value', repetition: 'OPTIONAL', type: 'long' } },
          ],
        },
      },
    ]
    const parquetjs = compileRecordConverter(schema, 'parquetjs')
    const flat = { name: 'a', lines: null, ignored: true }
    expect(parquetjs(flat)).toBe(flat)
    const columnar = compileRecordConverter(schema, 'columnar')
    const line = { qty: 1, attributes: {} }
    const withLines = { name: 'a', lines: [line] }
    const captured = columnar(withLines) as { lines: unknown[] }
    expect(captured).toEqual({ name: 'a', lines: [{ qty: 1, attributes: [] }] })
    line.qty = 99
    withLines.lines.push(line)
    expect(captured).toEqual({ name: 'a', lines: [{ qty: 1, attributes: [] }] })
    const bytes = Uint8Array.of(1, 2)
    const capturedBytes = convert(leaf('bytes'), bytes, 'columnar') as { value: Uint8Array }
    bytes[0] = 9
    expect([...capturedBytes.value]).toEqual([1, 2])
    const mismatch = (() => {
      try {
        columnar({ name: 'a', lines: [{ qty: 1, attributes: {} }, { qty: 2, attributes: new Map([['k', 'x']]) }] })
      } catch (error) {
        return error as FieldMismatch
      }
    })()
    expect(mismatch?.fieldPath()).toBe('lines[1].attributes["k"]')
    expect(mismatch?.value).toBe('x')
  })
})
