// What --help prints for each command (stdout, exit 0).

const IDENTITY = `Identity (who mints or revokes; chosen with --identity, else detected):
  --identity kubeconfig|in-cluster|env:VAR|buildkite|github
  --kubeconfig FILE        a bootstrap kubeconfig file (default: KUBECONFIG,
                           then ~/.kube/config, then the in-cluster ServiceAccount)
  --context NAME           its context (default: its current context)
  --oidc-token-env VAR     an ID token in the variable VAR (GitLab id_tokens:)
  --oidc-audience AUD      the audience to request (buildkite, github)
  --server URL             API server (https://) for an ID-token bootstrap
  --certificate-authority-data B64   its CA bundle, base64 PEM
  Detection: --oidc-token-env means env:VAR, --kubeconfig a file; --server
  on Buildkite means its agent, on GitHub Actions its ID-token endpoint;
  otherwise a kubeconfig.`

const EXITS = `Exit status:
  0  done
  1  unexpected error (a defect: please report it)
  2  bad input: a flag, the environment or a path; nothing was sent
  3  could not mint: the identity, the API server or the disk refused;
     nothing is left behind
  4  proof failed (identity, --expect-*, --excess-privilege fail): the token
     was minted and revoked again
  5  revoke: the state file is not one mint wrote for this job (a field,
     the directory, the context or the server); nothing was deleted
  6  something may be left: revoke, or mint's rollback, could not remove
     the Secret or the directory; the state file is kept, run revoke`

export const MAIN_USAGE = `Usage: ephemeral-scan-token <command> [flags]

Mint a short-lived Kubernetes ServiceAccount token bound to a per-run
Secret, write a private kubeconfig, prove least privilege, and revoke it at
the end of the job: the GitHub Action's guarantees for any CI.

Commands:
  mint     mint the token and write the kubeconfig; prints one JSON object
  revoke   delete the per-run Secret (revoking the token) and the kubeconfig

Run 'ephemeral-scan-token <command> --help' for a command's flags.
Nothing it prints holds a credential.
`

export const MINT_USAGE = `Usage: ephemeral-scan-token mint --service-account NAME [flags]

Prints one JSON object on stdout: {"kubeconfig", "state", "expiration",
"expiresIn", "credentialId", "serviceAccount", "lifetimeSource"}, plus
"tokenLifetime" with --renew-every; log lines go to stderr. Never prints the token.

  --service-account NAME   the ServiceAccount to mint for (required)
  --namespace NS           its namespace (default: default)
  --duration auto|D        lifetime: auto (the job's remaining time + 5m),
                           or 15m, 1h30m, 900s (at least 10m)
  --max-duration D         ceiling for auto (default: 1h)
  --deadline auto|gitlab|buildkite|none
                           where auto reads the job's deadline (default:
                           detect; GitLab CI_JOB_STARTED_AT + CI_JOB_TIMEOUT,
                           Buildkite BUILDKITE_TIMEOUT; elsewhere it asks
                           for --max-duration and says so)
  --bind-to secret|none|pod:NAME   what the token is bound to (default:
                           secret, a per-run Secret revoke deletes)
  --audiences A,B          token audiences (default: the API server's)
  --renew-every D          renew: each token lives D (at least 10m; window
                           at most 6h10m), kubectl's exec helper mints the
                           next; with --oidc-token-env (kubectl must run
                           where the variable is set), --identity github
                           or in-cluster
  --verify true|false      confirm the identity (default: true)
  --expect-allowed LINE    a check that must be allowed, kubectl auth can-i
                           grammar ('get pods', 'create pods/exec -n ns');
                           repeat the flag for more
  --expect-denied LINE     a check that must be denied; repeatable
  --excess-privilege warn|fail|off   review the token's RBAC (default: warn)
  --dir DIR                where the kubeconfig's 0700 directory is made
                           (default: TMPDIR or /tmp; RUNNER_TEMP on GitHub)
  --state FILE             where the state file for revoke goes (must not
                           exist; default: a new file in --dir). Keep it out
                           of anything your CI uploads as artifacts.

${IDENTITY}

${EXITS}
`

export const REVOKE_USAGE = `Usage: ephemeral-scan-token revoke --state FILE [flags]

Deletes the per-run Secret (which revokes the token) and the kubeconfig
directory that mint recorded in FILE, then FILE itself. Running it again,
or without FILE, does nothing and exits 0. It needs the identity again (the
same identity flags, --namespace and --dir as mint), never a credential
from the state file, which it checks as untrusted input.

  --state FILE             the state file mint wrote (required)
  --namespace NS           mint's --namespace (default: default)
  --dir DIR                mint's --dir (default: TMPDIR or /tmp)

${IDENTITY}

${EXITS}
`
