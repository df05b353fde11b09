import { describe, expect, it } from 'vitest'
import { BasePathBucketAssigner, type BucketAssignerContext, validateBucketId } from './bucket-assigner.js'
import { InvalidBucketIdError } from './errors.js'

const context: BucketAssignerContext = { currentProcessingTime: () => 0, timestamp: () => undefined, currentWatermark: Number.NEGATIVE_INFINITY, recordIndex: 0 }

describe('BasePathBucketAssigner', () => {
  it("puts every record into the base path itself (bucket id '')", () => {
    const assigner = new BasePathBucketAssigner<string>()
    expect(assigner.getBucketId('a', context)).toBe('')
    expect(String(assigner)).toBe('BasePathBucketAssigner')
  })
})

describe('validateBucketId', () => {
  it.each(['', 'a', '2024-05-01--13', 'country=fr/day=2024-05-01', 'a/b/c', 'a..b', 'x.y'])('accepts %j', (id) => {
    expect(validateBucketId(id)).toBe(id)
  })

  it.each([
    ['/abs', /is absolute/],
    ['a//b', /empty path segment/],
    ['a/', /empty path segment/],
    ['../up', /'\.\.' segment/],
    ['a/../b', /'\.\.' segment/],
    ['a/./b', /'\.' segment/],
    ['.hidden', /starts with '\.'/],
    ['a\\b', /contains '\\'/],
    ['a\0b', /NUL/],
  ])('refuses %j with an error naming it', (id, reason) => {
    let error: unknown
    try {
      validateBucketId(id, 3)
    } catch (e) {
      error = e
    }
    expect(InvalidBucketIdError.isInstance(error)).toBe(true)
    const invalid = error as InvalidBucketIdError
    expect(invalid.bucketId).toBe(id)
    expect(invalid.message).toContain(JSON.stringify(id))
    expect(invalid.message).toContain('record 3 of the batch')
    expect(invalid.message).toMatch(reason)
  })

  it('refuses a bucket id that is not a string', () => {
    expect(() => validateBucketId(42)).toThrow(/bucket id 42 .*expected a string, got number/)
  })
})
