import { describe, expect, it } from 'vitest'
import { OutputBuffer } from '../output-buffer.js'
import type { Timestamps } from '../stream-element.js'
import type { OperatorContext, StreamOperator } from '../stream-operator.js'
import { FilterOperator, FusedMapFilterOperator, fuseStatelessOperators, MapOperator } from './stateless-operators.js'

async function opened(operator: StreamOperator): Promise<OutputBuffer> {
  const output = new OutputBuffer()
  await operator.open({
    jobName: 'test',
    taskName: 'test (1/1)',
    subtaskId: 0,
    parallelism: 1,
    maxParallelism: 128,
    attemptNumber: 0,
    runtimeMode: 'STREAMING',
    checkpointing: undefined,
    restoredCheckpointId: undefined,
    restoredState: undefined,
    output,
    processingTime: { now: () => 0, requestWakeup: () => {} },
    currentWatermark: () => Number.NEGATIVE_INFINITY,
    warn: () => {},
  } as OperatorContext)
  return output
}

/** Runs batches through the operator and returns each emitted batch, checked to be a dense array. */
async function run(operator: StreamOperator, batches: { values: number[]; timestamps: Timestamps }[]) {
  const output = await opened(operator)
  return batches.map(({ values, timestamps }) => {
    operator.processBatch(values, timestamps, 1)
    const taken = output.take()
    // Every index below the length holds a record: nothing left over from cutting the array to size.
    expect(Object.keys(taken.values)).toHaveLength(taken.values.length)
    if (taken.timestamps !== null) expect(taken.timestamps).toHaveLength(taken.values.length)
    return taken
  })
}

const even = (value: unknown) => (value as number) % 2 === 0
const times10 = (value: unknown) => (value as number) * 10

describe('stateless operators', () => {
  const batches = [
    { values: [1, 2, 3, 4, 5, 6], timestamps: [10, 20, 30, undefined, 50, 60] },
    { values: [1, 3, 5], timestamps: [1, 3, 5] },
    { values: [2, 4], timestamps: null },
    { values: [], timestamps: null },
  ]

  it('filter keeps the records (and their timestamps) the predicate holds for', async () => {
    expect(await run(new FilterOperator('f', 'f', even), batches)).toEqual([
      { values: [2, 4, 6], timestamps: [20, undefined, 60] },
      { values: [], timestamps: [] },
      { values: [2, 4], timestamps: null },
      { values: [], timestamps: null },
    ])
  })

  it('map then filter, fused into one pass, equals them one after the other', async () => {
    const operators = () => [new MapOperator('m', 'm', (value) => (value as number) + 1), new FilterOperator('f', 'f', even), new MapOperator('m2', 'm2', times10)]
    const { operators: fused } = fuseStatelessOperators(operators())
    expect(fused).toHaveLength(1)
    expect(fused[0]).toBeInstanceOf(FusedMapFilterOperator)
    const fusedResult = await run(fused[0] as StreamOperator, batches)
    expect(fusedResult).toEqual([
      { values: [20, 40, 60], timestamps: [10, 30, 50] },
      { values: [20, 40, 60], timestamps: [1, 3, 5] },
      { values: [], timestamps: null },
      { values: [], timestamps: null },
    ])
    const [plus1, keepEven, scale] = operators() as [MapOperator, FilterOperator, MapOperator]
    const stepwise = []
    for (const batch of batches) {
      const [a] = await run(plus1, [batch])
      const [b] = await run(keepEven, [a as { values: number[]; timestamps: Timestamps }])
      const [c] = await run(scale, [b as { values: number[]; timestamps: Timestamps }])
      stepwise.push(c)
    }
    expect(fusedResult).toEqual(stepwise)
  })
})
