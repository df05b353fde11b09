import { describeLeaf } from './schema-tree.js'
import type { GroupNode, LeafNode, ListNode, MapNode, SchemaNode } from './schema-tree.js'

/**
 * Checks one value against its schema node and returns it in the shape the target writer needs.
 * Throws a {@link FieldMismatch} (not an Error: it is caught and turned into a ParquetRecordError by the
 * writer, which knows the part file and the record index).
 *
 * Converters are compiled once per writer from the schema tree. For the parquetjs target, which shreds
 * each row as it is appended, the per-record path allocates only where a value must change shape (a
 * list to parquetjs-lite's `{ list: [{ element }] }`, a negative timestamp to a Date). The columnar
 * target buffers values until the row group is written, so it captures them: nested records, arrays,
 * maps and byte arrays are copied, and a caller reusing or mutating its objects after `addElements`
 * (as the seed's OrderItemSource does) cannot change what is written.
 */
export type Convert = (value: unknown) => unknown

/**
 * The writer a converter prepares values for.
 *
 * - `columnar` (hyparquet-writer): longs as bigint, timestamps as epoch number/bigint in the column's unit,
 *   dates as day numbers, lists as arrays, maps as arrays of `{ key, value }`; containers and bytes copied.
 * - `parquetjs` (parquetjs-lite): what its `appendRow` writes faithfully — lists as
 *   `{ list: [{ element }] }`, maps as `{ key_value: [{ key, value }] }`, dates as Date, timestamps before
 *   1970 as Date (its converters reject negative numbers); values it would corrupt (longs beyond 2^53, NaN)
 *   are refused.
 */
export type ConvertTarget = 'columnar' | 'parquetjs'

/** A value does not fit its field; `path` is filled while the error unwinds through groups, lists and maps. */
export class FieldMismatch {
  readonly path: (string | number | { key: string })[] = []
  constructor(
    readonly problem: string,
    readonly value: unknown,
  ) {}

  /** `lines[2].count`, `attributes["color"]`. */
  fieldPath(): string {
    let text = ''
    for (const part of this.path) {
      if (typeof part === 'number') text += `[${part}]`
      else if (typeof part === 'string') text += text === '' ? part : `.${part}`
      else text += `[${JSON.stringify(part.key)}]`
    }
    return text
  }
}

/** One top-level column: its name and the converter of its values. */
export interface ColumnConverter {
  readonly name: string
  readonly convert: Convert
}

/** Compiles a converter per top-level field (the columnar writer buffers values column by column). */
export function compileColumnConverters(fields: readonly SchemaNode[], target: ConvertTarget): ColumnConverter[] {
  return fields.map((field) => ({ name: field.name, convert: compileNode(field, target) }))
}

/**
 * Compiles a converter of whole records: checks every field and returns the record itself when nothing
 * needs to change shape, otherwise a copy holding only the schema's fields.
 */
export function compileRecordConverter(fields: readonly SchemaNode[], target: ConvertTarget): Convert {
  return compileGroup({ kind: 'group', name: '', repetition: 'REQUIRED', fields }, target, true)
}

function compileNode(node: SchemaNode, target: ConvertTarget): Convert {
  const inner = compileNonNull(node, target)
  if (node.repetition === 'OPTIONAL') {
    // parquetjs-lite and hyparquet-writer both write undefined as null.
    return (value) => (value === null || value === undefined ? value : inner(value))
  }
  return (value) => {
    if (value === null || value === undefined) {
      throw new FieldMismatch(`required ${describeNode(node)}`, value)
    }
    return inner(value)
  }
}

function compileNonNull(node: SchemaNode, target: ConvertTarget): Convert {
  switch (node.kind) {
    case 'leaf':
      return compileLeaf(node, target)
    case 'group':
      return compileGroup(node, target)
    case 'list':
      return compileList(node, target)
    case 'map':
      return compileMap(node, target)
  }
}

function describeNode(node: SchemaNode): string {
  switch (node.kind) {
    case 'leaf':
      return describeLeaf(node)
    case 'group':
      return 'record'
    case 'list':
      return 'array'
    case 'map':
      return 'map (object or Map with string keys)'
  }
}

function isPlainRecord(value: unknown): value is Record<string, unknown> {
  return (
    typeof value === 'object' &&
    value !== null &&
    !Array.isArray(value) &&
    !(value instanceof Date) &&
    !(value instanceof Uint8Array) &&
    !(value instanceof Map)
  )
}

function prependPath(error: unknown, part: string | number | { key: string }): unknown {
  if (error instanceof FieldMismatch) error.path.unshift(part)
  return error
}

function compileGroup(node: GroupNode, target: ConvertTarget, topLevel = false): Convert {
  const names = node.fields.map((field) => field.name)
  const converters = node.fields.map((field) => compileNode(field, target))
  const count = names.length
  if (target === 'columnar' && !topLevel) {
    return (value) => {
      if (!isPlainRecord(value)) throw new FieldMismatch(`expected a record with fields ${names.join(', ')}`, value)
      const copy: Record<string, unknown> = {}
      for (let i = 0; i < count; i++) {
        const name = names[i] as string
        try {
          copy[name] = (converters[i] as Convert)(value[name])
        } catch (error) {
          throw prependPath(error, name)
        }
      }
      return copy
    }
  }
  return (value) => {
    if (!isPlainRecord(value)) throw new FieldMismatch(`expected a record with fields ${names.join(', ')}`, value)
    let copy: Record<string, unknown> | undefined
    for (let i = 0; i < count; i++) {
      const name = names[i] as string
      const original = value[name]
      let converted: unknown
      try {
        converted = (converters[i] as Convert)(original)
      } catch (error) {
        throw prependPath(error, name)
      }
      if (copy === undefined && converted !== original) {
        // Copy on first change: the fields before i are unchanged.
        copy = {}
        for (let j = 0; j < i; j++) copy[names[j] as string] = value[names[j] as string]
      }
      if (copy !== undefined) copy[name] = converted
    }
    return copy ?? value
  }
}

function compileList(node: ListNode, target: ConvertTarget): Convert {
  const element = compileNode(node.element, target)
  if (target === 'parquetjs') {
    // parquetjs-lite shreds the 3-level structure as written in its schema: { list: [{ element }] }.
    return (value) => {
      if (!Array.isArray(value)) throw new FieldMismatch('expected an array', value)
      const list = new Array(value.length)
      for (let i = 0; i < value.length; i++) {
        try {
          list[i] = { element: element(value[i]) }
        } catch (error) {
          throw prependPath(error, i)
        }
      }
      return { list }
    }
  }
  return (value) => {
    if (!Array.isArray(value)) throw new FieldMismatch('expected an array', value)
    const copy = new Array<unknown>(value.length)
    for (let i = 0; i < value.length; i++) {
      try {
        copy[i] = element(value[i])
      } catch (error) {
        throw prependPath(error, i)
      }
    }
    return copy
  }
}

function compileMap(node: MapNode, target: ConvertTarget): Convert {
  const convertValue = compileNode(node.value, target)
  return (value) => {
    let entries: Iterable<[unknown, unknown]>
    if (value instanceof Map) entries = value.entries()
    else if (isPlainRecord(value)) entries = Object.entries(value)
    else throw new FieldMismatch('expected a map (object or Map with string keys)', value)
    const keyValues: { key: string; value: unknown }[] = []
    for (const [key, entryValue] of entries) {
      if (typeof key !== 'string') throw new FieldMismatch('map keys must be strings', key)
      try {
        keyValues.push({ key, value: convertValue(entryValue) })
      } catch (error) {
        throw prependPath(error, { key })
      }
    }
    return target === 'parquetjs' ? { key_value: keyValues } : keyValues
  }
}

const dayMillis = 86_400_000
/** The largest |epoch milliseconds| a Date can hold (±100,000,000 days). */
const maxDateMillis = 8.64e15
const int64Min = -(2n ** 63n)
const int64Max = 2n ** 63n - 1n
const safeMin = BigInt(Number.MIN_SAFE_INTEGER)
const safeMax = BigInt(Number.MAX_SAFE_INTEGER)
const useColumnar = "use writer: 'columnar'"

function fail(leaf: LeafNode, value: unknown): never {
  throw new FieldMismatch(`expected ${describeLeaf(leaf)}`, value)
}

/** `String.prototype.isWellFormed` (Node 20; not yet in the ES2023 lib typings). */
const isWellFormed = (text: string): boolean => (text as unknown as { isWellFormed(): boolean }).isWellFormed()

function compileLeaf(leaf: LeafNode, target: ConvertTarget): Convert {
  const parquetjs = target === 'parquetjs'
  switch (leaf.type) {
    case 'boolean':
      return (value) => (typeof value === 'boolean' ? value : fail(leaf, value))
    case 'int':
      return (value) => (typeof value === 'number' && (value | 0) === value ? value : fail(leaf, value))
    case 'long':
      return parquetjs ? convertLongForParquetjs(leaf) : convertLongForColumnar(leaf)
    case 'float':
      return (value) => {
        if (typeof value !== 'number') return fail(leaf, value)
        if (Number.isFinite(value) && !Number.isFinite(Math.fround(value))) {
          throw new FieldMismatch('float (32-bit) cannot hold a value beyond ±3.4028235e38; declare the field double', value)
        }
        if (parquetjs && Number.isNaN(value)) throw new FieldMismatch(`the parquetjs writer cannot write NaN; ${useColumnar}`, value)
        return value
      }
    case 'double':
      return (value) => {
        if (typeof value !== 'number') return fail(leaf, value)
        if (parquetjs && Number.isNaN(value)) throw new FieldMismatch(`the parquetjs writer cannot write NaN; ${useColumnar}`, value)
        return value
      }
    case 'string':
      return (value) => {
        if (typeof value !== 'string') return fail(leaf, value)
        if (!isWellFormed(value)) {
          throw new FieldMismatch('a string with a lone surrogate has no UTF-8 form (it would be written as U+FFFD)', value)
        }
        return value
      }
    case 'enum': {
      const symbols = new Set(leaf.symbols)
      return (value) => (typeof value === 'string' && symbols.has(value) ? value : fail(leaf, value))
    }
    case 'bytes':
      return (value) => (value instanceof Uint8Array ? captureBytes(value, parquetjs) : fail(leaf, value))
    case 'fixed':
      return (value) =>
        value instanceof Uint8Array && value.length === leaf.size ? captureBytes(value, parquetjs) : fail(leaf, value)
    case 'date':
      return convertDate(leaf, parquetjs)
    case 'timestamp-millis':
      return convertTimestampMillis(leaf, parquetjs)
    case 'timestamp-micros':
      return convertTimestampMicros(leaf, parquetjs)
  }
}

/** parquetjs-lite copies bytes while shredding; the columnar writer keeps them until the row group is written. */
function captureBytes(value: Uint8Array, parquetjs: boolean): Uint8Array {
  return parquetjs ? value : value.slice()
}

function convertLongForColumnar(leaf: LeafNode): Convert {
  return (value) => {
    if (typeof value === 'number') {
      if (Number.isSafeInteger(value)) return BigInt(value)
      if (Number.isInteger(value)) {
        throw new FieldMismatch(
          'a long given as a number must be within ±(2^53 − 1): beyond that the number has already lost precision; pass a bigint',
          value,
        )
      }
      return fail(leaf, value)
    }
    if (typeof value === 'bigint') {
      if (value < int64Min || value > int64Max) throw new FieldMismatch('a long must fit in 64 bits', value)
      return value
    }
    return fail(leaf, value)
  }
}

function convertLongForParquetjs(leaf: LeafNode): Convert {
  const beyond = `the parquetjs writer converts longs through JS numbers and cannot write one beyond ±(2^53 − 1) exactly; ${useColumnar}`
  return (value) => {
    if (typeof value === 'number') {
      if (Number.isSafeInteger(value)) return value
      if (Number.isInteger(value)) throw new FieldMismatch(beyond, value)
      return fail(leaf, value)
    }
    if (typeof value === 'bigint') {
      if (value < safeMin || value > safeMax) throw new FieldMismatch(beyond, value)
      return Number(value)
    }
    return fail(leaf, value)
  }
}

function convertDate(leaf: LeafNode, parquetjs: boolean): Convert {
  return (value) => {
    let days: number
    if (typeof value === 'number') {
      if ((value | 0) !== value) return fail(leaf, value)
      days = value
    } else if (value instanceof Date) {
      const millis = value.getTime()
      if (Number.isNaN(millis)) throw new FieldMismatch('invalid Date', value)
      if (millis % dayMillis !== 0) {
        throw new FieldMismatch('a date must be a Date at UTC midnight (a date column holds whole days, not a time)', value)
      }
      if (parquetjs) return value
      days = millis / dayMillis
    } else {
      return fail(leaf, value)
    }
    if (!parquetjs) return days
    // parquetjs-lite rejects negative day numbers but converts a Date exactly; always a Date keeps its
    // min/max statistics comparing like with like.
    if (Math.abs(days) * dayMillis > maxDateMillis) throw new FieldMismatch(`the parquetjs writer can only write dates a Date can hold; ${useColumnar}`, value)
    return new Date(days * dayMillis)
  }
}

function convertTimestampMillis(leaf: LeafNode, parquetjs: boolean): Convert {
  const outOfDateRange = `the parquetjs writer can only write timestamps a Date can hold (±8.64e15 ms); ${useColumnar}`
  return (value) => {
    if (value instanceof Date) {
      const millis = value.getTime()
      if (Number.isNaN(millis)) throw new FieldMismatch('invalid Date', value)
      return parquetjs ? value : millis
    }
    let millis: number
    if (typeof value === 'number') {
      if (!Number.isSafeInteger(value)) {
        if (Number.isInteger(value)) throw new FieldMismatch('epoch milliseconds beyond ±(2^53 − 1) must be given as a bigint', value)
        return fail(leaf, value)
      }
      if (!parquetjs) return value
      millis = value
    } else if (typeof value === 'bigint') {
      if (value < int64Min || value > int64Max) throw new FieldMismatch('a timestamp must fit in 64 bits', value)
      if (!parquetjs) return value
      if (value < -8_640_000_000_000_000n || value > 8_640_000_000_000_000n) throw new FieldMismatch(outOfDateRange, value)
      millis = Number(value)
    } else {
      return fail(leaf, value)
    }
    if (millis >= 0) return millis
    // parquetjs-lite rejects negative numbers but converts a Date exactly.
    if (millis < -maxDateMillis) throw new FieldMismatch(outOfDateRange, value)
    return new Date(millis)
  }
}

function convertTimestampMicros(leaf: LeafNode, parquetjs: boolean): Convert {
  const negative = `the parquetjs writer can only write timestamps before 1970 in whole milliseconds (it converts them through a Date); ${useColumnar}`
  return (value) => {
    if (value instanceof Date) {
      const millis = value.getTime()
      if (Number.isNaN(millis)) throw new FieldMismatch('invalid Date', value)
      return parquetjs ? value : BigInt(millis) * 1000n
    }
    if (typeof value === 'number') {
      if (!Number.isSafeInteger(value)) {
        if (Number.isInteger(value)) throw new FieldMismatch('epoch microseconds beyond ±(2^53 − 1) must be given as a bigint', value)
        return fail(leaf, value)
      }
      if (!parquetjs || value >= 0) return value
      if (value % 1000 !== 0 || value < -maxDateMillis * 1000) throw new FieldMismatch(negative, value)
      return new Date(value / 1000)
    }
    if (typeof value === 'bigint') {
      if (value < int64Min || value > int64Max) throw new FieldMismatch('a timestamp must fit in 64 bits', value)
      if (!parquetjs || value >= 0n) return value
      if (value % 1000n !== 0n || value < -8_640_000_000_000_000_000n) throw new FieldMismatch(negative, value)
      return new Date(Number(value / 1000n))
    }
    return fail(leaf, value)
  }
}
