package sweep

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// KubeOptions configure a Kubernetes Indexed Job (KubeJob).
type KubeOptions struct {
	// Image is the container image, holding the gomonnto binary and the
	// objective's programs.
	Image string
	// Claim is the PersistentVolumeClaim holding the sweep folder
	// (ReadWriteMany when pods run on several nodes); it is mounted at
	// MountPath (/sweep if empty), which must be the folder's path in the
	// pods: the spec's paths ({bin}) are the pods' paths too.
	Claim, MountPath string
	// Parallelism is the number of pods at once (Slurm's throttle; 0: all).
	Parallelism int
	// GraceSeconds is the pods' terminationGracePeriodSeconds: the time
	// between SIGTERM (eviction, preemption) and SIGKILL, in which the
	// point writes its checkpoint (120 if 0).
	GraceSeconds int
	// Driver is the gomonnto binary's path in the image (gomonnto if empty).
	Driver string
	// Namespace of the Job (none if empty).
	Namespace string
}

// KubeJob writes the current generation's points without a result as a
// Kubernetes Indexed Job manifest (kube/job-<n>.json, JSON, which kubectl
// apply -f takes) and returns its path: completion index i evaluates
// point i of the submission (subs/<n>.json), with the sweep folder on a
// volume, so that a pod evicted or preempted checkpoints on SIGTERM and
// its replacement resumes. Nothing is sent to a cluster.
func (s *Sweep) KubeJob(o KubeOptions) (string, error) {
	if o.Image == "" || o.Claim == "" {
		return "", errors.New("sweep: a Kubernetes Job needs an image (-image) and the PersistentVolumeClaim holding the sweep folder (-claim)")
	}
	if o.MountPath == "" {
		o.MountPath = "/sweep"
	}
	if o.GraceSeconds == 0 {
		o.GraceSeconds = 120
	}
	if o.Driver == "" {
		o.Driver = "gomonnto"
	}
	unlock, err := s.lock()
	if err != nil {
		return "", err
	}
	defer unlock()
	gen, ids, err := s.pendingIDs(nil)
	if err != nil {
		return "", err
	}
	if len(ids) == 0 {
		return "", fmt.Errorf("sweep: nothing to run: every point of generation %d has a result", gen)
	}
	subs, err := s.Submissions()
	if err != nil {
		return "", err
	}
	sub := Submission{Number: len(subs) + 1, Kind: "kube", Generation: gen, IDs: ids, Time: time.Now().UTC()}
	sub.Script = filepath.Join(s.Dir, "kube", fmt.Sprintf("job-%04d.json", sub.Number))
	m := s.kubeManifest(o, sub)
	if err := os.MkdirAll(filepath.Join(s.Dir, "subs"), 0o755); err != nil {
		return "", fmt.Errorf("sweep: %w", err)
	}
	if err := os.MkdirAll(filepath.Dir(sub.Script), 0o755); err != nil {
		return "", fmt.Errorf("sweep: %w", err)
	}
	if err := writeJSON(sub.Script, m); err != nil {
		return "", err
	}
	return sub.Script, writeJSON(s.subPath(sub.Number), sub)
}

// kubeName makes a Kubernetes name (lower case, digits, -).
func kubeName(s string) string {
	s = strings.Map(func(c rune) rune {
		switch {
		case c >= 'a' && c <= 'z', c >= '0' && c <= '9', c == '-':
			return c
		case c >= 'A' && c <= 'Z':
			return c + 'a' - 'A'
		}
		return '-'
	}, s)
	return strings.Trim(s, "-")
}

type obj = map[string]any

func (s *Sweep) kubeManifest(o KubeOptions, sub Submission) obj {
	n := len(sub.IDs)
	par := o.Parallelism
	if par <= 0 || par > n {
		par = n
	}
	th := strconv.Itoa(s.Spec.threads())
	name := fmt.Sprintf("%s-g%d-s%d", kubeName(s.Spec.Name), sub.Generation, sub.Number)
	meta := obj{"name": name, "labels": obj{"app.kubernetes.io/name": "gomonnto-sweep", "gomonnto/sweep": kubeName(s.Spec.Name)}}
	if o.Namespace != "" {
		meta["namespace"] = o.Namespace
	}
	container := obj{
		"name":    "point",
		"image":   o.Image,
		"command": []string{o.Driver},
		// Kubernetes sets JOB_COMPLETION_INDEX in an Indexed Job's pods;
		// the task reads it.
		"args": []string{"sweep", "task", "-out", o.MountPath, "-sub", strconv.Itoa(sub.Number)},
		"env": []obj{
			{"name": "GOMAXPROCS", "value": th},
			{"name": "OMP_NUM_THREADS", "value": th},
		},
		"resources":    obj{"requests": obj{"cpu": th}, "limits": obj{"cpu": th}},
		"volumeMounts": []obj{{"name": "sweep", "mountPath": o.MountPath}},
	}
	return obj{
		"apiVersion": "batch/v1",
		"kind":       "Job",
		"metadata":   meta,
		"spec": obj{
			"completionMode": "Indexed",
			"completions":    n,
			"parallelism":    par,
			// A failing point is tried Attempts times inside its pod; the
			// pod fails only if it stays failed. Each index is then given
			// up on its own (backoffLimitPerIndex, Kubernetes 1.29+).
			"backoffLimitPerIndex": 0,
			"maxFailedIndexes":     n,
			// Pods evicted or preempted (DisruptionTarget) do not count as
			// failures: the replacement pod resumes from the checkpoint.
			"podFailurePolicy": obj{"rules": []obj{
				{"action": "Ignore", "onPodConditions": []obj{{"type": "DisruptionTarget"}}},
			}},
			"template": obj{
				"metadata": obj{"labels": meta["labels"]},
				"spec": obj{
					"restartPolicy":                 "Never",
					"terminationGracePeriodSeconds": o.GraceSeconds,
					"containers":                    []obj{container},
					"volumes": []obj{
						{"name": "sweep", "persistentVolumeClaim": obj{"claimName": o.Claim}},
					},
				},
			},
		},
	}
}

var _ = json.Marshal
