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

// Built-in connectors
export { fromElementsSource, type FromElementsSourceOptions } from './connectors/from-elements-source.js'
export { datagenSource, seededInt, seededRandom, type DatagenSourceOptions, type DatagenSplit } from './connectors/datagen-source.js'
export { socketTextSource, type SocketTextSourceOptions } from './connectors/socket-text-source.js'
export { printSink, type PrintSinkOptions } from './connectors/print-sink.js'
export { CollectSink, type CollectCommittable } from './connectors/collect-sink.js'

// Serialization helpers for connector authors
export { cborSerializer, decodeValue, encodeValue } from './state/codec.js'
