import { describe, expect, it } from '@jest/globals'
import {
  formatDuration,
  parseDuration
} from '../../../../src/core/token/duration.js'
import { InputError } from '../../../../src/core/errors.js'

describe('duration.ts', () => {
  describe('parseDuration', () => {
    it.each<[string, number]>([
      ['900', 900],
      ['900s', 900],
      ['15m', 900],
      ['1h', 3600],
      ['1h30m', 5400],
      ['1h30m15s', 5415],
      ['1.5h', 5400],
      ['0.5m', 30],
      ['2h0m0s', 7200],
      [' 10m ', 600],
      ['0', 0]
    ])('reads %p as %p seconds', (raw, seconds) => {
      expect(parseDuration('duration', raw)).toBe(seconds)
    })

    it.each<[string, RegExp]>([
      ['10x', /not a duration/],
      ['', /not a duration/],
      ['m', /not a duration/],
      ['15 m', /not a duration/],
      ['-15m', /not a duration/],
      ['1e3', /not a duration/],
      ['900ms', /not a duration/],
      ['1h-30m', /not a duration/],
      ['1.5s', /not a whole number of seconds/],
      ['0.01m', /not a whole number of seconds/]
    ])('refuses %p with an InputError naming the input', (raw, reason) => {
      let caught: unknown
      try {
        parseDuration('max-duration', raw)
      } catch (error) {
        caught = error
      }
      expect(caught).toBeInstanceOf(InputError)
      const message = (caught as InputError).message
      expect(message).toContain(`'max-duration'`)
      expect(message).toContain(`'${raw}'`)
      expect(message).toMatch(reason)
      expect(message).not.toContain('\n')
    })
  })

  describe('formatDuration', () => {
    it.each<[number, string]>([
      [0, '0s'],
      [-5, '0s'],
      [45, '45s'],
      [600, '10m'],
      [3600, '1h'],
      [5400, '1h30m'],
      [3601, '1h1s'],
      [21900, '6h5m'],
      [90061, '25h1m1s']
    ])('renders %p seconds as %p', (seconds, text) => {
      expect(formatDuration(seconds)).toBe(text)
    })

    it('round-trips through parseDuration', () => {
      for (const seconds of [600, 900, 3599, 5400, 21900, 86400]) {
        expect(parseDuration('duration', formatDuration(seconds))).toBe(seconds)
      }
    })
  })
})
