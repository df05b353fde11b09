import type { Collector } from './functions.js'

/**
 * Flink's JoinFunction: one output per pair of a window join, `(first, second) => result`, with the
 * element of the first stream (`a` in `a.join(b)`) first. Called by the window operator's task for each
 * pair of each fired window, never concurrently; results carry the window's `maxTimestamp()`.
 */
export type JoinFunction<In1, In2, Out> = (first: In1, second: In2) => Out

/**
 * Flink's FlatJoinFunction: any number of outputs per pair, through the collector. A function declaring
 * three parameters is taken as a FlatJoinFunction by `apply`.
 */
export type FlatJoinFunction<In1, In2, Out> = (first: In1, second: In2, out: Collector<Out>) => void

/**
 * What `join(...).window(...).apply` takes: a {@link JoinFunction} (two parameters; its return value is
 * the result) or a {@link FlatJoinFunction} (three parameters; results go to `out`, the return value is
 * ignored). One type for both, so that TypeScript infers the parameters of either kind of arrow function.
 */
// biome-ignore lint/suspicious/noConfusingVoidType: a FlatJoinFunction returns nothing, a JoinFunction its result
export type JoinOrFlatJoinFunction<In1, In2, Out> = (first: In1, second: In2, out: Collector<Out>) => Out | void

/**
 * Flink's CoGroupFunction: called once per key and fired window with all elements of each side in that
 * window, in arrival order; one side may be empty (not both). Results carry the window's `maxTimestamp()`.
 */
export type CoGroupFunction<In1, In2, Out> = (first: readonly In1[], second: readonly In2[], out: Collector<Out>) => void

/**
 * An element of `a.coGroup(b)` / `a.join(b)` inside the window operator: which input it came from and
 * its value (Flink's `TaggedUnion`). Triggers and evictors given to a window join see these.
 */
export type TaggedUnion<In1, In2> = { readonly input: 1; readonly value: In1 } | { readonly input: 2; readonly value: In2 }
