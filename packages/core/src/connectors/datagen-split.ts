import type { SimpleVersionedSerializer } from '../api/serializer.js'
import type { SourceSplit } from '../api/source-split.js'
import { SerializationError } from '../errors.js'
import { expectArray, expectInteger, expectObject, expectString, jsonSerializer } from './json-serializer.js'

/**
 * A share of the index space of a {@link datagenSource}: the indexes `next`, `next + stride`,
 * `next + 2·stride`, ... below `end`.
 *
 * Bounded sources cut `[0, count)` into contiguous ranges (`stride` 1, `end` the range's end);
 * unbounded ones give split `k` of `S` the indexes `k, k + S, k + 2S, ...` (`stride` S, no `end`).
 * `next` is the position: a restored reader resumes exactly there, so no index is generated twice
 * or skipped across a restore.
 */
export interface DatagenSplit extends SourceSplit {
  readonly splitId: string
  /** The next index to generate. */
  readonly next: number
  /** One past the last index, or `null` for an unbounded split (JSON has no `Infinity`). */
  readonly end: number | null
  /** Distance between consecutive indexes of this split, ≥ 1. */
  readonly stride: number
}

function decodeDatagenSplit(json: unknown, what: string): DatagenSplit {
  const object = expectObject(json, what)
  const split: DatagenSplit = {
    splitId: expectString(object, 'splitId', what),
    next: expectInteger(object, 'next', what),
    end: object.end === null ? null : expectInteger(object, 'end', what),
    stride: expectInteger(object, 'stride', what),
  }
  if (split.next < 0 || split.stride < 1) {
    throw new SerializationError(
      what,
      `split ${split.splitId} has an impossible position: expected next ≥ 0 and stride ≥ 1, got next ${split.next}, stride ${split.stride}`,
    )
  }
  return split
}

/** JSON over UTF-8, format version 1: `{"splitId":"2","next":14,"end":null,"stride":4}`. */
export function datagenSplitSerializer(): SimpleVersionedSerializer<DatagenSplit> {
  return jsonSerializer('datagen split', (json) => decodeDatagenSplit(json, 'datagen split'))
}

/** The enumerator state (splits not yet assigned) as a JSON array of splits, format version 1. */
export function datagenSplitListSerializer(): SimpleVersionedSerializer<DatagenSplit[]> {
  const what = 'datagen enumerator state'
  return jsonSerializer(what, (json) => expectArray(json, what).map((element) => decodeDatagenSplit(element, what)))
}
