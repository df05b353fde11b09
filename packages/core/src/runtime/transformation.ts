import type { Sink } from '../api/sink.js'
import type { AnySource } from '../api/source.js'
import type { Partitioning } from './partitioner.js'
import type { SourceWatermarkOptions } from './operators/source-operator.js'
import type { StreamOperator } from './stream-operator.js'

/**
 * A node of the logical plan the DataStream API builds. Physical kinds become operators; virtual
 * kinds (union, partition, side output) only shape the edges between them.
 */
export type Transformation =
  | SourceTransformation
  | OneInputTransformation
  | TwoInputTransformation
  | UnionTransformation
  | PartitionTransformation
  | SideOutputTransformation

interface PhysicalBase {
  readonly id: number
  name: string
  uid: string | undefined
  parallelism: number | undefined
}

export interface SourceTransformation extends PhysicalBase {
  readonly kind: 'source'
  readonly source: AnySource<unknown>
  /** Watermark strategy and periodic interval of the source; none: only the reader's own watermarks. */
  readonly watermarks?: SourceWatermarkOptions
}

/** `createOperator(uid, name)` is called once per subtask and attempt: operators hold per-subtask state. */
export interface OneInputTransformation extends PhysicalBase {
  readonly kind: 'one-input'
  readonly input: Transformation
  readonly createOperator: (uid: string, name: string) => StreamOperator
  /** Sinks are tracked to build the graph from them. */
  readonly isSink: boolean
  /** The sink, for a sink transformation (its global committer runs on the coordinator). */
  readonly sink?: Sink<unknown>
}

export interface TwoInputTransformation extends PhysicalBase {
  readonly kind: 'two-input'
  readonly input1: Transformation
  readonly input2: Transformation
  readonly createOperator: (uid: string, name: string) => StreamOperator
}

export interface UnionTransformation {
  readonly kind: 'union'
  readonly id: number
  readonly inputs: Transformation[]
}

export interface PartitionTransformation {
  readonly kind: 'partition'
  readonly id: number
  readonly input: Transformation
  readonly partitioning: Partitioning
}

export interface SideOutputTransformation {
  readonly kind: 'side-output'
  readonly id: number
  readonly input: Transformation
  readonly tagId: string
}

export type PhysicalTransformation = SourceTransformation | OneInputTransformation | TwoInputTransformation

export function isPhysical(t: Transformation): t is PhysicalTransformation {
  return t.kind === 'source' || t.kind === 'one-input' || t.kind === 'two-input'
}

/** The uid an operator's state is stored under: the user's `uid(...)`, else derived from its position and name. */
export function operatorUid(t: PhysicalTransformation): string {
  if (t.uid !== undefined) return t.uid
  const slug = t.name.toLowerCase().replace(/[^a-z0-9]+/g, '-').replace(/^-|-$/g, '')
  return `${t.id}-${slug || t.kind}`
}
