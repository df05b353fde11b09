import { ConfigError } from '@sluice/core'
import { describe, expect, it } from 'vitest'
import { parquetBulkFormat, parquetBulkFormatDefaults } from './parquet-bulk-format.js'
import type { ParquetBulkFormatOptions } from './parquet-bulk-format.js'

const avroSchema = { type: 'record', name: 'R', fields: [{ name: 'a', type: 'int' }] }

/** The ConfigError `validate()` throws for these options. */
function validationError(options: unknown): ConfigError {
  const format = parquetBulkFormat(options as ParquetBulkFormatOptions)
  try {
    format.validate()
  } catch (error) {
    if (ConfigError.isInstance(error)) return error
    throw error
  }
  throw new Error('expected validate() to throw')
}

describe('parquetBulkFormat options', () => {
  /**
   * Purpose: options are checked once, when the sink is built, with the option path in the error.
   * Pass: each bad option gives a ConfigError (code INVALID_CONFIG) whose path and message name it.
   */
  it.each([
    [{}, 'parquetBulkFormat', 'give exactly one of avroSchema and parquetSchema, got neither'],
    [{ avroSchema, parquetSchema: { a: { type: 'INT32' } } }, 'parquetBulkFormat', 'got both'],
    [{ avroSchema, compression: 'LZ4' }, 'parquetBulkFormat.compression', `expected 'UNCOMPRESSED' | 'SNAPPY' | 'GZIP', got "LZ4"`],
    [{ avroSchema, compression: 'snappy' }, 'parquetBulkFormat.compression', 'got "snappy"'],
    [{ avroSchema, writer: 'fast' }, 'parquetBulkFormat.writer', `expected 'columnar' | 'parquetjs', got "fast"`],
    [{ avroSchema, rowGroupSize: 0 }, 'parquetBulkFormat.rowGroupSize', 'an integer from 1 to 16777216, got 0'],
    [{ avroSchema, rowGroupSize: 1.5 }, 'parquetBulkFormat.rowGroupSize', 'got 1.5'],
    [{ avroSchema, rowGroupSize: '1000' }, 'parquetBulkFormat.rowGroupSize', 'got "1000"'],
    [{ avroSchema, rowGroupSize: 128 * 1024 * 1024 }, 'parquetBulkFormat.rowGroupSize', 'got 134217728'],
    [{ avroSchema, compresion: 'GZIP' }, 'parquetBulkFormat.compresion', 'unknown option'],
  ])('rejects %j at build time', (options, path, message) => {
    const error = validationError(options)
    expect(error.code).toBe('INVALID_CONFIG')
    expect(error.path).toBe(path)
    expect(error.message).toContain(message)
  })

  /**
   * Purpose: building the format does no work; validate() does, once, and createWriter reports the same error.
   * Pass: the factory does not throw on a bad schema; validate() throws; createWriter rejects with a ConfigError.
   */
  it('checks nothing until validate(), and createWriter reports the same error', async () => {
    const format = parquetBulkFormat({ avroSchema: { type: 'record', name: 'R', fields: [{ name: 'x', type: 'Nope' }] } })
    expect(() => format.validate()).toThrow('parquetBulkFormat.avroSchema: not a valid Avro schema: undefined type name: Nope')
    await expect(format.createWriter('/nonexistent/never-created.parquet')).rejects.toSatisfy(ConfigError.isInstance)
  })

  /** Purpose: the defaults are the documented ones. Pass: columnar writer, GZIP, 65 536 rows, `.parquet`. */
  it('has the documented defaults', () => {
    expect(parquetBulkFormatDefaults).toEqual({ compression: 'GZIP', writer: 'columnar', rowGroupSize: 65_536 })
    const format = parquetBulkFormat({ avroSchema })
    expect(format.extension).toBe('.parquet')
    expect(() => format.validate()).not.toThrow()
  })
})
