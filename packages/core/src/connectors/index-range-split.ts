import type { SimpleVersionedSerializer } from '../api/serializer.js'
import type { SourceSplit } from '../api/source-split.js'
import { SerializationError } from '../errors.js'
import { expectArray, expectInteger, expectObject, expectString, jsonSerializer } from './json-serializer.js'

/**
 * A contiguous range of element indexes `[start, end)` of a source that holds its elements itself
 * (`fromElementsSource`), with the reading position `next` (`start ≤ next ≤ end`) folded in.
 *
 * Only indexes are stored, never the elements: a restored job reads the elements from the same
 * source object, so checkpoints stay small and elements need not be serializable.
 */
export interface IndexRangeSplit extends SourceSplit {
  readonly splitId: string
  /** First index of the range. */
  readonly start: number
  /** One past the last index of the range. */
  readonly end: number
  /** The next index to emit; `end` once the range is done. */
  readonly next: number
}

/**
 * Cuts `[0, count)` into at most `parts` contiguous, non-empty ranges whose sizes differ by at most
 * one (larger ones first). Returns fewer ranges than `parts` when there are fewer indexes than parts,
 * and none for `count = 0`.
 */
export function contiguousRanges(count: number, parts: number): Array<{ start: number; end: number }> {
  const rangeCount = Math.min(count, parts)
  const ranges: Array<{ start: number; end: number }> = []
  if (rangeCount <= 0) return ranges
  const baseSize = Math.floor(count / rangeCount)
  const remainder = count % rangeCount
  let start = 0
  for (let rangeIndex = 0; rangeIndex < rangeCount; rangeIndex++) {
    const end = start + baseSize + (rangeIndex < remainder ? 1 : 0)
    ranges.push({ start, end })
    start = end
  }
  return ranges
}

/** The splits covering `[0, count)` in at most `parts` ranges, named `0`, `1`, ... in index order. */
export function indexRangeSplits(count: number, parts: number): IndexRangeSplit[] {
  return contiguousRanges(count, parts).map(({ start, end }, rangeIndex) => ({
    splitId: String(rangeIndex),
    start,
    end,
    next: start,
  }))
}

function decodeIndexRangeSplit(json: unknown, what: string): IndexRangeSplit {
  const object = expectObject(json, what)
  const split: IndexRangeSplit = {
    splitId: expectString(object, 'splitId', what),
    start: expectInteger(object, 'start', what),
    end: expectInteger(object, 'end', what),
    next: expectInteger(object, 'next', what),
  }
  if (!(split.start >= 0 && split.start <= split.next && split.next <= split.end)) {
    throw new SerializationError(
      what,
      `split ${split.splitId} has an impossible position: expected 0 ≤ start ≤ next ≤ end, got start ${split.start}, next ${split.next}, end ${split.end}`,
    )
  }
  return split
}

/** JSON over UTF-8, format version 1: `{"splitId":"0","start":0,"end":4,"next":2}`. */
export function indexRangeSplitSerializer(): SimpleVersionedSerializer<IndexRangeSplit> {
  return jsonSerializer('index range split', (json) => decodeIndexRangeSplit(json, 'index range split'))
}

/** The enumerator state (splits not yet assigned) as a JSON array of splits, format version 1. */
export function indexRangeSplitListSerializer(): SimpleVersionedSerializer<IndexRangeSplit[]> {
  const what = 'index range enumerator state'
  return jsonSerializer(what, (json) => expectArray(json, what).map((element) => decodeIndexRangeSplit(element, what)))
}
