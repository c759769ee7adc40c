// L2: the CLI's refusals repeat no value (outside GitHub nothing masks),
// while the action's sentences keep quoting. Each jest test file has its
// own module registry, so the switch here does not reach other files.
import { describe, expect, it } from '@jest/globals'
import {
  InputError,
  quoted,
  stopRepeatingValues
} from '../../../src/core/errors.js'
import { checkNamespace } from '../../../src/core/values.js'

describe('stopRepeatingValues (the CLI calls it first)', () => {
  it("quotes by default (the action's sentences), and repeats no value once the CLI stopped it", () => {
    expect(quoted('s3cret-in-the-wrong-flag')).toBe(
      "'s3cret-in-the-wrong-flag'"
    )
    expect(() => checkNamespace('namespace', 'S3CRET-VALUE')).toThrow(
      /Input 'namespace' is 'S3CRET-VALUE'/
    )
    stopRepeatingValues()
    expect(quoted('s3cret-in-the-wrong-flag')).toBe('a value not repeated here')
    let message = ''
    try {
      checkNamespace('namespace', 'S3CRET-VALUE')
    } catch (error) {
      expect(error).toBeInstanceOf(InputError)
      message = (error as Error).message
    }
    expect(message).toMatch(
      /^Input 'namespace' is a value not repeated here, which is not a valid namespace name/
    )
    expect(message).not.toContain('S3CRET')
  })
})
