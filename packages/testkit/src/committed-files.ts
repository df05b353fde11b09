import { readdir, readFile } from 'node:fs/promises'
import path from 'node:path'
import { CommittedFileCorruptedError } from './errors.js'

/**
 * The on-disk layout of a TransactionalFileSink directory, and the readers a test uses to check what
 * it made visible.
 *
 * ```
 * <directory>/.in-progress/<name>.jsonl   written by a writer, not yet committed (or left by a crash)
 * <directory>/committed/<name>.jsonl      renamed here by the committer: the sink's output
 * ```
 * Only `committed/` is output. A file stays in `.in-progress/` forever when its writer was killed or
 * failed before the checkpoint holding it completed; the source replays its records, so it is garbage.
 */

/** Suffix of every file the sink writes. */
export const fileSinkExtension = '.jsonl'

/** Where writers put files that are not committed yet. */
export function inProgressDirectoryOf(directory: string): string {
  return path.join(directory, '.in-progress')
}

/** Where the committer moves files: the sink's output. */
export function committedDirectoryOf(directory: string): string {
  return path.join(directory, 'committed')
}

/** Names of the `.jsonl` files in `folder`, sorted; none when the folder does not exist yet. */
async function listSinkFiles(folder: string): Promise<string[]> {
  let names: string[]
  try {
    names = await readdir(folder)
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return []
    throw error
  }
  return names.filter((name) => name.endsWith(fileSinkExtension)).sort()
}

/** Absolute paths of the committed files of a sink directory, sorted by name. */
export async function listCommittedFiles(directory: string): Promise<string[]> {
  const folder = committedDirectoryOf(path.resolve(directory))
  return (await listSinkFiles(folder)).map((name) => path.join(folder, name))
}

/**
 * Absolute paths of the files in `<directory>/.in-progress`, sorted by name: files being written
 * right now, or garbage left by writers that were killed before their checkpoint completed.
 */
export async function listInProgressFiles(directory: string): Promise<string[]> {
  const folder = inProgressDirectoryOf(path.resolve(directory))
  return (await listSinkFiles(folder)).map((name) => path.join(folder, name))
}

/** Options of {@link readCommittedRecords}. */
export interface ReadCommittedRecordsOptions<T> {
  /** Turns one line back into a record: the inverse of the sink's `serialize`. Default `JSON.parse`. */
  parse?: (line: string) => T
}

/**
 * Every record of every committed file of a TransactionalFileSink directory: the sink's visible
 * output. Files are read in name order and lines in file order; records of different files have no
 * meaningful order between them.
 *
 * Every line must be a whole record: a line that does not parse, an empty line, or a last line
 * without its newline (a torn write) throws a {@link CommittedFileCorruptedError} naming the file and
 * the line, because a committed file must never be partial. Files in `.in-progress` are never read.
 */
export async function readCommittedRecords<T>(directory: string, options: ReadCommittedRecordsOptions<T> = {}): Promise<T[]> {
  const parse = options.parse ?? ((line: string) => JSON.parse(line) as T)
  const records: T[] = []
  for (const file of await listCommittedFiles(directory)) {
    const text = await readFile(file, 'utf8')
    if (text.length === 0) continue
    const lines = text.split('\n')
    const last = lines.pop()
    if (last !== '') {
      throw new CommittedFileCorruptedError(file, lines.length + 1, 'the last line has no newline: the file was cut mid-record')
    }
    for (let index = 0; index < lines.length; index++) {
      const line = lines[index] as string
      if (line.length === 0) throw new CommittedFileCorruptedError(file, index + 1, 'empty line where a record was expected')
      try {
        records.push(parse(line))
      } catch (error) {
        const reason = error instanceof Error ? error.message : String(error)
        throw new CommittedFileCorruptedError(file, index + 1, `not a valid record (${reason})`, { cause: error })
      }
    }
  }
  return records
}
