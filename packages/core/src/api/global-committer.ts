/**
 * Commits, once per checkpoint for the whole job, what all writers of a sink prepared (FLIP-143's
 * GlobalCommitter): e.g. one metadata file or one table snapshot per checkpoint.
 *
 * One instance per job, called from the coordinator, never concurrently:
 *   (restore: filterRecoveredCommittables → commit)? → (combine → [checkpoint durable] → commit)* → endOfInput → close
 * The combined global committable is part of the checkpoint; `commit` runs only after it is durable,
 * and after a restore the recovered ones first pass `filterRecoveredCommittables` so work done before
 * the crash is not repeated.
 */
export interface GlobalCommitter<Committable, GlobalCommittable> {
  /** Combines the committables of all subtasks for one checkpoint into one. */
  combine(checkpointId: number, committables: Committable[]): GlobalCommittable
  /** Commits; returns the ones that must be retried (later, with the next checkpoint). */
  commit(globalCommittables: GlobalCommittable[]): Promise<GlobalCommittable[]>
  /** After a restore, drops the recovered global committables that were already committed. */
  filterRecoveredCommittables(globalCommittables: GlobalCommittable[]): Promise<GlobalCommittable[]>
  /** All input has ended and the final checkpoint is committed. */
  endOfInput(): Promise<void> | void
  close(): Promise<void> | void
}
