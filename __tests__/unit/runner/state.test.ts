import { afterEach, beforeEach, describe, expect, it } from '@jest/globals'
import { TestRunner } from '../../../__fixtures__/runner.js'
import {
  getRunState,
  isPost,
  markMainStarted,
  RunRecord
} from '../../../src/runner/state.js'

let runner: TestRunner

beforeEach(() => {
  runner = new TestRunner()
  runner.newStep()
})

afterEach(() => {
  runner.restore()
})

describe('state.ts', () => {
  it('tells main from post by the mark main saves, which the runner hands to post', () => {
    expect(isPost()).toBe(false)
    markMainStarted()
    expect(isPost()).toBe(false) // saved for the next step, not this one
    runner.passStateToNextStep()
    expect(isPost()).toBe(true)
  })

  it('saves every change at once, so a main that dies halfway leaves post the latest record', () => {
    const record = new RunRecord()
    record.perRunSecretPlanned({ namespace: 'scan', name: 'est-1' })
    expect(JSON.parse(runner.stateHistory().at(-1) ?? '')).toEqual({
      anchor: { namespace: 'scan', name: 'est-1' }
    })
    record.perRunSecretCreated('uid-1')
    record.kubeconfigDir('/tmp/x')
    runner.passStateToNextStep()
    expect(getRunState()).toEqual({
      anchor: { namespace: 'scan', name: 'est-1', uid: 'uid-1', created: true },
      kubeconfigDir: '/tmp/x'
    })
  })

  it('forgets a Secret that was certainly not created, and everything on clear', () => {
    const record = new RunRecord()
    record.perRunSecretPlanned({ namespace: 'scan', name: 'est-1' })
    record.perRunSecretNotCreated()
    expect(record.current).toEqual({})
    record.kubeconfigDir('/tmp/x')
    record.clear()
    expect(record.current).toEqual({})
    runner.passStateToNextStep()
    expect(getRunState()).toBeUndefined()
  })

  it('hands out copies, so callers cannot change the record without saving', () => {
    const record = new RunRecord()
    record.kubeconfigDir('/tmp/x')
    record.current.kubeconfigDir = '/elsewhere'
    expect(record.current.kubeconfigDir).toBe('/tmp/x')
  })
})
