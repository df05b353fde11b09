import type { Dirent } from 'node:fs'
import { readdir } from 'node:fs/promises'
import path from 'node:path'

/** The files under a sink's base path, split into finished (visible) and hidden (in-progress, pending, leftovers). */
export interface OutputFiles {
  /** Absolute paths, sorted. */
  readonly finished: string[]
  readonly hidden: string[]
}

/** Walks `basePath` (all of it, hidden directories too) and sorts its files by visibility. */
export async function listOutputFiles(basePath: string): Promise<OutputFiles> {
  const finished: string[] = []
  const hidden: string[] = []
  const walk = async (directory: string, insideHidden: boolean): Promise<void> => {
    let entries: Dirent[]
    try {
      entries = await readdir(directory, { withFileTypes: true })
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return
      throw error
    }
    for (const entry of entries) {
      const full = path.join(directory, entry.name)
      const isHidden = insideHidden || entry.name.startsWith('.')
      if (entry.isDirectory()) await walk(full, isHidden)
      else (isHidden ? hidden : finished).push(full)
    }
  }
  await walk(basePath, false)
  return { finished: finished.sort(), hidden: hidden.sort() }
}
