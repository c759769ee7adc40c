// Command kubectl is the upstream kubectl, built from the same Kubernetes
// release as kas so the e2e tests need no separately downloaded binary.
package main

import (
	"k8s.io/component-base/cli"
	"k8s.io/kubectl/pkg/cmd"
	"k8s.io/kubectl/pkg/cmd/util"
)

func main() {
	command := cmd.NewDefaultKubectlCommand()
	// RunNoErrOutput leaves error printing to CheckErr, which formats API
	// errors the way kubectl users expect.
	if err := cli.RunNoErrOutput(command); err != nil {
		util.CheckErr(err)
	}
}
