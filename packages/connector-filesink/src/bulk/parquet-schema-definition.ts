import { ConfigError } from '@sluice/core'
import type { LeafType, SchemaNode, SchemaTree } from './schema-tree.js'

/**
 * Leaf types of a Parquet schema given directly, named as in parquetjs-lite's `ParquetSchema`:
 *
 * | name | Parquet physical type (annotation) | JS value |
 * |---|---|---|
 * | `BOOLEAN` | BOOLEAN | boolean |
 * | `INT32` | INT32 | integer number |
 * | `INT64` | INT64 | safe-integer number or bigint |
 * | `FLOAT`, `DOUBLE` | FLOAT, DOUBLE | number |
 * | `UTF8`, `ENUM` | BYTE_ARRAY (UTF8) | string |
 * | `BYTE_ARRAY` | BYTE_ARRAY | Uint8Array |
 * | `FIXED_LEN_BYTE_ARRAY` | FIXED_LEN_BYTE_ARRAY(`typeLength`) | Uint8Array of `typeLength` bytes |
 * | `DATE` | INT32 (DATE) | days since epoch, or a Date at UTC midnight |
 * | `TIMESTAMP_MILLIS`, `TIMESTAMP_MICROS` | INT64 (TIMESTAMP_*) | epoch number/bigint in the unit, or a Date |
 */
export type ParquetLeafTypeName =
  | 'BOOLEAN'
  | 'INT32'
  | 'INT64'
  | 'FLOAT'
  | 'DOUBLE'
  | 'UTF8'
  | 'ENUM'
  | 'BYTE_ARRAY'
  | 'FIXED_LEN_BYTE_ARRAY'
  | 'DATE'
  | 'TIMESTAMP_MILLIS'
  | 'TIMESTAMP_MICROS'

/** A primitive column. */
export interface ParquetLeafDefinition {
  type: ParquetLeafTypeName
  /** The column may be null (OPTIONAL); default REQUIRED. */
  optional?: boolean
  /** Byte length, for `FIXED_LEN_BYTE_ARRAY` only. */
  typeLength?: number
}

/**
 * A group: a nested record (`fields` only), or a standard 3-level list or map written out in full,
 * exactly as parquetjs-lite spells it:
 *
 * ```ts
 * tags: { type: 'LIST', optional: true, fields: { list: { repeated: true, fields: { element: { type: 'UTF8' } } } } }
 * attributes: { type: 'MAP', fields: { key_value: { repeated: true, fields: { key: { type: 'UTF8' }, value: { type: 'INT64' } } } } }
 * ```
 *
 * The record value of a LIST column is a JS array of element values; of a MAP column a plain object or
 * a `Map` with string keys. `repeated` is only accepted on the `list` / `key_value` group of those
 * structures: a bare repeated field has no unambiguous list semantics for readers (and hyparquet-writer
 * cannot write repeated leaves).
 */
export interface ParquetGroupDefinition {
  fields: ParquetSchemaDefinition
  type?: 'LIST' | 'MAP'
  optional?: boolean
  repeated?: boolean
}

export type ParquetFieldDefinition = ParquetLeafDefinition | ParquetGroupDefinition

/** A Parquet schema given directly: top-level column name → definition (parquetjs-lite's schema format). */
export interface ParquetSchemaDefinition {
  [column: string]: ParquetFieldDefinition
}

const leafTypes: Readonly<Record<ParquetLeafTypeName, LeafType>> = {
  BOOLEAN: 'boolean',
  INT32: 'int',
  INT64: 'long',
  FLOAT: 'float',
  DOUBLE: 'double',
  UTF8: 'string',
  ENUM: 'string',
  BYTE_ARRAY: 'bytes',
  FIXED_LEN_BYTE_ARRAY: 'fixed',
  DATE: 'date',
  TIMESTAMP_MILLIS: 'timestamp-millis',
  TIMESTAMP_MICROS: 'timestamp-micros',
}

const leafKeys = new Set(['type', 'optional', 'typeLength'])
const groupKeys = new Set(['type', 'optional', 'repeated', 'fields'])

/**
 * Compiles a Parquet schema given directly (a {@link ParquetSchemaDefinition}, or a parquetjs-lite
 * `ParquetSchema`, whose definition is read from its `schema` property) to the schema tree.
 *
 * @throws ConfigError naming the column path when a type, option or structure is not supported
 */
export function parquetDefinitionToTree(definition: unknown, optionPath: string): SchemaTree {
  let fields = definition
  // A parquetjs-lite ParquetSchema keeps the definition it was built from, after filling in its own
  // defaults (`encoding: 'PLAIN'`, `compression: 'UNCOMPRESSED'`) on every leaf; those two are not choices.
  const fromParquetjs = isObject(definition) && 'fieldList' in definition && isObject(definition.schema)
  if (fromParquetjs) fields = definition.schema
  if (!isObject(fields)) {
    throw new ConfigError(optionPath, `expected an object of column definitions, got ${describeValue(fields)}`)
  }
  const nodes = mapFields(fields, optionPath, fromParquetjs)
  if (nodes.length === 0) throw new ConfigError(optionPath, 'a Parquet schema needs at least one column')
  return { fields: nodes, metadata: {} }
}

function mapFields(fields: Record<string, unknown>, path: string, fromParquetjs: boolean): SchemaNode[] {
  return Object.entries(fields).map(([name, definition]) => mapField(name, definition, `${path}.${name}`, fromParquetjs))
}

function mapField(name: string, definition: unknown, path: string, fromParquetjs: boolean): SchemaNode {
  if (!isObject(definition)) throw new ConfigError(path, `expected a field definition object, got ${describeValue(definition)}`)
  const repetition = definition.optional === true ? 'OPTIONAL' : 'REQUIRED'
  if (definition.optional !== undefined && typeof definition.optional !== 'boolean') {
    throw new ConfigError(`${path}.optional`, `expected a boolean, got ${describeValue(definition.optional)}`)
  }
  if ('fields' in definition) {
    rejectUnknownKeys(definition, groupKeys, path, fromParquetjs)
    if (!isObject(definition.fields)) {
      throw new ConfigError(`${path}.fields`, `expected an object of field definitions, got ${describeValue(definition.fields)}`)
    }
    if (definition.repeated === true) {
      throw new ConfigError(
        path,
        "repeated groups are only supported as the 'list' group of a LIST or the 'key_value' group of a MAP; " +
          "write a list as { type: 'LIST', fields: { list: { repeated: true, fields: { element: {...} } } } }",
      )
    }
    if (definition.type === 'LIST') return mapList(name, definition.fields, path, repetition, fromParquetjs)
    if (definition.type === 'MAP') return mapMap(name, definition.fields, path, repetition, fromParquetjs)
    if (definition.type !== undefined) {
      throw new ConfigError(`${path}.type`, `a group's type must be 'LIST', 'MAP' or absent, got ${describeValue(definition.type)}`)
    }
    const children = mapFields(definition.fields, path, fromParquetjs)
    if (children.length === 0) throw new ConfigError(path, 'a group needs at least one field')
    return { kind: 'group', name, repetition, fields: children }
  }
  rejectUnknownKeys(definition, leafKeys, path, fromParquetjs)
  const typeName = definition.type
  const type = typeof typeName === 'string' ? leafTypes[typeName as ParquetLeafTypeName] : undefined
  if (type === undefined) {
    throw new ConfigError(
      `${path}.type`,
      `expected one of ${Object.keys(leafTypes).join(', ')} (or 'fields' for a group), got ${describeValue(typeName)}`,
    )
  }
  if (type === 'fixed') {
    const size = definition.typeLength
    if (typeof size !== 'number' || !Number.isInteger(size) || size <= 0) {
      throw new ConfigError(`${path}.typeLength`, `FIXED_LEN_BYTE_ARRAY needs a positive integer typeLength, got ${describeValue(size)}`)
    }
    return { kind: 'leaf', name, repetition, type, size }
  }
  if (definition.typeLength !== undefined) {
    throw new ConfigError(`${path}.typeLength`, `typeLength is only allowed with FIXED_LEN_BYTE_ARRAY, not ${typeName}`)
  }
  return { kind: 'leaf', name, repetition, type }
}

function mapList(
  name: string,
  fields: Record<string, unknown>,
  path: string,
  repetition: 'REQUIRED' | 'OPTIONAL',
  fromParquetjs: boolean,
): SchemaNode {
  const repeated = fields.list
  const shape = "{ type: 'LIST', fields: { list: { repeated: true, fields: { element: {...} } } } }"
  if (Object.keys(fields).length !== 1 || !isObject(repeated) || repeated.repeated !== true || !isObject(repeated.fields)) {
    throw new ConfigError(path, `a LIST group must have the standard 3-level structure ${shape}`)
  }
  rejectUnknownKeys(repeated, new Set(['repeated', 'fields']), `${path}.list`, fromParquetjs)
  const elementFields = repeated.fields
  if (Object.keys(elementFields).length !== 1 || !('element' in elementFields)) {
    throw new ConfigError(`${path}.list`, `the repeated 'list' group must hold exactly one field named 'element': ${shape}`)
  }
  return { kind: 'list', name, repetition, element: mapField('element', elementFields.element, `${path}.list.element`, fromParquetjs) }
}

function mapMap(
  name: string,
  fields: Record<string, unknown>,
  path: string,
  repetition: 'REQUIRED' | 'OPTIONAL',
  fromParquetjs: boolean,
): SchemaNode {
  const entries = fields.key_value
  const shape = "{ type: 'MAP', fields: { key_value: { repeated: true, fields: { key: { type: 'UTF8' }, value: {...} } } } }"
  if (Object.keys(fields).length !== 1 || !isObject(entries) || entries.repeated !== true || !isObject(entries.fields)) {
    throw new ConfigError(path, `a MAP group must have the standard structure ${shape}`)
  }
  rejectUnknownKeys(entries, new Set(['repeated', 'fields']), `${path}.key_value`, fromParquetjs)
  const { key, value, ...others } = entries.fields
  if (Object.keys(others).length > 0 || value === undefined) {
    throw new ConfigError(`${path}.key_value`, `the repeated 'key_value' group must hold exactly 'key' and 'value': ${shape}`)
  }
  if (!isObject(key) || key.type !== 'UTF8' || key.optional === true) {
    throw new ConfigError(`${path}.key_value.key`, "map keys must be { type: 'UTF8' } (required strings), as Avro maps have")
  }
  rejectUnknownKeys(key, leafKeys, `${path}.key_value.key`, fromParquetjs)
  return { kind: 'map', name, repetition, value: mapField('value', value, `${path}.key_value.value`, fromParquetjs) }
}

function rejectUnknownKeys(
  definition: Record<string, unknown>,
  allowed: ReadonlySet<string>,
  path: string,
  fromParquetjs: boolean,
): void {
  for (const key of Object.keys(definition)) {
    if (allowed.has(key)) continue
    if (fromParquetjs && isParquetjsDefault(key, definition[key])) continue
    const hint =
      key === 'compression'
        ? "; set the codec for the whole file with parquetBulkFormat({ compression })"
        : key === 'encoding'
          ? '; the writers choose encodings themselves'
          : ''
    throw new ConfigError(`${path}.${key}`, `option '${key}' is not supported here${hint}`)
  }
}

/** What parquetjs-lite's ParquetSchema writes into every leaf definition when the user set nothing. */
function isParquetjsDefault(key: string, value: unknown): boolean {
  return (key === 'encoding' && value === 'PLAIN') || (key === 'compression' && value === 'UNCOMPRESSED') || (key === 'statistics' && value === undefined)
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
}

function describeValue(value: unknown): string {
  if (value === undefined) return 'undefined'
  if (typeof value === 'string') return JSON.stringify(value)
  if (Array.isArray(value)) return 'an array'
  return typeof value === 'object' ? (value === null ? 'null' : 'an object') : String(value)
}
