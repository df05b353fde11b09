import { createHash, randomBytes } from 'node:crypto'
import { type FileHandle, mkdir, open, readdir, readFile, rename, rm } from 'node:fs/promises'
import { basename, dirname, join } from 'node:path'
import {
  CheckpointCorruptedError,
  CheckpointFailedError,
  ConfigError,
  IllegalStateError,
  UnsupportedVersionError,
} from '../errors.js'

/**
 * The `_metadata` file of a checkpoint or savepoint, format version 1. All integers big-endian.
 *
 * | offset | size | field                                                  |
 * |-------:|-----:|--------------------------------------------------------|
 * |      0 |    4 | magic bytes `SLCK`                                     |
 * |      4 |    2 | u16 format version (1)                                 |
 * |      6 |    2 | u16 kind: 0 checkpoint, 1 savepoint                    |
 * |      8 |    8 | u64 checkpoint id                                      |
 * |     16 |    8 | f64 timestamp, ms since the epoch when it was written  |
 * |     24 |    8 | u64 payload length in bytes                            |
 * |     32 |   32 | SHA-256 of the payload                                 |
 * |     64 |    n | payload                                                |
 *
 * The checksum covers the payload only; the header is guarded by the magic, the version, the length
 * (which must match the file size) and the id (which must match the directory name).
 * A reader must reject versions above the one it knows: a newer writer may have changed any field.
 */
const magic = Buffer.from('SLCK', 'ascii')
const formatVersion = 1
const headerLength = 64
const metadataFileName = '_metadata'
const kindCodes = { checkpoint: 0, savepoint: 1 } as const

/** A checkpoint or savepoint read back from storage. */
export interface StoredCheckpoint {
  checkpointId: number
  kind: 'checkpoint' | 'savepoint'
  /** The directory of the checkpoint. */
  path: string
  payload: Uint8Array
  /** Ms since the epoch when it was written. */
  timestamp: number
}

export interface CheckpointStorageOptions {
  /** Where the checkpoints of one job live, as `chk-<id>` directories. Created on the first write. */
  directory: string
  /** How many completed checkpoints to keep; older ones are deleted after each write. Default 3, >= 1. */
  retainedCheckpoints?: number
  /** Receives what went wrong but did not stop anything (a corrupt checkpoint skipped, a failed cleanup). Default `console.warn`. */
  onWarning?: (message: string) => void
}

export interface CheckpointWriteOptions {
  /** Default `'checkpoint'`. */
  kind?: 'checkpoint' | 'savepoint'
  /** Savepoints only: the directory that receives `savepoint-<id>-<hex>`. Default `<directory>/savepoints`. */
  targetDirectory?: string
  /** Ms since the epoch to record. Default `Date.now()`. */
  timestamp?: number
}

const checkpointNamePattern = /^chk-(0|[1-9]\d*)$/
const savepointNamePattern = /^savepoint-(0|[1-9]\d*)-[0-9a-f]{6}$/
/** Directories a write or delete leaves behind if the process dies midway: `.chk-<id>.tmp-…`, `.old-…`, `.deleting-…`. */
const leftoverNamePattern = /^\.chk-\d+\.(tmp|old|deleting)-[0-9a-f]+$/

/**
 * Stores checkpoints and savepoints as directories on the local filesystem, one `_metadata` file each.
 *
 * A directory `chk-<id>` exists only once its `_metadata` is complete and durable: it is written under a
 * temporary name, fsynced and then renamed, so a crash at any point leaves either the complete checkpoint
 * or a leftover temporary directory, which {@link latest} ignores and deletes.
 *
 * One instance owns one `directory`: a single job writes there, and no two processes may use it at once
 * (leftover cleanup would delete the other's in-flight writes). Within the process, calls may overlap;
 * writes of distinct ids are independent, but writing the same id twice concurrently is not supported.
 */
export class FileCheckpointStorage {
  private readonly directory: string
  private readonly retainedCheckpoints: number
  private readonly onWarning: (message: string) => void
  /** Temporary directories of writes in progress, which leftover cleanup must not touch. */
  private readonly inFlight = new Set<string>()

  /** @throws ConfigError when an option is invalid. */
  constructor(options: CheckpointStorageOptions) {
    if (typeof options.directory !== 'string' || options.directory === '') {
      throw new ConfigError('checkpointing.directory', `expected a non-empty path, got ${describe(options.directory)}`)
    }
    const retained = options.retainedCheckpoints ?? 3
    if (!Number.isSafeInteger(retained) || retained < 1) {
      throw new ConfigError('checkpointing.retainedCheckpoints', `expected an integer >= 1, got ${describe(retained)}`)
    }
    if (options.onWarning !== undefined && typeof options.onWarning !== 'function') {
      throw new ConfigError('checkpointing.onWarning', `expected a function, got ${describe(options.onWarning)}`)
    }
    this.directory = options.directory
    this.retainedCheckpoints = retained
    this.onWarning = options.onWarning ?? ((message) => console.warn(message))
  }

  /**
   * Writes a checkpoint (or savepoint) durably and atomically and returns its final directory.
   *
   * The payload goes to `<parent>/.chk-<id>.tmp-<random>/_metadata`; the file and the temporary directory
   * are fsynced, the directory is renamed to its final name and the parent is fsynced. An existing target
   * (an id reused after a crash) is first renamed aside, then replaced, then deleted.
   * After a checkpoint, completed checkpoints beyond the newest `retainedCheckpoints` are deleted; the one
   * just written and savepoints never are. A failed deletion is only reported through `onWarning`.
   *
   * @throws CheckpointFailedError (retriable) when the filesystem fails; nothing partial stays visible.
   * @throws IllegalStateError for an invalid id or timestamp, or a targetDirectory given for a checkpoint.
   */
  async write(checkpointId: number, payload: Uint8Array, options: CheckpointWriteOptions = {}): Promise<string> {
    const kind = options.kind ?? 'checkpoint'
    const timestamp = options.timestamp ?? Date.now()
    if (!Number.isSafeInteger(checkpointId) || checkpointId < 0) {
      throw new IllegalStateError(`checkpoint id must be a non-negative integer, got ${describe(checkpointId)}`)
    }
    if (!Number.isFinite(timestamp)) {
      throw new IllegalStateError(`checkpoint ${checkpointId}: timestamp must be a finite number, got ${timestamp}`)
    }
    if (kind !== 'checkpoint' && kind !== 'savepoint') {
      throw new IllegalStateError(`checkpoint ${checkpointId}: kind must be 'checkpoint' or 'savepoint', got ${describe(kind)}`)
    }
    if (kind === 'checkpoint' && options.targetDirectory !== undefined) {
      throw new IllegalStateError(
        `checkpoint ${checkpointId}: targetDirectory applies to savepoints only; checkpoints go to ${this.directory}`,
      )
    }

    const parent = kind === 'checkpoint' ? this.directory : (options.targetDirectory ?? join(this.directory, 'savepoints'))
    const finalName = kind === 'checkpoint' ? `chk-${checkpointId}` : `savepoint-${checkpointId}-${randomHex(3)}`
    const finalPath = join(parent, finalName)
    // The temporary directory sits next to the target: rename is only atomic within one filesystem.
    const temporaryPath = join(parent, `.chk-${checkpointId}.tmp-${randomHex(8)}`)
    const what = kind === 'checkpoint' ? `writing ${finalPath}` : `writing savepoint ${finalPath}`

    this.inFlight.add(temporaryPath)
    try {
      await mkdir(parent, { recursive: true })
      await mkdir(temporaryPath)
      await writeDurably(join(temporaryPath, metadataFileName), encode(kind, checkpointId, timestamp, payload))
      await syncDirectory(temporaryPath)
      await this.moveIntoPlace(temporaryPath, finalPath, checkpointId)
      await syncDirectory(parent)
    } catch (error) {
      await rm(temporaryPath, { recursive: true, force: true }).catch(() => {})
      throw new CheckpointFailedError(checkpointId, `${what} failed: ${describeError(error)}`, {
        cause: error,
        retriable: true,
      })
    } finally {
      this.inFlight.delete(temporaryPath)
    }

    if (kind === 'checkpoint') await this.applyRetention(checkpointId)
    return finalPath
  }

  /**
   * The newest readable completed checkpoint, or undefined when there is none.
   *
   * Checkpoints that cannot be read (corrupt, truncated, missing `_metadata`) are skipped with a warning
   * naming the file, the reason and the checkpoint used instead; they are left on disk for inspection.
   * Leftovers of interrupted writes and deletes are deleted.
   *
   * @throws UnsupportedVersionError when the newest readable candidate was written by a newer Sluice:
   *   falling back to an older checkpoint would silently rewind the job, so a downgrade must be deliberate.
   */
  async latest(): Promise<StoredCheckpoint | undefined> {
    const names = await this.listNames()
    await this.deleteLeftovers(names)
    const skipped: CheckpointCorruptedError[] = []
    const warnSkipped = (outcome: string) => {
      for (const error of skipped) this.onWarning(`${error.message}; ${outcome}`)
    }
    for (const checkpointId of checkpointIds(names).reverse()) {
      try {
        const checkpoint = await this.read(join(this.directory, `chk-${checkpointId}`))
        warnSkipped(`falling back to checkpoint ${checkpointId}`)
        return checkpoint
      } catch (error) {
        if (!CheckpointCorruptedError.isInstance(error)) {
          warnSkipped('skipped')
          throw error
        }
        skipped.push(error)
      }
    }
    warnSkipped('no older readable checkpoint; starting without one')
    return undefined
  }

  /**
   * Reads one checkpoint or savepoint, given its directory or its `_metadata` file, and verifies it.
   *
   * @throws CheckpointCorruptedError naming the file and the reason: missing, too short, truncated, bad
   *   magic, unknown kind, checksum mismatch, or an id that differs from the directory name.
   * @throws UnsupportedVersionError naming the file when it was written in a newer format version.
   */
  async read(path: string): Promise<StoredCheckpoint> {
    const isFile = basename(path) === metadataFileName
    const directory = isFile ? dirname(path) : path
    const file = isFile ? path : join(path, metadataFileName)
    const expectedId = idFromDirectoryName(basename(directory))
    const corrupted = (reason: string, checkpointId = expectedId) => new CheckpointCorruptedError(file, reason, checkpointId)

    let bytes: Buffer
    try {
      bytes = await readFile(file)
    } catch (error) {
      if (errorCode(error) === 'ENOENT' || errorCode(error) === 'ENOTDIR') throw corrupted(`${metadataFileName} file is missing`)
      throw error
    }
    if (bytes.length === 0) throw corrupted('file is empty (0 bytes)')
    if (bytes.length < 8) {
      throw corrupted(`file is too short (${bytes.length} bytes; the header alone is ${headerLength})`)
    }
    if (!bytes.subarray(0, 4).equals(magic)) {
      throw corrupted(`bad magic bytes (expected 'SLCK', got 0x${bytes.subarray(0, 4).toString('hex')}); not a Sluice checkpoint`)
    }
    const version = bytes.readUInt16BE(4)
    if (version > formatVersion) {
      throw new UnsupportedVersionError(
        `checkpoint metadata${expectedId === undefined ? '' : ` of checkpoint ${expectedId}`}`,
        version,
        formatVersion,
        file,
      )
    }
    if (version === 0) throw corrupted('unknown format version 0')
    if (bytes.length < headerLength) {
      throw corrupted(`file is too short (${bytes.length} bytes; the header alone is ${headerLength})`)
    }
    const kindCode = bytes.readUInt16BE(6)
    const kind = kindCode === kindCodes.checkpoint ? 'checkpoint' : kindCode === kindCodes.savepoint ? 'savepoint' : undefined
    if (kind === undefined) throw corrupted(`unknown kind ${kindCode} (expected 0 checkpoint or 1 savepoint)`)
    const storedId = bytes.readBigUInt64BE(8)
    if (storedId > BigInt(Number.MAX_SAFE_INTEGER)) throw corrupted(`checkpoint id ${storedId} is out of range`)
    const checkpointId = Number(storedId)
    const timestamp = bytes.readDoubleBE(16)
    const payloadLength = bytes.readBigUInt64BE(24)
    const actualLength = BigInt(bytes.length - headerLength)
    if (payloadLength !== actualLength) {
      throw corrupted(
        payloadLength > actualLength
          ? `truncated (header says ${payloadLength} payload bytes, file has ${actualLength})`
          : `${actualLength - payloadLength} unexpected bytes after the ${payloadLength}-byte payload`,
        expectedId ?? checkpointId,
      )
    }
    const payload = new Uint8Array(bytes.buffer, bytes.byteOffset + headerLength, bytes.length - headerLength)
    const expectedChecksum = bytes.subarray(32, headerLength)
    const actualChecksum = createHash('sha256').update(payload).digest()
    if (!actualChecksum.equals(expectedChecksum)) {
      throw corrupted(
        `checksum mismatch (expected ${expectedChecksum.toString('hex', 0, 4)}.., got ${actualChecksum.toString('hex', 0, 4)}..)`,
        expectedId ?? checkpointId,
      )
    }
    if (expectedId !== undefined && checkpointId !== expectedId) {
      throw corrupted(`the file holds checkpoint ${checkpointId}, but its directory is named ${basename(directory)}`)
    }
    return { checkpointId, kind, path: directory, payload, timestamp }
  }

  /** Ids of the completed checkpoints present, ascending. A plain listing: nothing is read or verified. */
  async list(): Promise<number[]> {
    return checkpointIds(await this.listNames())
  }

  /**
   * Deletes every checkpoint of `directory` and the leftovers of interrupted writes (delete-on-cancel).
   * Savepoints are kept: they belong to the user. Writes still in progress are not touched.
   */
  async discardAll(): Promise<void> {
    const names = await this.listNames()
    await Promise.all(checkpointIds(names).map((checkpointId) => this.deleteCheckpoint(checkpointId)))
    await this.deleteLeftovers(names)
  }

  private async moveIntoPlace(temporaryPath: string, finalPath: string, checkpointId: number): Promise<void> {
    try {
      await rename(temporaryPath, finalPath)
      return
    } catch (error) {
      // POSIX rename cannot replace a non-empty directory. The target is an earlier attempt at this id,
      // left by a run that crashed after writing it; the new one supersedes it.
      if (errorCode(error) !== 'ENOTEMPTY' && errorCode(error) !== 'EEXIST' && errorCode(error) !== 'EPERM') throw error
    }
    const asidePath = join(dirname(finalPath), `.chk-${checkpointId}.old-${randomHex(8)}`)
    await rename(finalPath, asidePath)
    await rename(temporaryPath, finalPath)
    await rm(asidePath, { recursive: true, force: true }).catch((error: unknown) =>
      this.onWarning(`could not delete ${asidePath}, the replaced copy of ${finalPath}: ${describeError(error)}`),
    )
  }

  private async applyRetention(justWritten: number): Promise<void> {
    let ids: number[]
    try {
      ids = await this.list()
    } catch (error) {
      this.onWarning(`could not list ${this.directory} to delete old checkpoints: ${describeError(error)}`)
      return
    }
    const retained = new Set(ids.slice(-this.retainedCheckpoints))
    // The id just written stays even if higher ids exist (e.g. a concurrent write finished first).
    retained.add(justWritten)
    await Promise.all(ids.filter((checkpointId) => !retained.has(checkpointId)).map((id) => this.deleteCheckpoint(id)))
  }

  /** Renames the checkpoint aside first so that a crash midway never leaves a half-deleted `chk-<id>`. */
  private async deleteCheckpoint(checkpointId: number): Promise<void> {
    const path = join(this.directory, `chk-${checkpointId}`)
    const asidePath = join(this.directory, `.chk-${checkpointId}.deleting-${randomHex(8)}`)
    try {
      await rename(path, asidePath)
    } catch (error) {
      if (errorCode(error) !== 'ENOENT') this.onWarning(`could not delete checkpoint ${checkpointId} at ${path}: ${describeError(error)}`)
      return
    }
    await rm(asidePath, { recursive: true, force: true }).catch((error: unknown) =>
      this.onWarning(`could not delete ${asidePath} (checkpoint ${checkpointId}, already retired): ${describeError(error)}`),
    )
  }

  private async deleteLeftovers(names: string[]): Promise<void> {
    const leftovers = names.map((name) => join(this.directory, name)).filter((path) => {
      return leftoverNamePattern.test(basename(path)) && !this.inFlight.has(path)
    })
    await Promise.all(
      leftovers.map((path) =>
        rm(path, { recursive: true, force: true }).catch((error: unknown) =>
          this.onWarning(`could not delete ${path}, left by an interrupted checkpoint write: ${describeError(error)}`),
        ),
      ),
    )
  }

  private async listNames(): Promise<string[]> {
    try {
      return await readdir(this.directory)
    } catch (error) {
      if (errorCode(error) === 'ENOENT') return []
      throw error
    }
  }
}

function encode(kind: 'checkpoint' | 'savepoint', checkpointId: number, timestamp: number, payload: Uint8Array): Buffer {
  const header = Buffer.alloc(headerLength)
  magic.copy(header, 0)
  header.writeUInt16BE(formatVersion, 4)
  header.writeUInt16BE(kindCodes[kind], 6)
  header.writeBigUInt64BE(BigInt(checkpointId), 8)
  header.writeDoubleBE(timestamp, 16)
  header.writeBigUInt64BE(BigInt(payload.byteLength), 24)
  createHash('sha256').update(payload).digest().copy(header, 32)
  return Buffer.concat([header, payload])
}

/** Writes `bytes` to a new file and fsyncs it, so that it survives a power loss once this resolves. */
async function writeDurably(path: string, bytes: Uint8Array): Promise<void> {
  const handle = await open(path, 'wx')
  try {
    await handle.writeFile(bytes)
    await handle.sync()
  } finally {
    await handle.close()
  }
}

/** Fsyncs a directory so that the entries created or renamed in it are durable. */
async function syncDirectory(path: string): Promise<void> {
  let handle: FileHandle | undefined
  try {
    handle = await open(path, 'r')
    await handle.sync()
  } catch (error) {
    // Windows cannot open or fsync a directory; there NTFS journals renames itself.
    if (process.platform === 'win32' && ['EISDIR', 'EPERM', 'EACCES', 'EINVAL'].includes(errorCode(error) ?? '')) return
    throw error
  } finally {
    await handle?.close()
  }
}

function checkpointIds(names: string[]): number[] {
  const ids: number[] = []
  for (const name of names) {
    const match = checkpointNamePattern.exec(name)
    const id = match?.[1] === undefined ? Number.NaN : Number(match[1])
    if (Number.isSafeInteger(id)) ids.push(id)
  }
  return ids.sort((left, right) => left - right)
}

function idFromDirectoryName(name: string): number | undefined {
  const digits = (checkpointNamePattern.exec(name) ?? savepointNamePattern.exec(name))?.[1]
  const id = digits === undefined ? Number.NaN : Number(digits)
  return Number.isSafeInteger(id) ? id : undefined
}

function randomHex(bytes: number): string {
  return randomBytes(bytes).toString('hex')
}

function errorCode(error: unknown): string | undefined {
  const code = (error as { code?: unknown } | null)?.code
  return typeof code === 'string' ? code : undefined
}

function describeError(error: unknown): string {
  return error instanceof Error ? error.message : String(error)
}

function describe(value: unknown): string {
  return typeof value === 'string' ? `'${value}'` : String(value)
}
