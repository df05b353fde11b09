import { ConfigError } from '../errors.js'
import type { OperatorSubtaskState, VersionedItem } from '../runtime/stream-operator.js'
import { keyGroupRangeForSubtask } from '../state/key-groups.js'
import type { OperatorState } from './completed-checkpoint.js'

/**
 * Gives subtask `subtaskId` of `parallelism` its share of an operator's checkpointed state:
 * - keyed state: the key groups in the subtask's key-group range, from whichever old subtask had them;
 * - lists: at equal parallelism each subtask's own; otherwise all items dealt out round-robin
 *   (Flink's even-split redistribution of operator list state);
 * - broadcast state: the whole copy of old subtask `subtaskId % oldParallelism` (every subtask wrote
 *   the same copy; Flink's BROADCAST mode).
 */
export function assignOperatorState(
  uid: string,
  state: OperatorState,
  subtaskId: number,
  parallelism: number,
  maxParallelism: number,
): OperatorSubtaskState {
  const hasKeyed = state.subtasks.some((s) => s.keyed !== undefined && s.keyed.length > 0)
  if (hasKeyed && state.maxParallelism !== maxParallelism) {
    throw new ConfigError(
      'maxParallelism',
      `operator '${uid}' was checkpointed with maxParallelism ${state.maxParallelism} but the job now uses ${maxParallelism}; ` +
        'keyed state can only be restored with the same maxParallelism',
    )
  }
  if (state.parallelism === parallelism) {
    const own = state.subtasks[subtaskId]
    return own ?? {}
  }
  const result: OperatorSubtaskState = {}
  if (hasKeyed) {
    const range = keyGroupRangeForSubtask(maxParallelism, parallelism, subtaskId)
    result.keyed = state.subtasks.flatMap((s) => s.keyed ?? []).filter((g) => g.keyGroup >= range.start && g.keyGroup <= range.end)
  }
  // Broadcast state is replicated, not split: every new subtask takes one old subtask's whole copy.
  const broadcastCopy = state.subtasks[subtaskId % state.parallelism]?.broadcast
  if (broadcastCopy !== undefined) result.broadcast = broadcastCopy
  const names = new Set(state.subtasks.flatMap((s) => Object.keys(s.lists ?? {})))
  if (names.size > 0) {
    result.lists = {}
    for (const name of names) {
      const all: VersionedItem[] = state.subtasks.flatMap((s) => s.lists?.[name] ?? [])
      result.lists[name] = all.filter((_, index) => index % parallelism === subtaskId)
    }
  }
  return result
}
