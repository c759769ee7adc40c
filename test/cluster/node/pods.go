package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/fields"
	"k8s.io/client-go/informers"
	"k8s.io/client-go/kubernetes"
	listersv1 "k8s.io/client-go/listers/core/v1"
	"k8s.io/client-go/tools/cache"
	"k8s.io/client-go/util/workqueue"
	"k8s.io/utils/ptr"
)

// podController reports every pod bound to this node (spec.nodeName) as
// Running with ready containers, as a kubelet would once the containers
// started; nothing is pulled or started, exec runs on the host. It deletes
// a pod marked for deletion at once (the kubelet's last step of graceful
// deletion), after ending the commands still running in it.
type podController struct {
	agent  *agent
	client kubernetes.Interface
	lister listersv1.PodLister
	queue  workqueue.TypedRateLimitingInterface[string]
	synced cache.InformerSynced
}

func newPodController(a *agent, client kubernetes.Interface) (*podController, informers.SharedInformerFactory) {
	// The Node authorizer lets a node list and watch only the pods with this
	// field selector, exactly as it does for the real kubelet.
	factory := informers.NewSharedInformerFactoryWithOptions(client, 10*time.Minute,
		informers.WithTweakListOptions(func(o *metav1.ListOptions) {
			o.FieldSelector = fields.OneTermEqualSelector("spec.nodeName", a.nodeName).String()
		}))
	informer := factory.Core().V1().Pods()
	c := &podController{
		agent:  a,
		client: client,
		lister: informer.Lister(),
		queue: workqueue.NewTypedRateLimitingQueueWithConfig(
			workqueue.DefaultTypedControllerRateLimiter[string](),
			workqueue.TypedRateLimitingQueueConfig[string]{Name: "pods"}),
		synced: informer.Informer().HasSynced,
	}
	enqueue := func(obj any) {
		if key, err := cache.DeletionHandlingMetaNamespaceKeyFunc(obj); err == nil {
			c.queue.Add(key)
		}
	}
	_, err := informer.Informer().AddEventHandler(cache.ResourceEventHandlerFuncs{
		AddFunc:    enqueue,
		UpdateFunc: func(_, obj any) { enqueue(obj) },
		DeleteFunc: enqueue,
	})
	if err != nil {
		fatalf("watching pods: %v", err)
	}
	return c, factory
}

func (c *podController) run(ctx context.Context) {
	defer c.queue.ShutDown()
	if !cache.WaitForCacheSync(ctx.Done(), c.synced) {
		return
	}
	go func() {
		for c.next(ctx) {
		}
	}()
	<-ctx.Done()
}

func (c *podController) next(ctx context.Context) bool {
	key, quit := c.queue.Get()
	if quit {
		return false
	}
	defer c.queue.Done(key)
	if err := c.sync(ctx, key); err != nil {
		if ctx.Err() == nil {
			c.agent.logf("pod %s: %v (will retry)", key, err)
		}
		c.queue.AddRateLimited(key)
		return true
	}
	c.queue.Forget(key)
	return true
}

// podDir is the working directory of the pod's exec'd commands, kept for
// the pod's lifetime (files a scan writes there survive between execs).
func (a *agent) podDir(pod *corev1.Pod) string {
	return filepath.Join(a.dir, "pods", fmt.Sprintf("%s_%s_%s", pod.Namespace, pod.Name, pod.UID))
}

func (c *podController) sync(ctx context.Context, key string) error {
	namespace, name, err := cache.SplitMetaNamespaceKey(key)
	if err != nil {
		return nil
	}
	pod, err := c.lister.Pods(namespace).Get(name)
	if apierrors.IsNotFound(err) {
		c.agent.forgetPod(namespace, name)
		return nil
	}
	if err != nil {
		return err
	}
	if pod.DeletionTimestamp != nil {
		return c.terminate(ctx, pod)
	}
	if running(pod) {
		return nil
	}
	if err := os.MkdirAll(c.agent.podDir(pod), 0o700); err != nil {
		return err
	}
	updated := pod.DeepCopy()
	updated.Status = runningStatus(pod)
	if _, err := c.client.CoreV1().Pods(namespace).UpdateStatus(ctx, updated, metav1.UpdateOptions{}); err != nil {
		// A conflict means the informer has a newer pod on its way, which
		// enqueues this key again.
		return err
	}
	c.agent.logf("pod %s is Running (%d containers ready)", key, len(pod.Spec.Containers))
	return nil
}

// terminate ends the pod's commands, removes its directory and deletes it
// for good (grace period 0, only this very pod: its UID is a precondition).
func (c *podController) terminate(ctx context.Context, pod *corev1.Pod) error {
	c.agent.forgetPod(pod.Namespace, pod.Name)
	err := c.client.CoreV1().Pods(pod.Namespace).Delete(ctx, pod.Name, metav1.DeleteOptions{
		GracePeriodSeconds: ptr.To[int64](0),
		Preconditions:      &metav1.Preconditions{UID: &pod.UID},
	})
	if err != nil && !apierrors.IsNotFound(err) && !apierrors.IsConflict(err) {
		return err
	}
	if err := os.RemoveAll(c.agent.podDir(pod)); err != nil {
		return err
	}
	c.agent.logf("pod %s/%s deleted", pod.Namespace, pod.Name)
	return nil
}

// running is true once this agent has reported the pod Running with every
// container ready.
func running(pod *corev1.Pod) bool {
	if pod.Status.Phase != corev1.PodRunning || len(pod.Status.ContainerStatuses) != len(pod.Spec.Containers) {
		return false
	}
	for _, s := range pod.Status.ContainerStatuses {
		if !s.Ready || s.State.Running == nil {
			return false
		}
	}
	return true
}

func runningStatus(pod *corev1.Pod) corev1.PodStatus {
	now := metav1.Now()
	status := *pod.Status.DeepCopy() // keeps what the API server set (qosClass)
	status.Phase = corev1.PodRunning
	status.Reason, status.Message = "", ""
	status.HostIP = "127.0.0.1"
	status.HostIPs = []corev1.HostIP{{IP: "127.0.0.1"}}
	if status.StartTime == nil {
		status.StartTime = &now
	}
	status.Conditions = nil
	for _, kind := range []corev1.PodConditionType{
		corev1.PodScheduled, corev1.PodReadyToStartContainers, corev1.PodInitialized,
		corev1.ContainersReady, corev1.PodReady,
	} {
		status.Conditions = append(status.Conditions, corev1.PodCondition{
			Type: kind, Status: corev1.ConditionTrue, LastTransitionTime: now,
		})
	}
	containerID := func(name string) string {
		return fmt.Sprintf("node-agent://%s/%s", pod.UID, name)
	}
	status.InitContainerStatuses = nil
	for _, c := range pod.Spec.InitContainers {
		// Nothing runs, so an init container "completes" at once.
		status.InitContainerStatuses = append(status.InitContainerStatuses, corev1.ContainerStatus{
			Name: c.Name, Image: c.Image, ContainerID: containerID(c.Name),
			Ready: true, Started: ptr.To(false),
			State: corev1.ContainerState{Terminated: &corev1.ContainerStateTerminated{
				ExitCode: 0, Reason: "Completed", StartedAt: now, FinishedAt: now,
				ContainerID: containerID(c.Name),
			}},
		})
	}
	status.ContainerStatuses = nil
	for _, c := range pod.Spec.Containers {
		status.ContainerStatuses = append(status.ContainerStatuses, corev1.ContainerStatus{
			Name: c.Name, Image: c.Image, ContainerID: containerID(c.Name),
			Ready: true, Started: ptr.To(true),
			State: corev1.ContainerState{Running: &corev1.ContainerStateRunning{StartedAt: now}},
		})
	}
	return status
}
