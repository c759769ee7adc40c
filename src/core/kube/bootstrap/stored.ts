import * as yaml from 'js-yaml'
import { checkReferences } from '../kubeconfig-references.js'
import { kubeconfigKind } from './kubeconfig.js'

/**
 * A kubeconfig stored as a secret and given as content (the action's
 * 'kubeconfig' input). It comes first: given, it is the one that mints.
 */
export const stored = kubeconfigKind<{ kind: 'input' }>({
  kind: 'input',
  find: (request) =>
    request.kubeconfig.trim() !== '' ? { kind: 'input' } : undefined,
  describe: () => `the 'kubeconfig' input`,
  fixInput: `'kubeconfig'`,
  read(kc, _source, kubeconfig, where, env) {
    // What it names outside itself is refused before client-node reads it.
    const workspace = env.GITHUB_WORKSPACE || undefined
    checkReferences(yaml.load(kubeconfig), 'input', where, workspace)
    kc.loadFromString(kubeconfig)
  }
})
