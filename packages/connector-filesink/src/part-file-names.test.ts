import { ConfigError } from '@sluice/core'
import { describe, expect, it } from 'vitest'
import { OutputFileConfig } from './output-file-config.js'
import { PartFileNaming } from './part-file-names.js'

describe('part file names', () => {
  it('names finished files <prefix>-<subtask>-<counter><suffix>, as the seed shows', () => {
    expect(new PartFileNaming('part', '').finishedName(0, 7)).toBe('part-0-7')
    expect(new PartFileNaming('prefix', '.txt').finishedName(3, 12)).toBe('prefix-3-12.txt')
  })

  it('hides in-progress files behind a leading dot, with epoch and a random part', () => {
    const naming = new PartFileNaming('prefix', '.txt')
    const name = naming.hiddenName(1, 4, 9)
    expect(name).toMatch(/^\.prefix-1-4\.txt\.inprogress\.9\.[0-9a-f]{8}$/)
    expect(naming.hiddenName(1, 4, 9)).not.toBe(name)
  })

  it('reads subtask, counter and epoch back from names, and ignores other files', () => {
    const naming = new PartFileNaming('part', '.csv')
    expect(naming.parse('part-2-15.csv')).toEqual({ kind: 'finished', subtask: 2, counter: 15, epoch: undefined })
    expect(naming.parse(naming.hiddenName(0, 3, 42))).toEqual({ kind: 'hidden', subtask: 0, counter: 3, epoch: 42 })
    for (const other of ['part-2-15', 'part-2-15.csv.bak', 'other-2-15.csv', '.part-2-15.csv', 'part-x-1.csv', '_SUCCESS']) {
      expect(naming.parse(other), other).toBeUndefined()
    }
  })

  it('escapes regular-expression characters of prefix and suffix', () => {
    const naming = new PartFileNaming('a.b+c', '(1)')
    expect(naming.parse('a.b+c-0-1(1)')).toMatchObject({ subtask: 0, counter: 1 })
    expect(naming.parse('aXb+c-0-1(1)')).toBeUndefined()
  })
})

describe('OutputFileConfig', () => {
  it('builds like Flink, with defaults part and no suffix', () => {
    const config = OutputFileConfig.builder().withPartPrefix('prefix').withPartSuffix('.txt').build()
    expect([config.partPrefix, config.partSuffix]).toEqual(['prefix', '.txt'])
    const defaults = OutputFileConfig.create()
    expect([defaults.partPrefix, defaults.partSuffix]).toEqual(['part', undefined])
  })

  it.each([
    [{ partPrefix: '' }, 'outputFileConfig.partPrefix', /non-empty/],
    [{ partPrefix: '.part' }, 'outputFileConfig.partPrefix', /must not start with '\.'/],
    [{ partPrefix: 'a/b' }, 'outputFileConfig.partPrefix', /must not contain/],
    [{ partSuffix: '1.txt' }, 'outputFileConfig.partSuffix', /must not start with a digit/],
    [{ partSuffix: 'x/y' }, 'outputFileConfig.partSuffix', /must not contain/],
    [{ prefix: 'p' }, 'outputFileConfig.prefix', /unknown option/],
  ])('refuses %j naming %s', (options, path, reason) => {
    let error: unknown
    try {
      OutputFileConfig.create(options as never)
    } catch (e) {
      error = e
    }
    expect(ConfigError.isInstance(error) && error.path).toBe(path)
    expect((error as Error).message).toMatch(reason)
  })
})
