import { ConfigError } from '@sluice/core'

/**
 * A small, fast subset of Java's `DateTimeFormatter` patterns, enough for bucket ids such as
 * Flink's default `yyyy-MM-dd--HH`, in any IANA time zone (through `Intl`, so no time zone database is
 * bundled).
 *
 * | letters | meaning | example |
 * |---|---|---|
 * | `yyyy` (`uuuu`), `yy`, `y` | year: padded to the count; `yy` is the last two digits | 2024, 24 |
 * | `MM`, `M` | month 1–12 | 05, 5 |
 * | `dd`, `d` | day of month | 07, 7 |
 * | `DDD`, `D` | day of year 1–366 | 128 |
 * | `HH`, `H` | hour of day 0–23 | 09, 9 |
 * | `mm`, `m` | minute | 04 |
 * | `ss`, `s` | second | 59 |
 * | `SSS`, `SS`, `S` | fraction of second (milliseconds, truncated to the count) | 123 |
 * | `'text'` | literal text (`''` is a single quote) | |
 *
 * Any other ASCII letter is refused (Java reserves them all as pattern letters), so a typo never
 * silently becomes literal text; other characters (`-`, `/`, `_`, `=`, digits...) are copied as is.
 */
export interface DateTimeFormat {
  /** The pattern, as given. */
  readonly pattern: string
  readonly timeZone: string
  format(epochMillis: number): string
}

type Field = 'year' | 'year2' | 'month' | 'day' | 'dayOfYear' | 'hour' | 'minute' | 'second' | 'fraction'
type Part = { readonly literal: string } | { readonly field: Field; readonly width: number }

const letterFields: Record<string, Field> = { y: 'year', u: 'year', M: 'month', d: 'day', D: 'dayOfYear', H: 'hour', m: 'minute', s: 'second', S: 'fraction' }
const maxWidth: Record<string, number> = { y: 9, u: 9, M: 2, d: 2, D: 3, H: 2, m: 2, s: 2, S: 3 }

/** The system's default IANA time zone (Flink's `ZoneId.systemDefault()`). */
export function systemTimeZone(): string {
  return new Intl.DateTimeFormat().resolvedOptions().timeZone
}

/**
 * Compiles a pattern for a time zone.
 * @throws ConfigError naming `<optionPath>.format` or `<optionPath>.timeZone`.
 */
export function compileDateTimeFormat(pattern: string, timeZone: string, optionPath: string): DateTimeFormat {
  const parts = parsePattern(pattern, `${optionPath}.format`)
  let intl: Intl.DateTimeFormat
  try {
    intl = new Intl.DateTimeFormat('en-US', {
      timeZone,
      hourCycle: 'h23',
      year: 'numeric',
      month: 'numeric',
      day: 'numeric',
      hour: 'numeric',
      minute: 'numeric',
      second: 'numeric',
    })
  } catch (error) {
    throw new ConfigError(`${optionPath}.timeZone`, `expected an IANA time zone such as 'UTC' or 'Europe/Paris', got '${timeZone}' (${(error as Error).message})`)
  }
  const needsMillis = parts.some((p) => 'field' in p && p.field === 'fraction')
  // Formatting through Intl costs about a microsecond; records of the same second share the id.
  let cachedKey = Number.NaN
  let cachedText = ''
  return {
    pattern,
    timeZone: intl.resolvedOptions().timeZone,
    format(epochMillis: number): string {
      const key = needsMillis ? epochMillis : Math.floor(epochMillis / 1000)
      if (key === cachedKey) return cachedText
      cachedText = render(parts, intl, epochMillis)
      cachedKey = key
      return cachedText
    },
  }
}

function parsePattern(pattern: string, path: string): Part[] {
  if (typeof pattern !== 'string' || pattern.length === 0) throw new ConfigError(path, `expected a non-empty pattern such as 'yyyy-MM-dd--HH', got ${JSON.stringify(pattern)}`)
  const parts: Part[] = []
  let literal = ''
  for (let i = 0; i < pattern.length; ) {
    const c = pattern[i] as string
    if (c === "'") {
      if (pattern[i + 1] === "'") {
        literal += "'"
        i += 2
        continue
      }
      // Quoted text runs to the next lone quote; a doubled quote inside it is a literal quote.
      let j = i + 1
      for (;;) {
        if (j >= pattern.length) throw new ConfigError(path, `unterminated quoted text at position ${i} of '${pattern}'`)
        if (pattern[j] === "'") {
          if (pattern[j + 1] === "'") {
            literal += "'"
            j += 2
            continue
          }
          break
        }
        literal += pattern[j]
        j++
      }
      i = j + 1
      continue
    }
    if (/[A-Za-z]/.test(c)) {
      const field = letterFields[c]
      if (field === undefined) {
        throw new ConfigError(path, `pattern letter '${c}' at position ${i} of '${pattern}' is not supported (supported: y u M d D H m s S; quote literal text as 'text')`)
      }
      let width = 1
      while (pattern[i + width] === c) width++
      if (width > (maxWidth[c] as number)) throw new ConfigError(path, `'${c.repeat(width)}' in '${pattern}' is too long (at most ${maxWidth[c]} '${c}')`)
      if (literal) parts.push({ literal })
      literal = ''
      parts.push({ field: (c === 'y' || c === 'u') && width === 2 ? 'year2' : field, width })
      i += width
      continue
    }
    literal += c
    i++
  }
  if (literal) parts.push({ literal })
  return parts
}

function render(parts: Part[], intl: Intl.DateTimeFormat, epochMillis: number): string {
  let year = 0
  let month = 0
  let day = 0
  let hour = 0
  let minute = 0
  let second = 0
  for (const part of intl.formatToParts(epochMillis)) {
    switch (part.type) {
      case 'year':
        year = Number(part.value)
        break
      case 'month':
        month = Number(part.value)
        break
      case 'day':
        day = Number(part.value)
        break
      case 'hour':
        hour = Number(part.value)
        break
      case 'minute':
        minute = Number(part.value)
        break
      case 'second':
        second = Number(part.value)
        break
    }
  }
  let text = ''
  for (const part of parts) {
    if ('literal' in part) {
      text += part.literal
      continue
    }
    switch (part.field) {
      case 'year':
        text += pad(year, part.width)
        break
      case 'year2':
        text += pad(year % 100, 2)
        break
      case 'month':
        text += pad(month, part.width)
        break
      case 'day':
        text += pad(day, part.width)
        break
      case 'dayOfYear':
        text += pad((Date.UTC(year, month - 1, day) - Date.UTC(year, 0, 1)) / 86_400_000 + 1, part.width)
        break
      case 'hour':
        text += pad(hour, part.width)
        break
      case 'minute':
        text += pad(minute, part.width)
        break
      case 'second':
        text += pad(second, part.width)
        break
      case 'fraction':
        text += pad(((epochMillis % 1000) + 1000) % 1000, 3).slice(0, part.width)
        break
    }
  }
  return text
}

function pad(value: number, width: number): string {
  return String(value).padStart(width, '0')
}
