// The core's sentences name what was wrong as the action's input
// ("Input 'duration' is …", "set 'max-duration' higher"); on the command line
// the same value is a flag. This rewrites those names, and nothing else, so
// both front doors share one sentence per problem.

/** Every action input that is a flag of the CLI under the same name. */
const FLAGS = [
  'service-account',
  'namespace',
  'duration',
  'max-duration',
  'bind-to',
  'audiences',
  'kubeconfig',
  'context',
  'verify',
  'expect-allowed',
  'expect-denied',
  'excess-privilege',
  'oidc-audience',
  'server',
  'certificate-authority-data',
  'renew-every'
]
const NAME = FLAGS.join('|')

/** A core sentence in the CLI's words: inputs become flags. */
export function flagWords(sentence: string): string {
  const words = sentence
    .replace(
      new RegExp(`\\bInputs '(${NAME})' and '(${NAME})'`, 'g'),
      'Flags --$1 and --$2'
    )
    .replace(new RegExp(`\\bInputs? '(${NAME})'`, 'g'), 'Flag --$1')
    .replace(new RegExp(`\\bthe '(${NAME})' input\\b`, 'g'), 'the flag --$1')
    .replace(new RegExp(`'(${NAME})' input\\b`, 'g'), 'flag --$1')
    .replace(new RegExp(`'(${NAME})'`, 'g'), '--$1')
    .replace(/'bind-to: ([a-z:.-]+)'/g, "'--bind-to $1'")
    // Places the action knows and the CLI does not.
    .replace(/\bRUNNER_TEMP\b/g, 'the --dir directory')
    .replace(/\bthe main step\b/g, 'mint')
    .replace(/\bthis action\b/g, 'ephemeral-scan-token')
  // A sentence starts with a capital ("the kubeconfig file … cannot be read").
  return words.charAt(0).toUpperCase() + words.slice(1)
}
