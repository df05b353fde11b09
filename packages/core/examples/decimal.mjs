// Exact decimal arithmetic for money, as the seed's BigDecimal: a decimal string is held as a bigint of
// units and a scale (number of digits after the point); never a binary floating-point number.

/**
 * @typedef {object} Decimal
 * @property {bigint} units  the value times 10^scale
 * @property {number} scale  digits after the decimal point
 */

/** Parses `'4890'`, `'-12.50'`, `'0.1'`; throws on anything else (no exponents, no separators). */
export function parseDecimal(text) {
  const match = /^(-?)(\d+)(?:\.(\d+))?$/.exec(String(text))
  if (!match) throw new TypeError(`not a decimal number: ${JSON.stringify(text)}`)
  const [, sign, whole, fraction = ''] = match
  const units = BigInt(`${whole}${fraction}`)
  return { units: sign === '-' ? -units : units, scale: fraction.length }
}

/** `decimal × count` for an integer count, keeping the decimal's scale (BigDecimal.multiply by an integer). */
export function multiplyDecimal(decimal, count) {
  return { units: decimal.units * BigInt(count), scale: decimal.scale }
}

/** The decimal as text with its scale: `{ units: 1467000n, scale: 2 }` → `'14670.00'`. */
export function formatDecimal({ units, scale }) {
  const negative = units < 0n
  const digits = (negative ? -units : units).toString().padStart(scale + 1, '0')
  const text = scale === 0 ? digits : `${digits.slice(0, -scale)}.${digits.slice(-scale)}`
  return negative ? `-${text}` : text
}
