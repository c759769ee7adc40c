# A tiny, read-only baseline "profile" for where CINC Auditor is not
# installed: run it inside the scanned container through the minted token,
#
#   kubectl exec -i -n scan-target app-pod-1 -c app -- sh -s < baseline.sh
#
# (what `cinc-auditor exec PROFILE -t k8s-container://scan-target/app-pod-1/app`
# does with a real profile). POSIX sh only, so it runs in any image with a
# shell. Each control prints "ok" or "not ok" and a name; the exit code is
# the number of failed controls (0: all passed). It changes nothing.

failed=0
control() { # control NAME COMMAND...
  name=$1
  shift
  if "$@" >/dev/null 2>&1; then
    echo "ok      $name"
  else
    echo "not ok  $name"
    failed=$((failed + 1))
  fi
}
not_world_writable() { [ -z "$(find "$1" -maxdepth 0 -perm -0002 2>/dev/null)" ]; }

control 'os-release-present: /etc/os-release exists' test -f /etc/os-release
control 'passwd-present: /etc/passwd exists' test -f /etc/passwd
control 'passwd-not-world-writable: /etc/passwd is not world-writable' not_world_writable /etc/passwd
control 'tmp-sticky: /tmp has the sticky bit' test -k /tmp
echo "$((4 - failed)) of 4 controls passed"
exit "$failed"
