/**
 * @packageDocumentation
 * `@sluice/core`: connector contracts, the stream runtime and the checkpoint coordinator.
 * Everything exported here is public API; the rest of the package is internal.
 */
export * from './errors.js'

// Contracts for connectors
export type * from './api/serializer.js'
export type * from './api/source-split.js'
export type * from './api/source.js'
export type * from './api/split-enumerator.js'
export type * from './api/source-reader.js'
export * from './api/sink.js'
export * from './api/sink-writer.js'
export type * from './api/committer.js'
export type * from './api/global-committer.js'

// Building and running jobs
export * from './api/state.js'
export * from './api/functions.js'
export type * from './api/config.js'
export type * from './api/job-handle.js'
export { StreamExecutionEnvironment } from './api/environment.js'
export { DataStream, SingleOutputStream, KeyedStream, ConnectedStreams, DataStreamSink } from './api/data-stream.js'
export { RestartStrategies, type RestartStrategy } from './checkpoint/restart-strategy.js'
export { retry, type RetryOptions } from './retry.js'
export { describeValue, optionsObject } from './option-checks.js'

// Joins and broadcast state (issue 6)
/** Broadcast state: `stream.broadcast(descriptor)`, `connect`, (Keyed)BroadcastProcessFunction, read-only and full views. */
export type * from './api/broadcast-state.js'
export type * from './api/broadcast-process-function.js'
export { BroadcastStream } from './api/broadcast-stream.js'
export { BroadcastConnectedStream, KeyedBroadcastConnectedStream } from './api/broadcast-connected-stream.js'
/** Interval join: `a.keyBy(k).intervalJoin(b.keyBy(k)).between(lower, upper).process(fn)`. */
export type * from './api/process-join-function.js'
export { IntervalJoin, IntervalJoined } from './api/interval-join.js'
/** Window join and coGroup: `a.join(b).where(keyA).equalTo(keyB).window(assigner).apply(fn)`, `a.coGroup(b)...apply(fn)`. */
export type * from './api/join-function.js'
export { JoinedStreams, JoinWhere, JoinEqualTo, JoinWithWindow } from './api/joined-streams.js'
export { CoGroupedStreams, CoGroupWhere, CoGroupEqualTo, CoGroupWithWindow } from './api/co-grouped-streams.js'

// Event time and windows (issue 6)
/**
 * Event time: a {@link WatermarkStrategy} gives records timestamps and makes watermarks, at the source
 * (`env.fromSource(source, name, { watermarkStrategy })`, per split) or in the pipeline
 * (`stream.assignTimestampsAndWatermarks(strategy)`); `autoWatermarkInterval` (environment option,
 * default 200 ms) paces periodic generators; `withWatermarkAlignment` keeps sources in step. Readers emit per-split watermarks through
 * {@link SplitAwareReaderOutput}.
 */
export {
  WatermarkStrategy,
  type WatermarkAlignmentParams,
  BoundedOutOfOrdernessWatermarks,
  NoWatermarksGenerator,
  WatermarksWithIdleness,
} from './api/watermark-strategy.js'
export type * from './api/watermark-generator.js'
export type { SourceOutput, SplitAwareReaderOutput } from './api/source-output.js'
export { supportsSplitOutputs } from './api/source-output.js'
export type { FromSourceOptions } from './api/environment.js'
/**
 * Windows (Flink's semantics): `keyed.window(assigner)` / `stream.windowAll(assigner)`, then
 * `.trigger()`, `.evictor()`, `.allowedLateness(ms)`, `.sideOutputLateData(tag)` and `.reduce`,
 * `.aggregate`, `.process` or `.apply`. Window contents, trigger state and timers are keyed state.
 */
export { Window } from './api/windowing/window.js'
export { TimeWindow, type MergeCallback } from './api/windowing/time-window.js'
export { GlobalWindow } from './api/windowing/global-window.js'
export { WindowAssigner, MergingWindowAssigner, isMergingWindowAssigner, type WindowAssignerContext } from './api/windowing/window-assigner.js'
export { TumblingEventTimeWindows } from './api/windowing/tumbling-event-time-windows.js'
export { SlidingEventTimeWindows } from './api/windowing/sliding-event-time-windows.js'
export { EventTimeSessionWindows, type SessionWindowTimeGapExtractor } from './api/windowing/event-time-session-windows.js'
export { TumblingProcessingTimeWindows } from './api/windowing/tumbling-processing-time-windows.js'
export { SlidingProcessingTimeWindows } from './api/windowing/sliding-processing-time-windows.js'
export { ProcessingTimeSessionWindows } from './api/windowing/processing-time-session-windows.js'
export { GlobalWindows, NeverTrigger } from './api/windowing/global-windows.js'
export { Trigger, TriggerResult, type TriggerContext, type OnMergeContext } from './api/windowing/trigger.js'
export { EventTimeTrigger } from './api/windowing/event-time-trigger.js'
export { ProcessingTimeTrigger } from './api/windowing/processing-time-trigger.js'
export { CountTrigger } from './api/windowing/count-trigger.js'
export { PurgingTrigger } from './api/windowing/purging-trigger.js'
export { ContinuousEventTimeTrigger } from './api/windowing/continuous-event-time-trigger.js'
export { ContinuousProcessingTimeTrigger } from './api/windowing/continuous-processing-time-trigger.js'
export { TimestampedValue, type Evictor, type EvictorContext } from './api/windowing/evictor.js'
export { CountEvictor } from './api/windowing/count-evictor.js'
export { TimeEvictor } from './api/windowing/time-evictor.js'
export { DeltaEvictor, type DeltaFunction } from './api/windowing/delta-evictor.js'
export type * from './api/windowing/process-window-function.js'
export { WindowedStream, AllWindowedStream } from './api/windowing/windowed-stream.js'

// Built-in connectors
export { fromElementsSource, type FromElementsSourceOptions } from './connectors/from-elements-source.js'
export { datagenSource, seededInt, seededRandom, type DatagenSourceOptions, type DatagenSplit } from './connectors/datagen-source.js'
export { socketTextSource, type SocketTextSourceOptions } from './connectors/socket-text-source.js'
export { printSink, type PrintSinkOptions } from './connectors/print-sink.js'
export { CollectSink, type CollectCommittable } from './connectors/collect-sink.js'

// Serialization helpers for connector authors
export { cborSerializer, decodeValue, encodeValue } from './state/codec.js'
