import { createRequire as __createRequire } from 'node:module'; const require = __createRequire(import.meta.url);
var t=`Usage: ephemeral-scan-token <command> [flags]

Commands (not yet available in this build):
  mint    --service-account NAME [--namespace NS] [--duration auto|DURATION]
          [--max-duration D] [--bind-to secret|none|pod/NAME]
          [--kubeconfig FILE | --oidc-token-env VAR --server URL
           --certificate-authority-data B64] [--dir DIR]
          [--expect-allowed ...] [--expect-denied ...] [--excess-privilege ...]
  revoke  --state FILE

Use the GitHub Action (action.yml) meanwhile.
`,[e]=process.argv.slice(2);e===void 0||e==="help"||e==="--help"?process.stdout.write(t):(process.stderr.write(`The command '${e.replace(/[^\w-]/g,"?")}' is not available in this build: run 'ephemeral-scan-token --help' for what it will take.
`),process.stdout.write(t),process.exitCode=2);
