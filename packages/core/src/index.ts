/**
 * @packageDocumentation
 * `@sluice/core`: connector contracts, the stream runtime and the checkpoint coordinator.
 */
export * from './errors.js'
export type * from './api/serializer.js'
export type * from './api/source-split.js'
export type * from './api/source.js'
export type * from './api/split-enumerator.js'
export type * from './api/source-reader.js'
export * from './api/sink.js'
export * from './api/sink-writer.js'
export type * from './api/committer.js'
export type * from './api/global-committer.js'
export * from './api/state.js'
export * from './api/functions.js'
