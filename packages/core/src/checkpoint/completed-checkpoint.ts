import { CheckpointCorruptedError, UnsupportedVersionError } from '../errors.js'
import type { VersionedBytes } from '../api/serializer.js'
import { decodeValue, encodeValue } from '../state/codec.js'
import type { OperatorSubtaskState, VersionedItem } from '../runtime/stream-operator.js'

/** The state of one operator over all its subtasks, as stored in a checkpoint. */
export interface OperatorState {
  parallelism: number
  maxParallelism: number
  /** Index = subtask id at the time of the checkpoint. */
  subtasks: OperatorSubtaskState[]
}

/**
 * Everything a job needs to resume: the payload of a checkpoint or savepoint `_metadata` file.
 * Operators are found by uid, so a job whose operators keep their uids can be restored after its code
 * changed or with another parallelism.
 */
export interface CompletedCheckpoint {
  checkpointId: number
  kind: 'checkpoint' | 'savepoint'
  timestamp: number
  jobName: string
  operators: Record<string, OperatorState>
  /** Split enumerator state per source uid. */
  enumerators: Record<string, VersionedBytes>
  /** Global committables not yet committed, per sink uid. */
  globalCommittables: Record<string, VersionedItem[]>
  /** Set after reading: where the checkpoint was stored. */
  path?: string
}

/** Layout version of the payload itself (the file container has its own version). */
const PAYLOAD_VERSION = 1

export function encodeCheckpoint(checkpoint: CompletedCheckpoint): Uint8Array {
  const { path: _path, ...rest } = checkpoint
  return encodeValue({ payloadVersion: PAYLOAD_VERSION, ...rest })
}

export function decodeCheckpoint(bytes: Uint8Array, path: string): CompletedCheckpoint {
  let decoded: unknown
  try {
    decoded = decodeValue(bytes)
  } catch (error) {
    throw new CheckpointCorruptedError(path, `payload is not readable: ${error instanceof Error ? error.message : String(error)}`)
  }
  if (typeof decoded !== 'object' || decoded === null) throw new CheckpointCorruptedError(path, 'payload is not an object')
  const record = decoded as Record<string, unknown>
  const version = record.payloadVersion
  if (typeof version !== 'number') throw new CheckpointCorruptedError(path, 'payload has no payloadVersion')
  if (version > PAYLOAD_VERSION) throw new UnsupportedVersionError('checkpoint payload', version, PAYLOAD_VERSION, path)
  for (const field of ['checkpointId', 'operators', 'enumerators', 'globalCommittables'] as const) {
    if (record[field] === undefined) throw new CheckpointCorruptedError(path, `payload lacks '${field}'`)
  }
  return {
    checkpointId: record.checkpointId as number,
    kind: (record.kind as CompletedCheckpoint['kind']) ?? 'checkpoint',
    timestamp: (record.timestamp as number) ?? 0,
    jobName: (record.jobName as string) ?? '',
    operators: toRecord(record.operators) as Record<string, OperatorState>,
    enumerators: toRecord(record.enumerators) as Record<string, VersionedBytes>,
    globalCommittables: toRecord(record.globalCommittables) as Record<string, VersionedItem[]>,
    path,
  }
}

/** The codec keeps Maps as Maps; the payload is written from plain objects, but accept both. */
function toRecord(value: unknown): Record<string, unknown> {
  if (value instanceof Map) return Object.fromEntries(value)
  return value as Record<string, unknown>
}
