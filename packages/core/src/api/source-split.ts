/**
 * A unit of work of a source: a file, a Kafka topic-partition, a range of generated sequence numbers.
 *
 * Splits are plain values: they are handed from the {@link SplitEnumerator} to a {@link SourceReader},
 * and a reader returns them (with its progress folded in) from `snapshotState`. They are persisted
 * through the source's split serializer, so they must carry everything needed to resume reading.
 */
export interface SourceSplit {
  /** Unique among all splits of one source; used in logs and errors. */
  readonly splitId: string
}
