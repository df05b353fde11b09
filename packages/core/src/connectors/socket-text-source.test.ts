import { type Server, type Socket, createServer } from 'node:net'
import { setTimeout as sleep } from 'node:timers/promises'
import { afterEach, describe, expect, it } from 'vitest'
import type { ReaderOutput } from '../api/source-reader.js'
import { SluiceError } from '../errors.js'
import { SourceDriver } from './__fixtures__/drive-source.js'
import { socketTextSource } from './socket-text-source.js'

interface TestServer {
  readonly port: number
  readonly connections: number
  close(): Promise<void>
}

const servers: TestServer[] = []

/** A real TCP server on 127.0.0.1 and a free port; `serve` runs for each connection. */
async function startServer(serve: (socket: Socket, connectionNumber: number) => Promise<void> | void): Promise<TestServer> {
  const sockets = new Set<Socket>()
  let connections = 0
  const server: Server = createServer((socket) => {
    sockets.add(socket)
    socket.on('close', () => sockets.delete(socket))
    socket.on('error', () => {})
    connections++
    void serve(socket, connections)
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const address = server.address()
  if (address === null || typeof address === 'string') throw new Error('no TCP address')
  const testServer: TestServer = {
    port: address.port,
    get connections() {
      return connections
    },
    close: () =>
      new Promise<void>((resolve) => {
        for (const socket of sockets) socket.destroy()
        server.close(() => resolve())
      }),
  }
  servers.push(testServer)
  return testServer
}

/** Writes the pieces one by one with a pause between them, so the reader sees them as separate chunks. */
async function writeInPieces(socket: Socket, pieces: Array<string | Buffer>): Promise<void> {
  for (const piece of pieces) {
    socket.write(piece)
    await sleep(15)
  }
}

async function freePort(): Promise<number> {
  const server = createServer()
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const address = server.address()
  await new Promise<void>((resolve) => server.close(() => resolve()))
  if (address === null || typeof address === 'string') throw new Error('no TCP address')
  return address.port
}

afterEach(async () => {
  await Promise.all(servers.splice(0).map((server) => server.close()))
})

describe('socketTextSource', () => {
  it('emits lines cut anywhere by chunks, drops \\r before \\n, and ends with the last partial line', async () => {
    const euro = Buffer.from('€', 'utf8') // three bytes: cut between the chunks below
    const server = await startServer(async (socket) => {
      await writeInPieces(socket, [
        'hello\r',
        '\nwor',
        'ld\n',
        Buffer.concat([Buffer.from('caf'), Buffer.from([0xc3])]),
        Buffer.concat([Buffer.from([0xa9]), Buffer.from('\n10 '), euro.subarray(0, 1)]),
        Buffer.concat([euro.subarray(1), Buffer.from('\n\nno newline at the end')]),
      ])
      socket.end()
    })
    const source = socketTextSource('127.0.0.1', server.port)
    expect(source.boundedness).toBe('CONTINUOUS_UNBOUNDED')
    const driver = await SourceDriver.start(source, { parallelism: 1 })
    await driver.run()
    await driver.close()
    expect(driver.ended).toBe(true)
    expect(driver.records.map((record) => record.value)).toEqual(['hello', 'world', 'café', '10 €', '', 'no newline at the end'])
    expect(driver.records.every((record) => record.timestamp === undefined)).toBe(true)
  })

  it('reads only on subtask 0; the other subtasks end at once', async () => {
    const server = await startServer((socket) => {
      socket.end('a\nb\n')
    })
    const driver = await SourceDriver.start(socketTextSource('127.0.0.1', server.port), { parallelism: 3 })
    expect(driver.enumeratorCalls.filter((call) => call.kind === 'assignSplits').map((call) => call.subtaskId)).toEqual([0])
    await driver.run()
    await driver.close()
    expect(driver.valuesBySubtask()).toEqual([['a', 'b'], [], []])
    expect(server.connections).toBe(1)
  })

  it('splits on a custom multi-character delimiter, also when a chunk cuts the delimiter', async () => {
    const server = await startServer(async (socket) => {
      await writeInPieces(socket, ['one|', '|two||thr', 'ee|', '|'])
      socket.end()
    })
    const driver = await SourceDriver.start(socketTextSource('127.0.0.1', server.port, { delimiter: '||' }), { parallelism: 1 })
    await driver.run()
    await driver.close()
    expect(driver.records.map((record) => record.value)).toEqual(['one', 'two', 'three'])
  })

  it('reconnects after the connection closes while retries are left, then ends', async () => {
    const server = await startServer((socket, connectionNumber) => {
      socket.end(`connection ${connectionNumber}\npartial ${connectionNumber}`)
    })
    const driver = await SourceDriver.start(socketTextSource('127.0.0.1', server.port, { maxRetry: 2, retryDelayMs: 10 }), {
      parallelism: 1,
    })
    await driver.run()
    await driver.close()
    expect(driver.records.map((record) => record.value)).toEqual([
      'connection 1',
      'partial 1',
      'connection 2',
      'partial 2',
      'connection 3',
      'partial 3',
    ])
    expect(server.connections).toBe(3)
  })

  it('fails the job with a retriable SluiceError when it cannot connect and no retry is left', async () => {
    const port = await freePort()
    const driver = await SourceDriver.start(socketTextSource('127.0.0.1', port, { maxRetry: 1, retryDelayMs: 10 }), { parallelism: 1 })
    const failure = await driver.run().then(
      () => undefined,
      (error: unknown) => error,
    )
    await driver.close()
    expect(SluiceError.isInstance(failure)).toBe(true)
    expect(failure).toMatchObject({ code: 'SOCKET_SOURCE_FAILED', retriable: true })
    expect((failure as Error).message).toMatch(new RegExp(`127.0.0.1:${port}: connection failed after 2 attempt\\(s\\): .*ECONNREFUSED`))
  })

  it('resolves isAvailable when data arrives', async () => {
    let serverSide: Socket | undefined
    const server = await startServer((socket) => {
      serverSide = socket
    })
    const reader = socketTextSource('127.0.0.1', server.port).createReader({ subtaskId: 0, parallelism: 1, sendSplitRequest: () => {} })
    reader.addSplits([{ splitId: 'socket', host: '127.0.0.1', port: server.port }])
    reader.notifyNoMoreSplits()
    const values: string[] = []
    const output: ReaderOutput<string> = { collect: (value) => void values.push(value), emitWatermark: () => {} }
    expect(reader.pollNext(output)).toBe('NOTHING_AVAILABLE')
    const available = reader.isAvailable()
    while (serverSide === undefined) await sleep(5)
    serverSide.write('ping\n')
    await available
    expect(reader.pollNext(output)).toBe('NOTHING_AVAILABLE')
    expect(values).toEqual(['ping'])
    reader.close()
  })

  it('pauses a fast sender and still delivers every line in order', async () => {
    const lineCount = 20_000
    const server = await startServer((socket) => {
      const text = Array.from({ length: lineCount }, (_, index) => `line ${index}`).join('\n')
      socket.end(text)
    })
    const driver = await SourceDriver.start(socketTextSource('127.0.0.1', server.port, { batchSize: 16 }), { parallelism: 1 })
    await driver.run()
    await driver.close()
    const values = driver.records.map((record) => record.value)
    expect(values).toHaveLength(lineCount)
    expect(values[0]).toBe('line 0')
    expect(values[lineCount - 1]).toBe(`line ${lineCount - 1}`)
    expect(values.every((value, index) => value === `line ${index}`)).toBe(true)
  })

  it('checkpoints only the address, so a restore reconnects and loses what was in flight (at-most-once)', async () => {
    const server = await startServer(async (socket, connectionNumber) => {
      if (connectionNumber === 1) {
        socket.write('before checkpoint\n')
        await sleep(50)
        socket.write('after checkpoint, lost\n')
      } else {
        socket.end('after restore\n')
      }
    })
    const source = socketTextSource('127.0.0.1', server.port)
    const first = await SourceDriver.start(source, { parallelism: 2 })
    await first.run(() => first.records.length >= 1)
    const checkpoint = first.snapshot(1)
    await first.run(() => first.records.length >= 2)
    await first.close()
    expect(first.records.map((record) => record.value)).toEqual(['before checkpoint', 'after checkpoint, lost'])

    const serializer = source.splitSerializer()
    const [restoredSplit] = (checkpoint.readers[0] ?? []).map(({ version, bytes }) => serializer.deserialize(version, bytes))
    expect(restoredSplit).toEqual({ splitId: `socket-127.0.0.1:${server.port}`, host: '127.0.0.1', port: server.port })
    expect(checkpoint.readers[1]).toEqual([])

    const restored = await SourceDriver.start(source, { parallelism: 2, restoreFrom: checkpoint })
    await restored.run()
    await restored.close()
    expect(restored.records.map((record) => record.value)).toEqual(['after restore'])
  })

  it('validates its options when built', () => {
    expect(() => socketTextSource('', 9999)).toThrowError("socket.host: expected a non-empty string, got ''")
    expect(() => socketTextSource('localhost', 70000)).toThrowError('socket.port: expected an integer in [1, 65535], got 70000')
    expect(() => socketTextSource('localhost', 9999, { maxRetry: -2 })).toThrowError(/socket.maxRetry: expected an integer in \[-1, /)
    expect(() => socketTextSource('localhost', 9999, { delimiter: '' })).toThrowError(/socket.delimiter: expected a non-empty string/)
    expect(() => socketTextSource('localhost', 9999, { retries: 3 } as never)).toThrowError(/socket.retries: unknown option/)
  })
})
