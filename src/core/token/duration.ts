import { InputError, quoted } from '../errors.js'

const UNIT_SECONDS: Record<string, number> = { h: 3600, m: 60, s: 1 }

/**
 * Parse a Go-style duration (`900s`, `15m`, `1h30m`, `1.5h`) or plain seconds
 * (`900`) into whole seconds. Sub-second units are refused because the
 * TokenRequest API counts whole seconds.
 */
export function parseDuration(input: string, raw: string): number {
  const value = raw.trim()
  const hint = `use a duration such as 900s, 15m or 1h30m, or plain seconds`
  if (/^\d+$/.test(value)) return Number(value)
  if (!/^(\d+(\.\d+)?[hms])+$/.test(value)) {
    throw new InputError(
      `Input '${input}' is ${quoted(raw)}, which is not a duration: ${hint}.`
    )
  }
  let seconds = 0
  for (const [, amount, unit] of value.matchAll(/(\d+(?:\.\d+)?)([hms])/g)) {
    seconds += Number(amount) * (UNIT_SECONDS[unit ?? 's'] ?? 1)
  }
  if (!Number.isInteger(Math.round(seconds * 1000) / 1000)) {
    throw new InputError(
      `Input '${input}' is ${quoted(raw)}, which is not a whole number of seconds: ${hint}.`
    )
  }
  return Math.round(seconds)
}

/** Render seconds the way people write them: 3600 -> 1h, 5400 -> 1h30m. */
export function formatDuration(totalSeconds: number): string {
  if (totalSeconds <= 0) return '0s'
  const h = Math.floor(totalSeconds / 3600)
  const m = Math.floor((totalSeconds % 3600) / 60)
  const s = totalSeconds % 60
  return `${h ? `${h}h` : ''}${m ? `${m}m` : ''}${s ? `${s}s` : ''}`
}
