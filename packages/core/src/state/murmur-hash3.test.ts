import { describe, expect, it } from 'vitest'
import { Murmur3Hasher, murmurHash3 } from './murmur-hash3.js'

const utf8 = new TextEncoder()

describe('murmurHash3', () => {
  it('matches the reference MurmurHash3 x86_32 vectors', () => {
    expect(murmurHash3(utf8.encode(''))).toBe(0)
    expect(murmurHash3(utf8.encode(''), 1)).toBe(0x514e28b7)
    expect(murmurHash3(new Uint8Array([0, 0, 0, 0]))).toBe(0x2362f9de)
    expect(murmurHash3(utf8.encode('hello'))).toBe(0x248bfa47)
    expect(murmurHash3(utf8.encode('Hello, world!'), 1234)).toBe(0xfaf6cdb3)
    expect(murmurHash3(utf8.encode('The quick brown fox jumps over the lazy dog'))).toBe(0x2e4ff723)
  })

  it('writeString hashes exactly the bytes TextEncoder produces, lone surrogates included', () => {
    const samples = ['', 'a', 'abcd', 'abcde', 'héllo', '日本語テキスト', '🎉🎉', 'x\ud800y', '\udc00', 'end\ud83d', '\u007f\u0080\u07ff\u0800\uffff']
    for (let index = 0; index < 200; index++) {
      let sample = ''
      const length = index % 13
      for (let position = 0; position < length; position++) {
        sample += String.fromCharCode(Math.floor(((index * 7919 + position * 104729) % 65536)))
      }
      samples.push(sample)
    }
    const hasher = new Murmur3Hasher()
    for (const sample of samples) {
      hasher.reset(42)
      hasher.writeString(sample)
      expect(hasher.digest(), JSON.stringify(sample)).toBe(murmurHash3(utf8.encode(sample), 42))
    }
  })

  it('writeUint32 writes big-endian bytes at any block offset', () => {
    const hasher = new Murmur3Hasher()
    for (let lead = 0; lead < 8; lead++) {
      const bytes = new Uint8Array(lead + 9)
      hasher.reset(7)
      for (let index = 0; index < lead; index++) {
        bytes[index] = 0xa0 + index
        hasher.writeByte(0xa0 + index)
      }
      hasher.writeUint32(0xdeadbeef)
      hasher.writeByte(0x5c)
      hasher.writeUint32(0x01020304)
      const view = new DataView(bytes.buffer)
      view.setUint32(lead, 0xdeadbeef, false)
      bytes[lead + 4] = 0x5c
      const tail = new Uint8Array(bytes.length + 4)
      tail.set(bytes)
      new DataView(tail.buffer).setUint32(lead + 5, 0x01020304, false)
      expect(hasher.digest(), `lead ${lead}`).toBe(murmurHash3(tail.subarray(0, lead + 9), 7))
    }
  })

  it('writeUint32 and writeFloat64 write big-endian bytes', () => {
    const hasher = new Murmur3Hasher()
    hasher.reset(0)
    hasher.writeUint32(0x01020304)
    hasher.writeFloat64(1.5)
    const bytes = new Uint8Array(12)
    const view = new DataView(bytes.buffer)
    view.setUint32(0, 0x01020304, false)
    view.setFloat64(4, 1.5, false)
    expect(hasher.digest()).toBe(murmurHash3(bytes))
  })
})
