import { afterEach, describe, expect, it, vi } from 'vitest'
import { SinkDriver } from './__fixtures__/drive-sink.js'
import { printSink } from './print-sink.js'

afterEach(() => {
  vi.restoreAllMocks()
})

async function printed<T>(options: Parameters<typeof printSink<T>>[0], parallelism: number, subtaskId: number, records: T[]): Promise<string[]> {
  const writes: string[] = []
  const sink = printSink<T>({ ...options, write: (text) => void writes.push(text) })
  const driver = await SinkDriver.start(sink, { parallelism })
  await driver.write(subtaskId, records)
  await driver.checkpoint(1)
  await driver.close()
  return writes
}

describe('printSink', () => {
  it('prints each record on its own line, without prefix at parallelism 1', async () => {
    expect(await printed({}, 1, 0, ['a', 'b'])).toEqual(['a\nb\n'])
  })

  it("prefixes the 1-based subtask number when parallel, as Flink's print()", async () => {
    expect(await printed({}, 3, 1, ['a', 'b'])).toEqual(['2> a\n2> b\n'])
  })

  it('puts the prefix first: "prefix> " alone, "prefix:2> " when parallel', async () => {
    expect(await printed({ prefix: 'out' }, 1, 0, ['a'])).toEqual(['out> a\n'])
    expect(await printed({ prefix: 'out' }, 4, 1, ['a'])).toEqual(['out:2> a\n'])
  })

  it('prints strings as they are and anything else as JSON, or with the given format', async () => {
    expect(await printed<unknown>({}, 1, 0, ['text', 42, { id: 1, tags: ['x'] }, null, [1, 2]])).toEqual([
      'text\n42\n{"id":1,"tags":["x"]}\nnull\n[1,2]\n',
    ])
    expect(await printed<{ id: number }>({ format: (value) => `#${value.id}` }, 1, 0, [{ id: 7 }])).toEqual(['#7\n'])
    const cyclic: Record<string, unknown> = {}
    cyclic.self = cyclic
    expect(await printed<unknown>({}, 1, 0, [10n, cyclic])).toEqual(['10\n[object Object]\n'])
  })

  it('makes one write per batch, none for an empty batch', async () => {
    const writes: string[] = []
    const driver = await SinkDriver.start(printSink<number>({ write: (text) => void writes.push(text) }), { parallelism: 1 })
    await driver.write(0, Array.from({ length: 1000 }, (_, index) => index))
    await driver.write(0, [])
    await driver.write(0, [1000])
    await driver.close()
    expect(writes).toHaveLength(2)
    expect(writes[0]?.split('\n')).toHaveLength(1001)
    expect(writes[1]).toBe('1000\n')
  })

  it('writes to stdout by default and to stderr when asked', async () => {
    const stdout = vi.spyOn(process.stdout, 'write').mockImplementation(() => true)
    const stderr = vi.spyOn(process.stderr, 'write').mockImplementation(() => true)
    const toStdout = await SinkDriver.start(printSink<string>(), { parallelism: 1 })
    await toStdout.write(0, ['to stdout'])
    const toStderr = await SinkDriver.start(printSink<string>({ stream: 'stderr', prefix: 'err' }), { parallelism: 1 })
    await toStderr.write(0, ['to stderr'])
    expect(stdout).toHaveBeenCalledWith('to stdout\n')
    expect(stderr).toHaveBeenCalledWith('err> to stderr\n')
  })

  it('waits for drain when the stream buffer is full', async () => {
    vi.spyOn(process.stdout, 'write').mockImplementation(() => false)
    const driver = await SinkDriver.start(printSink<string>(), { parallelism: 1 })
    let written = false
    const writing = driver.write(0, ['x']).then(() => {
      written = true
    })
    await new Promise((resolve) => setImmediate(resolve))
    expect(written).toBe(false)
    process.stdout.emit('drain')
    await writing
    expect(written).toBe(true)
  })

  it('validates its options', () => {
    expect(() => printSink({ stream: 'stdin' as never })).toThrowError("print.stream: expected 'stdout' | 'stderr', got 'stdin'")
    expect(() => printSink({ format: 'json' as never })).toThrowError(/print.format: expected a function/)
    expect(() => printSink({ stream: 'stderr', write: () => {} })).toThrowError(/print.write: cannot be combined with print.stream/)
    expect(() => printSink({ sinkIdentifier: 'x' } as never)).toThrowError(/print.sinkIdentifier: unknown option/)
  })
})
