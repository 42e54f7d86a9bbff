// Command kstatus prints what sigs.k8s.io/cli-utils/pkg/kstatus/status, the library Flux,
// kpt and cli-utils use for health, concludes for each Kubernetes object it is given.
//
// It reads YAML or JSON objects from the files named as arguments, or from stdin when there
// are none: several YAML documents, concatenated JSON objects, or a List (what
// `kubectl get -o json` prints), whose items are taken one by one. For each object it
// prints one line of JSON, in input order:
//
//	{"kind":"VideoDownload","namespace":"media","name":"talk","status":"Current","message":"Resource is Ready"}
//
// status is status.Compute's answer (InProgress, Current, Failed, Terminating). When the
// library refuses an object (a malformed status, say) the line has "error" instead of
// "status" and the command exits 1 after the last object; unreadable input exits 2.
//
// It is built by hack/build-binaries.sh; the tests run it on stored objects and on objects
// read from the apiserver, so the GitOps claims in docs/gitops.md are checked by the
// library itself rather than by a reading of it.
package main

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	utiljson "k8s.io/apimachinery/pkg/util/json"
	"k8s.io/apimachinery/pkg/util/yaml"
	"sigs.k8s.io/cli-utils/pkg/kstatus/status"
)

// line is one object's answer.
type line struct {
	Kind      string `json:"kind"`
	Namespace string `json:"namespace,omitempty"`
	Name      string `json:"name"`
	Status    string `json:"status,omitempty"`
	Message   string `json:"message"`
	Error     string `json:"error,omitempty"`
}

func main() {
	out := bufio.NewWriter(os.Stdout)
	refused, err := run(os.Args[1:], out)
	if flushErr := out.Flush(); err == nil {
		err = flushErr
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "kstatus:", err)
		os.Exit(2)
	}
	if refused > 0 {
		fmt.Fprintf(os.Stderr, "kstatus: the library refused %d object(s); see their \"error\"\n", refused)
		os.Exit(1)
	}
}

// run writes a line per object of every input and returns how many objects were refused.
func run(paths []string, out io.Writer) (int, error) {
	if len(paths) == 0 {
		return each("stdin", os.Stdin, out)
	}
	refused := 0
	for _, path := range paths {
		file, err := os.Open(path)
		if err != nil {
			return refused, err
		}
		n, err := each(path, file, out)
		file.Close()
		refused += n
		if err != nil {
			return refused, err
		}
	}
	return refused, nil
}

// each decodes every object of one input and writes its line.
func each(source string, input io.Reader, out io.Writer) (int, error) {
	decoder := yaml.NewYAMLOrJSONDecoder(input, 4096)
	encoder := json.NewEncoder(out)
	refused := 0
	for index := 0; ; index++ {
		var raw json.RawMessage
		if err := decoder.Decode(&raw); err != nil {
			if errors.Is(err, io.EOF) {
				return refused, nil
			}
			return refused, fmt.Errorf("%s: object %d is not YAML or JSON: %w", source, index, err)
		}
		// As the apiserver's clients read objects: whole numbers become int64, not float64.
		var object map[string]interface{}
		if err := utiljson.Unmarshal(raw, &object); err != nil {
			return refused, fmt.Errorf("%s: object %d is not an object: %w", source, index, err)
		}
		if object == nil { // an empty YAML document
			continue
		}
		u := &unstructured.Unstructured{Object: object}
		objects := []*unstructured.Unstructured{u}
		if u.IsList() {
			list, err := u.ToList()
			if err != nil {
				return refused, fmt.Errorf("%s: object %d: %w", source, index, err)
			}
			objects = objects[:0]
			for i := range list.Items {
				objects = append(objects, &list.Items[i])
			}
		}
		for _, obj := range objects {
			answer := line{Kind: obj.GetKind(), Namespace: obj.GetNamespace(), Name: obj.GetName()}
			result, err := status.Compute(obj)
			if err != nil {
				answer.Error = err.Error()
				refused++
			} else {
				answer.Status = result.Status.String()
				answer.Message = result.Message
			}
			if err := encoder.Encode(answer); err != nil {
				return refused, err
			}
		}
	}
}
