import { ConfigError } from '@sluice/core'
import { describe, expect, it } from 'vitest'
import { JsonLinesEncoder, SimpleStringEncoder } from './encoder.js'

describe('SimpleStringEncoder', () => {
  it('writes String(record) and a line break, as UTF-8 text by default', () => {
    const encoder = new SimpleStringEncoder<unknown>()
    expect(encoder.encode('héllo')).toBe('héllo\n')
    expect(encoder.encode(42)).toBe('42\n')
    expect(encoder.encode({ toString: () => 'custom' })).toBe('custom\n')
    expect(new SimpleStringEncoder('UTF-8' as 'utf-8').charset).toBe('utf-8')
  })

  it('converts other charsets to bytes and uses a custom delimiter', () => {
    const latin1 = new SimpleStringEncoder<string>({ charset: 'latin1', delimiter: '\r\n' })
    expect(Buffer.from(latin1.encode('é') as Uint8Array)).toEqual(Buffer.from([0xe9, 0x0d, 0x0a]))
  })

  it('rejects null and undefined, as Flink does', () => {
    const encoder = new SimpleStringEncoder<unknown>()
    expect(() => encoder.encode(null)).toThrow(/cannot encode null/)
    expect(() => encoder.encode(undefined)).toThrow(/cannot encode undefined/)
  })

  it('refuses unknown options with errors naming them', () => {
    const error = (() => {
      try {
        new SimpleStringEncoder({ charset: 'ebcdic' as 'utf-8' })
      } catch (e) {
        return e
      }
    })()
    expect(ConfigError.isInstance(error) && error.path).toBe('simpleStringEncoder.charset')
    expect(() => new SimpleStringEncoder({ delimiter: '' })).toThrow(/simpleStringEncoder.delimiter/)
    expect(() => new SimpleStringEncoder({ charst: 'utf-8' } as never)).toThrow(/simpleStringEncoder.charst: unknown option/)
  })
})

describe('JsonLinesEncoder', () => {
  it('writes one JSON document per line, with line breaks inside strings escaped', () => {
    const encoder = new JsonLinesEncoder<unknown>()
    expect(encoder.encode({ id: 1, text: 'a\nb' })).toBe('{"id":1,"text":"a\\nb"}\n')
    expect(encoder.encode([1, null])).toBe('[1,null]\n')
  })

  it('rejects what JSON cannot hold', () => {
    const encoder = new JsonLinesEncoder<unknown>()
    expect(() => encoder.encode(undefined)).toThrow(/JSON cannot represent undefined/)
    expect(() => encoder.encode(() => 1)).toThrow(/a function/)
    expect(() => encoder.encode({ big: 1n })).toThrow(/BigInt/)
  })
})
