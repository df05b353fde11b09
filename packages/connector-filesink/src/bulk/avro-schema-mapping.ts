import { ConfigError } from '@sluice/core'
import avsc from 'avsc'
import type { Schema as AvroSchema, Type as AvroType } from 'avsc'
import type { LeafType, Repetition, SchemaNode, SchemaTree } from './schema-tree.js'

/**
 * Maps an Avro schema to the Parquet schema tree the way parquet-avro's `AvroSchemaConverter` does
 * (the converter behind Flink's `ParquetAvroWriters.forReflectRecord/forSpecificRecord/forGenericRecord`),
 * with `parquet.avro.write-old-list-structure=false`:
 *
 * | Avro | Parquet |
 * |---|---|
 * | record (top level) | the message; each field a column |
 * | record (nested) | group |
 * | `["null", T]` / `[T, "null"]` | T, OPTIONAL (every other type is REQUIRED) |
 * | array | `group (LIST) { repeated group list { element } }` (3-level list) |
 * | map | `group (MAP) { repeated group key_value { required binary key (UTF8); value } }` |
 * | boolean / int / long / float / double | BOOLEAN / INT32 / INT64 / FLOAT / DOUBLE |
 * | string, enum | BYTE_ARRAY (UTF8) — parquet-avro annotates enums ENUM; readers see a string either way |
 * | bytes / fixed | BYTE_ARRAY / FIXED_LEN_BYTE_ARRAY(size) |
 * | int `date` | INT32 (DATE) |
 * | long `timestamp-millis` / `timestamp-micros` | INT64 (TIMESTAMP_MILLIS / TIMESTAMP_MICROS) |
 *
 * Refused with a {@link ConfigError} naming the field, because they cannot be written faithfully by both
 * writers or have no Parquet form: `decimal` (write it as a string, as Flink's reflect mapping does for
 * `BigDecimal`, or as a double if rounding is acceptable), `time-*`, `local-timestamp-*`, `timestamp-nanos`,
 * `duration`, unions of several non-null types, recursive records, a bare `null` type, and a top-level
 * schema that is not a record. Unknown logical types fall back to their underlying type, as the Avro
 * specification requires.
 *
 * @param schema an Avro schema as JSON (object or a JSON string) or an `avsc` Type
 * @param optionPath the option path for errors, e.g. `parquetBulkFormat.avroSchema`
 * @throws ConfigError when the schema is not valid Avro or cannot be mapped
 */
export function avroSchemaToTree(schema: unknown, optionPath: string): SchemaTree {
  const type = parseAvro(schema, optionPath)
  if (type.typeName !== 'record' && type.typeName !== 'error') {
    throw new ConfigError(optionPath, `the top-level Avro schema must be a record, got '${type.typeName}'`)
  }
  const record = type as AvroRecordType
  const fields = record.fields.map((field) =>
    mapType(field.type, field.name, joinPath(optionPath, field.name), [record.name ?? '']),
  )
  return {
    fields,
    // parquet-avro stores the writer schema here; Avro-aware readers (AvroParquetReader, Spark) use it.
    metadata: { 'parquet.avro.schema': JSON.stringify(type.schema({ exportAttrs: true })), 'writer.model.name': 'avro' },
  }
}

interface AvroRecordType extends AvroType {
  readonly fields: readonly { readonly name: string; readonly type: AvroType }[]
}

/** Logical types the mapping knows; registering them keeps their name, which avsc otherwise drops. */
const knownLogicalTypes = [
  'decimal',
  'uuid',
  'date',
  'time-millis',
  'time-micros',
  'timestamp-millis',
  'timestamp-micros',
  'timestamp-nanos',
  'local-timestamp-millis',
  'local-timestamp-micros',
  'local-timestamp-nanos',
  'duration',
] as const

/** A logical type that only records its name: values are validated by the record converter, not by avsc. */
class MarkerLogicalType extends avsc.types.LogicalType {
  protected override _fromValue(value: unknown): unknown {
    return value
  }
  protected override _toValue(value: unknown): unknown {
    return value
  }
  protected override _resolve(): undefined {
    return undefined
  }
}

const markerLogicalTypes = Object.fromEntries(knownLogicalTypes.map((name) => [name, MarkerLogicalType]))

function parseAvro(schema: unknown, optionPath: string): AvroType {
  let json: unknown = schema
  if (avsc.Type.isType(schema)) {
    // Re-read the exported schema so that logical types are known by name whatever the caller registered.
    json = (schema as AvroType).schema({ exportAttrs: true })
  } else if (typeof schema === 'string') {
    try {
      json = JSON.parse(schema)
    } catch (error) {
      throw new ConfigError(optionPath, `not a valid Avro schema: ${(error as Error).message}`, { cause: error })
    }
  }
  if (typeof json !== 'object' || json === null) {
    throw new ConfigError(optionPath, `expected an Avro schema (object, JSON string or avsc Type), got ${typeof json}`)
  }
  try {
    return avsc.Type.forSchema(json as AvroSchema, { logicalTypes: markerLogicalTypes })
  } catch (error) {
    throw new ConfigError(optionPath, `not a valid Avro schema: ${(error as Error).message}`, { cause: error })
  }
}

const logicalPrefix = 'logical:'

function mapType(type: AvroType, name: string, path: string, records: readonly string[]): SchemaNode {
  if (type.typeName.startsWith('union:')) {
    const branches = (type as unknown as { types: readonly AvroType[] }).types
    const nonNull = branches.filter((branch) => branch.typeName !== 'null')
    if (nonNull.length === 1 && nonNull[0] !== undefined) {
      return mapNonNull(nonNull[0], name, path, records, branches.length > 1 ? 'OPTIONAL' : 'REQUIRED')
    }
    if (nonNull.length === 0) {
      throw new ConfigError(path, 'a union of only null has no Parquet type')
    }
    throw new ConfigError(
      path,
      `unions of several non-null types (${nonNull.map(describe).join(' | ')}) are not supported; ` +
        'use ["null", T] for an optional field, or one field per branch',
    )
  }
  return mapNonNull(type, name, path, records, 'REQUIRED')
}

function mapNonNull(
  type: AvroType,
  name: string,
  path: string,
  records: readonly string[],
  repetition: Repetition,
): SchemaNode {
  const typeName = type.typeName
  if (typeName.startsWith(logicalPrefix)) {
    return mapLogical(type as avsc.types.LogicalType, typeName.slice(logicalPrefix.length), name, path, repetition)
  }
  switch (typeName) {
    case 'null':
      throw new ConfigError(path, "a field of type 'null' has no Parquet type (parquet-avro refuses it too)")
    case 'boolean':
    case 'int':
    case 'long':
    case 'float':
    case 'double':
    case 'string':
    case 'bytes':
      return { kind: 'leaf', name, repetition, type: typeName }
    case 'enum':
      return { kind: 'leaf', name, repetition, type: 'enum', symbols: (type as avsc.types.EnumType).symbols }
    case 'fixed':
      return { kind: 'leaf', name, repetition, type: 'fixed', size: (type as avsc.types.FixedType).size }
    case 'array':
      return {
        kind: 'list',
        name,
        repetition,
        element: mapType((type as avsc.types.ArrayType).itemsType, 'element', `${path}[]`, records),
      }
    case 'map':
      return {
        kind: 'map',
        name,
        repetition,
        value: mapType((type as avsc.types.MapType).valuesType as AvroType, 'value', `${path}{}`, records),
      }
    case 'record':
    case 'error': {
      const record = type as AvroRecordType
      const recordName = record.name ?? ''
      if (records.includes(recordName)) {
        throw new ConfigError(path, `record '${recordName}' contains itself; Parquet cannot represent recursive types`)
      }
      const inner = [...records, recordName]
      return {
        kind: 'group',
        name,
        repetition,
        fields: record.fields.map((field) => mapType(field.type, field.name, joinPath(path, field.name), inner)),
      }
    }
    default:
      throw new ConfigError(path, `Avro type '${typeName}' is not supported`)
  }
}

function mapLogical(
  type: avsc.types.LogicalType,
  logicalType: string,
  name: string,
  path: string,
  repetition: Repetition,
): SchemaNode {
  const underlying = type.underlyingType.typeName
  const expect = (wanted: string, leafType: LeafType): SchemaNode => {
    if (underlying !== wanted) {
      throw new ConfigError(path, `logical type '${logicalType}' must annotate '${wanted}', got '${underlying}'`)
    }
    return { kind: 'leaf', name, repetition, type: leafType }
  }
  switch (logicalType) {
    case 'date':
      return expect('int', 'date')
    case 'timestamp-millis':
      return expect('long', 'timestamp-millis')
    case 'timestamp-micros':
      return expect('long', 'timestamp-micros')
    case 'uuid':
      // parquet-avro writes a uuid string as a plain UTF8 string unless told otherwise.
      return expect('string', 'string')
    case 'decimal':
      throw new ConfigError(
        path,
        "logical type 'decimal' cannot be written faithfully by this sink (JS numbers would round it); " +
          "declare the field as 'string' (Flink's reflect mapping writes BigDecimal as a string) " +
          "or as 'double' if rounding is acceptable",
      )
    default:
      throw new ConfigError(
        path,
        `logical type '${logicalType}' is not supported by the Parquet bulk format; ` +
          "supported: 'date', 'timestamp-millis', 'timestamp-micros', 'uuid'",
      )
  }
}

function describe(type: AvroType): string {
  return type.typeName.startsWith(logicalPrefix) ? type.typeName.slice(logicalPrefix.length) : (type.name ?? type.typeName)
}

function joinPath(parent: string, field: string): string {
  return `${parent}.${field}`
}
