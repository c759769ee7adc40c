import * as fs from 'node:fs'
import * as os from 'node:os'
import * as path from 'node:path'
import { KubeConfig } from '@kubernetes/client-node'
import * as yaml from 'js-yaml'
import { InputError } from '../../errors.js'
import { OWN_DIR } from '../../names.js'
import { checkReferences } from '../kubeconfig-references.js'
import { kubeconfigKind } from './kubeconfig.js'

type FilesSource = { kind: 'files'; paths: string[] }

/** Merge the files as kubectl does: the first to set a value wins. */
function loadFiles(kc: KubeConfig, paths: string[]): void {
  const [first, ...rest] = paths
  if (first === undefined) return
  kc.loadFromFile(first)
  for (const file of rest) {
    const extra = new KubeConfig()
    extra.loadFromFile(file)
    kc.mergeConfig(extra, true)
  }
}

/**
 * The kubeconfig a runner already has: the files KUBECONFIG lists, else
 * ~/.kube/config. Never a kubeconfig this action wrote for a scanner.
 */
export const defaultFiles = kubeconfigKind<FilesSource>({
  kind: 'files',
  find({ env }) {
    const listed = (env.KUBECONFIG ?? '')
      .split(path.delimiter)
      .filter((p) => p !== '')
    if (listed.some((p) => OWN_DIR.test(path.basename(path.dirname(p))))) {
      throw new InputError(
        `KUBECONFIG points at a kubeconfig an earlier use of this action wrote, ` +
          `whose scanner token cannot mint: pass the bootstrap kubeconfig in the ` +
          `'kubeconfig' input.`
      )
    }
    if (listed.length > 0) return { kind: 'files', paths: listed }
    const home = path.join(env.HOME ?? os.homedir(), '.kube', 'config')
    return fs.existsSync(home) ? { kind: 'files', paths: [home] } : undefined
  },
  describe: (source) =>
    `the kubeconfig file ${source.paths.join(path.delimiter)}`,
  fixInput: `'kubeconfig' (or KUBECONFIG)`,
  read(kc, source, _kubeconfig, _where, env) {
    const workspace = env.GITHUB_WORKSPACE || undefined
    for (const file of source.paths) {
      const raw = yaml.load(fs.readFileSync(file, 'utf8'))
      checkReferences(raw, 'files', `the kubeconfig file ${file}`, workspace)
    }
    loadFiles(kc, source.paths)
  }
})
