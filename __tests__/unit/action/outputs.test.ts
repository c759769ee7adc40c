import { describe, expect, it } from '@jest/globals'
import {
  CONTAINER_RUNNER_TEMP,
  containerKubeconfigPath
} from '../../../src/action/outputs.js'

describe('outputs.ts: container-kubeconfig', () => {
  it('rejoins the path below RUNNER_TEMP under /github/runner_temp', () => {
    expect(
      containerKubeconfigPath(
        '/home/runner/work/_temp/ephemeral-scan-token-ab12/kubeconfig',
        '/home/runner/work/_temp'
      )
    ).toBe('/github/runner_temp/ephemeral-scan-token-ab12/kubeconfig')
  })

  it('is the same file in a container job, where RUNNER_TEMP is /__w/_temp', () => {
    expect(
      containerKubeconfigPath(
        '/__w/_temp/ephemeral-scan-token-cd34/kubeconfig',
        '/__w/_temp'
      )
    ).toBe(`${CONTAINER_RUNNER_TEMP}/ephemeral-scan-token-cd34/kubeconfig`)
  })

  it('ignores a trailing slash on RUNNER_TEMP', () => {
    expect(
      containerKubeconfigPath(
        '/runner/_temp/ephemeral-scan-token-ef56/kubeconfig',
        '/runner/_temp/'
      )
    ).toBe('/github/runner_temp/ephemeral-scan-token-ef56/kubeconfig')
  })
})
