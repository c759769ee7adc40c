# The Python `kubernetes` client with one kubeconfig, kept in ONE process:
# for every line on stdin it lists the pods of a namespace and prints, as one
# JSON line, their names and the credential-id (jti) the API server's
# SelfSubjectReview reports for the token it sent. Driven by
# __tests__/e2e/renewal.e2e.test.ts, which moves this process's clock (and
# the helper's, which inherits the environment) between lines.
import json
import sys

from kubernetes import client, config

config.load_kube_config(config_file=sys.argv[1])
core = client.CoreV1Api()
auth = client.AuthenticationV1Api()
for _ in sys.stdin:
    pods = core.list_namespaced_pod(sys.argv[2])
    review = auth.create_self_subject_review(client.V1SelfSubjectReview())
    extra = review.status.user_info.extra or {}
    ids = extra.get("authentication.kubernetes.io/credential-id") or [None]
    print(
        json.dumps({"pods": [p.metadata.name for p in pods.items], "jti": ids[0]}),
        flush=True,
    )
