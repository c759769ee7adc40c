// The CLI for other CI systems (SPEC "The CLI for other CI systems"). For
// now it only says what it will take; `mint` and `revoke` come with issue 19
// and run the same core as the action, with a host of their own
// (src/core/ports.ts) that prints no workflow command.

const USAGE = `Usage: ephemeral-scan-token <command> [flags]

Commands (not yet available in this build):
  mint    --service-account NAME [--namespace NS] [--duration auto|DURATION]
          [--max-duration D] [--bind-to secret|none|pod/NAME]
          [--kubeconfig FILE | --oidc-token-env VAR --server URL
           --certificate-authority-data B64] [--dir DIR]
          [--expect-allowed ...] [--expect-denied ...] [--excess-privilege ...]
  revoke  --state FILE

Use the GitHub Action (action.yml) meanwhile.
`

const [command] = process.argv.slice(2)
if (command === undefined || command === 'help' || command === '--help') {
  process.stdout.write(USAGE)
} else {
  // One sentence on stderr and a non-zero exit, as every CLI error will be.
  process.stderr.write(
    `The command '${command.replace(/[^\w-]/g, '?')}' is not available in this build: run 'ephemeral-scan-token --help' for what it will take.\n`
  )
  process.stdout.write(USAGE)
  process.exitCode = 2
}
