package main

import (
	"context"
	"fmt"
	"os"
	"runtime"
	"syscall"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/util/retry"
	"k8s.io/component-base/version"
)

// heartbeatInterval is how often the Ready condition is renewed. Nothing in
// the test cluster would mark the node NotReady (there is no controller
// manager), but `kubectl describe node` should show a live heartbeat.
const heartbeatInterval = 20 * time.Second

func memoryBytes() int64 {
	var info syscall.Sysinfo_t
	if err := syscall.Sysinfo(&info); err != nil {
		return 1 << 30
	}
	return int64(info.Totalram) * int64(info.Unit)
}

func hostname() string {
	name, err := os.Hostname()
	if err != nil {
		return "localhost"
	}
	return name
}

// nodeStatus is what a kubelet reports: how to reach it (the API server
// picks the InternalIP with --kubelet-preferred-address-types=InternalIP
// and the port from daemonEndpoints), that it is Ready, and what it runs.
func (a *agent) nodeStatus(old corev1.NodeStatus) corev1.NodeStatus {
	now := metav1.Now()
	capacity := corev1.ResourceList{
		corev1.ResourceCPU:    *resource.NewQuantity(int64(runtime.NumCPU()), resource.DecimalSI),
		corev1.ResourceMemory: *resource.NewQuantity(memoryBytes(), resource.BinarySI),
		corev1.ResourcePods:   *resource.NewQuantity(110, resource.DecimalSI),
	}
	condition := func(kind corev1.NodeConditionType, status corev1.ConditionStatus, reason, message string) corev1.NodeCondition {
		c := corev1.NodeCondition{
			Type: kind, Status: status, Reason: reason, Message: message,
			LastHeartbeatTime: now, LastTransitionTime: now,
		}
		// Keep the transition time while the status stays the same.
		for _, prev := range old.Conditions {
			if prev.Type == kind && prev.Status == status {
				c.LastTransitionTime = prev.LastTransitionTime
			}
		}
		return c
	}
	return corev1.NodeStatus{
		Capacity:    capacity,
		Allocatable: capacity,
		Conditions: []corev1.NodeCondition{
			condition(corev1.NodeMemoryPressure, corev1.ConditionFalse, "KubeletHasSufficientMemory", "not measured: test node"),
			condition(corev1.NodeDiskPressure, corev1.ConditionFalse, "KubeletHasNoDiskPressure", "not measured: test node"),
			condition(corev1.NodePIDPressure, corev1.ConditionFalse, "KubeletHasSufficientPID", "not measured: test node"),
			condition(corev1.NodeReady, corev1.ConditionTrue, "KubeletReady", "node-agent is serving exec on 127.0.0.1"),
		},
		Addresses: []corev1.NodeAddress{
			{Type: corev1.NodeInternalIP, Address: "127.0.0.1"},
			{Type: corev1.NodeHostName, Address: a.nodeName},
		},
		DaemonEndpoints: corev1.NodeDaemonEndpoints{
			KubeletEndpoint: corev1.DaemonEndpoint{Port: int32(a.port)},
		},
		NodeInfo: corev1.NodeSystemInfo{
			KubeletVersion:          version.Get().GitVersion,
			OperatingSystem:         runtime.GOOS,
			Architecture:            runtime.GOARCH,
			OSImage:                 "the host (" + hostname() + ")",
			ContainerRuntimeVersion: "node-agent://exec-on-host",
		},
	}
}

// registerNode creates the Node, or takes over one left by an earlier agent
// of the same cluster, and reports it Ready.
func (a *agent) registerNode(ctx context.Context, client kubernetes.Interface) error {
	nodes := client.CoreV1().Nodes()
	node := &corev1.Node{
		ObjectMeta: metav1.ObjectMeta{
			Name: a.nodeName,
			Labels: map[string]string{
				corev1.LabelHostname:   a.nodeName,
				corev1.LabelOSStable:   runtime.GOOS,
				corev1.LabelArchStable: runtime.GOARCH,
			},
		},
	}
	if _, err := nodes.Create(ctx, node, metav1.CreateOptions{}); err != nil && !apierrors.IsAlreadyExists(err) {
		return fmt.Errorf("creating Node %s: %w", a.nodeName, err)
	}
	return a.updateNodeStatus(ctx, client)
}

func (a *agent) updateNodeStatus(ctx context.Context, client kubernetes.Interface) error {
	nodes := client.CoreV1().Nodes()
	return retry.RetryOnConflict(retry.DefaultRetry, func() error {
		current, err := nodes.Get(ctx, a.nodeName, metav1.GetOptions{})
		if err != nil {
			return err
		}
		current.Status = a.nodeStatus(current.Status)
		_, err = nodes.UpdateStatus(ctx, current, metav1.UpdateOptions{})
		return err
	})
}

func (a *agent) heartbeat(ctx context.Context, client kubernetes.Interface) {
	ticker := time.NewTicker(heartbeatInterval)
	defer ticker.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-ticker.C:
			if err := a.updateNodeStatus(ctx, client); err != nil && ctx.Err() == nil {
				a.logf("node status update failed: %v", err)
			}
		}
	}
}
