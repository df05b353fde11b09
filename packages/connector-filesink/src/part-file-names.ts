import { randomBytes } from 'node:crypto'

/**
 * How part files are named on disk. Every name carries the subtask that created the file and its
 * part counter; the counter of a subtask only grows, also across restarts (a restarted writer scans
 * the base path for its highest counter), so no name is ever used twice.
 *
 * ```
 * <prefix>-<subtask>-<counter><suffix>                              finished: what readers see
 * .<prefix>-<subtask>-<counter><suffix>.inprogress.<epoch>.<random>  in-progress or pending: hidden
 * ```
 * `epoch` is the id of the first checkpoint that can include the file (the writer's last snapshotted
 * checkpoint + 1 when it opened the file). A restore from checkpoint C deletes the hidden files of the
 * sink with an epoch greater than C: they were opened after C and nothing in C refers to them. Hidden
 * files with a smaller epoch are the in-progress and pending files C refers to, and are kept.
 * `random` (8 hex digits) keeps two attempts from ever opening the same path.
 *
 * Flink's FileSink names finished files `part-<uuid>-<counter>`; Sluice keeps the older
 * StreamingFileSink names of the seed (`part-<subtask>-<counter>`), which tell which subtask wrote a file.
 */
export interface PartFileName {
  readonly kind: 'finished' | 'hidden'
  readonly subtask: number
  readonly counter: number
  /** Hidden files only. */
  readonly epoch: number | undefined
}

export class PartFileNaming {
  private readonly finishedPattern: RegExp
  private readonly hiddenPattern: RegExp

  constructor(
    readonly prefix: string,
    readonly suffix: string,
  ) {
    const p = escapeRegExp(prefix)
    const s = escapeRegExp(suffix)
    this.finishedPattern = new RegExp(`^${p}-(\\d+)-(\\d+)${s}$`)
    this.hiddenPattern = new RegExp(`^\\.${p}-(\\d+)-(\\d+)${s}\\.inprogress\\.(\\d+)\\.[0-9a-f]+$`)
  }

  finishedName(subtask: number, counter: number): string {
    return `${this.prefix}-${subtask}-${counter}${this.suffix}`
  }

  /** A new hidden name for the part file that will be published as `finishedName(subtask, counter)`. */
  hiddenName(subtask: number, counter: number, epoch: number): string {
    return `.${this.finishedName(subtask, counter)}.inprogress.${epoch}.${randomBytes(4).toString('hex')}`
  }

  /** What a file name in a bucket directory is, or `undefined` when it is not a part file of this sink. */
  parse(name: string): PartFileName | undefined {
    if (name.startsWith('.')) {
      const match = this.hiddenPattern.exec(name)
      if (!match) return undefined
      return { kind: 'hidden', subtask: Number(match[1]), counter: Number(match[2]), epoch: Number(match[3]) }
    }
    const match = this.finishedPattern.exec(name)
    if (!match) return undefined
    return { kind: 'finished', subtask: Number(match[1]), counter: Number(match[2]), epoch: undefined }
  }
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')
}
