import { JobGraphError } from '../errors.js'
import type { Partitioning } from './partitioner.js'
import {
  isPhysical,
  operatorUid,
  type PhysicalTransformation,
  type Transformation,
} from './transformation.js'

/** An edge between two physical operators, after resolving unions, partitionings and side outputs. */
export interface OperatorEdge {
  readonly from: PhysicalTransformation
  readonly to: PhysicalTransformation
  readonly partitioning: Partitioning
  readonly tagId: string | undefined
  readonly inputIndex: 1 | 2
}

/** A chain of operators run by one task per subtask. */
export interface JobVertex {
  readonly id: number
  readonly name: string
  readonly parallelism: number
  readonly operators: PhysicalTransformation[]
  readonly uids: string[]
}

/** An edge between vertices: from an operator of the producer's chain to the consumer's head. */
export interface VertexEdge {
  readonly from: JobVertex
  /** Index in the producer's chain of the operator whose output this is. */
  readonly fromOperatorIndex: number
  readonly to: JobVertex
  readonly partitioning: Partitioning
  readonly tagId: string | undefined
  readonly inputIndex: 1 | 2
}

export interface JobGraph {
  readonly vertices: JobVertex[]
  readonly edges: VertexEdge[]
  readonly sources: PhysicalTransformation[]
}

/**
 * Turns the logical plan reachable from the sinks into vertices (operator chains) and edges.
 * Operators are chained when the edge between them is a forward edge of equal parallelism, the
 * producer has no other main-output consumer, and the consumer has no other input (as in Flink).
 */
export function buildJobGraph(sinks: PhysicalTransformation[], defaultParallelism: number, chaining: boolean): JobGraph {
  if (sinks.length === 0) throw new JobGraphError('the job has no sink: add one with sinkTo(...), print() or a collect sink')
  const physical = new Map<number, PhysicalTransformation>()
  const edges: OperatorEdge[] = []
  const visit = (t: PhysicalTransformation): void => {
    if (physical.has(t.id)) return
    physical.set(t.id, t)
    const inputs: [Transformation, 1 | 2][] =
      t.kind === 'one-input' ? [[t.input, 1]] : t.kind === 'two-input' ? [[t.input1, 1], [t.input2, 2]] : []
    for (const [input, inputIndex] of inputs) {
      for (const resolved of resolveInputs(input, undefined, undefined)) {
        edges.push({ from: resolved.from, to: t, partitioning: resolved.partitioning ?? { type: 'forward' }, tagId: resolved.tagId, inputIndex })
        ;(resolved as { explicit?: boolean }).explicit = resolved.partitioning !== undefined
        visit(resolved.from)
      }
    }
  }
  for (const sink of sinks) visit(sink)

  const parallelismOf = (t: PhysicalTransformation) => t.parallelism ?? defaultParallelism
  const uids = new Map<string, PhysicalTransformation>()
  for (const t of physical.values()) {
    const uid = operatorUid(t)
    const other = uids.get(uid)
    if (other) throw new JobGraphError(`operators '${other.name}' and '${t.name}' have the same uid '${uid}'; uids must be unique`)
    uids.set(uid, t)
  }

  // An implicit forward edge between different parallelisms becomes rebalance (Flink does the same).
  const resolvedEdges = edges.map((edge) => {
    if (edge.partitioning.type === 'forward' && parallelismOf(edge.from) !== parallelismOf(edge.to)) {
      return { ...edge, partitioning: { type: 'rebalance' } as Partitioning }
    }
    return edge
  })

  const outgoing = (t: PhysicalTransformation) => resolvedEdges.filter((e) => e.from === t)
  const incoming = (t: PhysicalTransformation) => resolvedEdges.filter((e) => e.to === t)
  const chainable = (edge: OperatorEdge): boolean =>
    chaining &&
    edge.partitioning.type === 'forward' &&
    edge.tagId === undefined &&
    edge.to.kind === 'one-input' &&
    incoming(edge.to).length === 1 &&
    outgoing(edge.from).filter((e) => e.tagId === undefined).length === 1 &&
    parallelismOf(edge.from) === parallelismOf(edge.to)

  // Heads: operators not chained to their producer. Ordered by id for stable task numbering.
  const ordered = [...physical.values()].sort((a, b) => a.id - b.id)
  const vertexOf = new Map<number, { vertex: JobVertex; index: number }>()
  const vertices: JobVertex[] = []
  for (const t of ordered) {
    const inputsOfT = incoming(t)
    if (inputsOfT.length === 1 && chainable(inputsOfT[0] as OperatorEdge)) continue
    const chain: PhysicalTransformation[] = [t]
    let tail = t
    while (true) {
      const next = outgoing(tail).filter((e) => e.tagId === undefined)
      if (next.length !== 1 || !chainable(next[0] as OperatorEdge)) break
      tail = (next[0] as OperatorEdge).to
      chain.push(tail)
    }
    const vertex: JobVertex = {
      id: vertices.length,
      name: chain.map((op) => (op.kind === 'source' ? `Source: ${op.name}` : op.name)).join(' -> '),
      parallelism: parallelismOf(t),
      operators: chain,
      uids: chain.map(operatorUid),
    }
    vertices.push(vertex)
    for (const [index, op] of chain.entries()) vertexOf.set(op.id, { vertex, index })
  }

  const vertexEdges: VertexEdge[] = []
  for (const edge of resolvedEdges) {
    const from = vertexOf.get(edge.from.id)
    const to = vertexOf.get(edge.to.id)
    if (!from || !to) throw new JobGraphError(`internal: operator '${edge.from.name}' or '${edge.to.name}' is not in a vertex`)
    if (from.vertex === to.vertex) continue // chained
    if (edge.partitioning.type === 'forward' && from.vertex.parallelism !== to.vertex.parallelism) {
      throw new JobGraphError(`forward edge from '${edge.from.name}' to '${edge.to.name}' needs equal parallelism`)
    }
    vertexEdges.push({
      from: from.vertex,
      fromOperatorIndex: from.index,
      to: to.vertex,
      partitioning: edge.partitioning,
      tagId: edge.tagId,
      inputIndex: edge.inputIndex,
    })
  }
  const sources = ordered.filter((t) => t.kind === 'source')
  return { vertices, edges: vertexEdges, sources }
}

interface ResolvedInput {
  from: PhysicalTransformation
  partitioning: Partitioning | undefined
  tagId: string | undefined
}

function resolveInputs(t: Transformation, partitioning: Partitioning | undefined, tagId: string | undefined): ResolvedInput[] {
  if (isPhysical(t)) return [{ from: t, partitioning, tagId }]
  switch (t.kind) {
    case 'union':
      return t.inputs.flatMap((input) => resolveInputs(input, partitioning, tagId))
    case 'partition':
      return resolveInputs(t.input, partitioning ?? t.partitioning, tagId)
    case 'side-output':
      if (tagId !== undefined) throw new JobGraphError('a side output of a side output is not supported')
      return resolveInputs(t.input, partitioning, t.tagId)
  }
}
