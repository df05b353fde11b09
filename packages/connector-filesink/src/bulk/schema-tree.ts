/**
 * The Parquet schema of a bulk format as a small tree, independent of the library that writes it.
 *
 * Both schema inputs (an Avro schema mapped the way parquet-avro maps it, or a Parquet schema given
 * directly) compile to this tree once, when the sink is built; the record converter and both Parquet
 * writers are derived from it. It only holds what both writers can write faithfully, so a schema that
 * compiles is a schema both writers accept.
 */

/** Whether a field may be null. Bare REPEATED fields do not occur: repetition is always a {@link ListNode} or {@link MapNode}. */
export type Repetition = 'REQUIRED' | 'OPTIONAL'

/**
 * The value types a leaf can hold, with their Parquet encoding:
 *
 * | type | Parquet physical type (annotation) |
 * |---|---|
 * | `boolean` | BOOLEAN |
 * | `int` | INT32 |
 * | `long` | INT64 |
 * | `float` / `double` | FLOAT / DOUBLE |
 * | `string` | BYTE_ARRAY (UTF8) |
 * | `enum` | BYTE_ARRAY (UTF8); the value must be one of `symbols` |
 * | `bytes` | BYTE_ARRAY |
 * | `fixed` | FIXED_LEN_BYTE_ARRAY(`size`) |
 * | `date` | INT32 (DATE): days since 1970-01-01 |
 * | `timestamp-millis` / `timestamp-micros` | INT64 (TIMESTAMP_MILLIS / TIMESTAMP_MICROS), UTC |
 */
export type LeafType =
  | 'boolean'
  | 'int'
  | 'long'
  | 'float'
  | 'double'
  | 'string'
  | 'enum'
  | 'bytes'
  | 'fixed'
  | 'date'
  | 'timestamp-millis'
  | 'timestamp-micros'

export interface LeafNode {
  readonly kind: 'leaf'
  readonly name: string
  readonly repetition: Repetition
  readonly type: LeafType
  /** Byte length of a `fixed` value. */
  readonly size?: number
  /** Allowed values of an `enum`. */
  readonly symbols?: readonly string[]
}

/** A record: a Parquet group whose fields are all present in every value (possibly null). */
export interface GroupNode {
  readonly kind: 'group'
  readonly name: string
  readonly repetition: Repetition
  readonly fields: readonly SchemaNode[]
}

/**
 * A JS array, written as the standard 3-level Parquet list:
 * `<repetition> group <name> (LIST) { repeated group list { <element> } }` — the structure parquet-avro
 * writes with `parquet.avro.write-old-list-structure=false`. `element.name` is `'element'`.
 */
export interface ListNode {
  readonly kind: 'list'
  readonly name: string
  readonly repetition: Repetition
  readonly element: SchemaNode
}

/**
 * A string-keyed map (a plain object or a `Map`), written as
 * `<repetition> group <name> (MAP) { repeated group key_value { required binary key (UTF8); <value> } }`.
 * `value.name` is `'value'`.
 */
export interface MapNode {
  readonly kind: 'map'
  readonly name: string
  readonly repetition: Repetition
  readonly value: SchemaNode
}

export type SchemaNode = LeafNode | GroupNode | ListNode | MapNode

/** The whole schema: the top-level fields of each record, plus what to store in the file's key-value metadata. */
export interface SchemaTree {
  readonly fields: readonly SchemaNode[]
  /** Key-value metadata written into every file, e.g. `parquet.avro.schema` so Avro readers find the writer schema. */
  readonly metadata: Readonly<Record<string, string>>
}

/** Renders a leaf's type for messages, e.g. `int (32-bit integer)`. */
export function describeLeaf(leaf: LeafNode): string {
  switch (leaf.type) {
    case 'int':
      return 'int (32-bit integer)'
    case 'long':
      return 'long (64-bit integer: a safe-integer number or a bigint)'
    case 'float':
      return 'float (number)'
    case 'double':
      return 'double (number)'
    case 'enum':
      return `enum (one of ${leaf.symbols?.map((s) => JSON.stringify(s)).join(', ')})`
    case 'bytes':
      return 'bytes (Uint8Array)'
    case 'fixed':
      return `fixed (Uint8Array of ${leaf.size} bytes)`
    case 'date':
      return 'date (days since 1970-01-01 as an integer, or a Date at UTC midnight)'
    case 'timestamp-millis':
      return 'timestamp-millis (epoch milliseconds as a number or bigint, or a Date)'
    case 'timestamp-micros':
      return 'timestamp-micros (epoch microseconds as a number or bigint, or a Date)'
    default:
      return leaf.type
  }
}
