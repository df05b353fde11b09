/**
 * MurmurHash3 x86_32 (Austin Appleby, public domain), fed byte by byte so that keys can be hashed from
 * their canonical byte form without first building that form in a buffer.
 *
 * The result must never change between releases: key groups of every checkpoint ever written are
 * derived from it. The test pins it to the reference vectors.
 *
 * Not reentrant: one instance hashes one input at a time, from `reset` to `digest`, synchronously.
 */
export class Murmur3Hasher {
  private hash = 0
  /** Bytes of the block being filled, little-endian. */
  private block = 0
  private blockLength = 0
  private length = 0
  private scratch: DataView | undefined

  reset(seed = 0): void {
    this.hash = seed | 0
    this.block = 0
    this.blockLength = 0
    this.length = 0
  }

  writeByte(byte: number): void {
    this.block |= (byte & 0xff) << (this.blockLength << 3)
    this.length++
    if (++this.blockLength === 4) {
      this.hash = mixBlock(this.hash, this.block)
      this.block = 0
      this.blockLength = 0
    }
  }

  /** Writes the 4 bytes of an unsigned 32-bit integer, big-endian. */
  writeUint32(value: number): void {
    // The 4 bytes in stream order, read as a little-endian word (a byte swap of `value`).
    const word = ((value & 0xff) << 24) | ((value & 0xff00) << 8) | ((value >>> 8) & 0xff00) | (value >>> 24)
    const shift = this.blockLength << 3
    this.length += 4
    if (shift === 0) {
      this.hash = mixBlock(this.hash, word)
    } else {
      // Completes the pending block with the first bytes; the rest start the next block.
      this.hash = mixBlock(this.hash, this.block | (word << shift))
      this.block = word >>> (32 - shift)
    }
  }

  /** Writes the 8 bytes of an IEEE 754 double, big-endian. */
  writeFloat64(value: number): void {
    this.scratch ??= new DataView(new ArrayBuffer(8))
    this.scratch.setFloat64(0, value, false)
    this.writeUint32(this.scratch.getUint32(0, false))
    this.writeUint32(this.scratch.getUint32(4, false))
  }

  /**
   * Writes the UTF-8 encoding of a string, as `TextEncoder` would produce it (a lone surrogate becomes
   * U+FFFD), without allocating. ASCII characters take a fast path on local variables.
   */
  writeString(value: string): void {
    const length = value.length
    let hash = this.hash
    let block = this.block
    let blockLength = this.blockLength
    let byteCount = this.length
    for (let index = 0; index < length; index++) {
      let code = value.charCodeAt(index)
      if (code < 0x80) {
        block |= code << (blockLength << 3)
        byteCount++
        if (++blockLength === 4) {
          hash = mixBlock(hash, block)
          block = 0
          blockLength = 0
        }
        continue
      }
      // Rare multi-byte characters go through writeByte on the fields.
      this.hash = hash
      this.block = block
      this.blockLength = blockLength
      this.length = byteCount
      if (code < 0x800) {
        this.writeByte(0xc0 | (code >> 6))
        this.writeByte(0x80 | (code & 0x3f))
      } else {
        const next = index + 1 < length ? value.charCodeAt(index + 1) : 0
        if (code >= 0xd800 && code <= 0xdbff && next >= 0xdc00 && next <= 0xdfff) {
          const codePoint = ((code - 0xd800) << 10) + (next - 0xdc00) + 0x10000
          this.writeByte(0xf0 | (codePoint >> 18))
          this.writeByte(0x80 | ((codePoint >> 12) & 0x3f))
          this.writeByte(0x80 | ((codePoint >> 6) & 0x3f))
          this.writeByte(0x80 | (codePoint & 0x3f))
          index++
        } else {
          if (code >= 0xd800 && code <= 0xdfff) code = 0xfffd
          this.writeByte(0xe0 | (code >> 12))
          this.writeByte(0x80 | ((code >> 6) & 0x3f))
          this.writeByte(0x80 | (code & 0x3f))
        }
      }
      hash = this.hash
      block = this.block
      blockLength = this.blockLength
      byteCount = this.length
    }
    this.hash = hash
    this.block = block
    this.blockLength = blockLength
    this.length = byteCount
  }

  /** The hash of everything written since `reset`, as an unsigned 32-bit integer. */
  digest(): number {
    let hash = this.hash
    if (this.blockLength > 0) hash ^= scrambleBlock(this.block)
    hash ^= this.length
    return finalMix(hash) >>> 0
  }
}

/** MurmurHash3 x86_32 of `bytes`, as an unsigned 32-bit integer. */
export function murmurHash3(bytes: Uint8Array, seed = 0): number {
  const hasher = new Murmur3Hasher()
  hasher.reset(seed)
  for (let index = 0; index < bytes.length; index++) hasher.writeByte(bytes[index] as number)
  return hasher.digest()
}

function scrambleBlock(block: number): number {
  let scrambled = Math.imul(block, 0xcc9e2d51)
  scrambled = (scrambled << 15) | (scrambled >>> 17)
  return Math.imul(scrambled, 0x1b873593)
}

/** One 4-byte block of the body: the hash after `block`. Also Flink's `MathUtils.murmurHash` core step. */
export function mixBlock(hash: number, block: number): number {
  let mixed = hash ^ scrambleBlock(block)
  mixed = (mixed << 13) | (mixed >>> 19)
  return (Math.imul(mixed, 5) + 0xe6546b64) | 0
}

/** The finalisation mix (fmix32): forces every input bit to affect every output bit. */
export function finalMix(hash: number): number {
  let mixed = hash ^ (hash >>> 16)
  mixed = Math.imul(mixed, 0x85ebca6b)
  mixed ^= mixed >>> 13
  mixed = Math.imul(mixed, 0xc2b2ae35)
  return mixed ^ (mixed >>> 16)
}
