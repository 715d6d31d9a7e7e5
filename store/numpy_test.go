package store

import (
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
)

// numpyPython returns a Python that imports numpy (Debian's
// /usr/bin/python3 first), failing the test where numpy is required (CI)
// and skipping it elsewhere.
func numpyPython(t *testing.T) string {
	t.Helper()
	for _, p := range []string{"/usr/bin/python3", "python3"} {
		if exec.Command(p, "-c", "import numpy").Run() == nil {
			return p
		}
	}
	if os.Getenv("CI") == "true" || os.Getenv("GOMONNTO_REQUIRE_NUMPY") != "" {
		t.Fatal("numpy is required here (CI=true or GOMONNTO_REQUIRE_NUMPY) but python3 -c 'import numpy' fails; bash .ci/setup installs python3-numpy")
	}
	t.Skip("python3 with numpy not found")
	return ""
}

// TestCheckpointNumpy: numpy opens a checkpoint (np.load of the .npz),
// reads its manifest and every array with the values Go wrote, bit for
// bit.
func TestCheckpointNumpy(t *testing.T) {
	py := numpyPython(t)
	net := small(t, 0.005)
	steps(t, net, 9)
	path := filepath.Join(t.TempDir(), "ckpt.npz")
	if err := Save(net, path, SaveOptions{}); err != nil {
		t.Fatal(err)
	}
	c, err := openCheckpoint(path)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	want := map[string]string{}
	for _, e := range c.m.Entries {
		var data []byte
		switch e.DType {
		case dtF32:
			x, err := read[float32](c, e.Name)
			if err != nil {
				t.Fatal(err)
			}
			for _, v := range x {
				data = binary.LittleEndian.AppendUint32(data, math.Float32bits(v))
			}
		case dtI32:
			x, err := read[int32](c, e.Name)
			if err != nil {
				t.Fatal(err)
			}
			for _, v := range x {
				data = binary.LittleEndian.AppendUint32(data, uint32(v))
			}
		case dtI64:
			x, err := read[int64](c, e.Name)
			if err != nil {
				t.Fatal(err)
			}
			for _, v := range x {
				data = binary.LittleEndian.AppendUint64(data, uint64(v))
			}
		case dtU8:
			x, err := read[uint8](c, e.Name)
			if err != nil {
				t.Fatal(err)
			}
			data = x
		case dtU16:
			x, err := read[uint16](c, e.Name)
			if err != nil {
				t.Fatal(err)
			}
			for _, v := range x {
				data = binary.LittleEndian.AppendUint16(data, v)
			}
		}
		h := sha256.Sum256(data)
		want[e.Name] = hex.EncodeToString(h[:])
	}
	out, err := exec.Command(py, "-c", `import numpy as np, sys, json, hashlib
z = np.load(sys.argv[1])
m = json.loads(bytes(z["manifest.json"]) if not isinstance(z["manifest.json"], bytes) else z["manifest.json"])
got = {"iteration": m["host"]["iteration"], "arrays": {}}
for k in z.files:
    if k != "manifest.json":
        a = z[k]
        got["arrays"][k] = hashlib.sha256(np.ascontiguousarray(a).astype(a.dtype.newbyteorder("<")).tobytes()).hexdigest()
print(json.dumps(got))`, path).CombinedOutput()
	if err != nil {
		t.Fatalf("numpy: %v\n%s", err, out)
	}
	var got struct {
		Iteration int
		Arrays    map[string]string
	}
	if err := json.Unmarshal(out, &got); err != nil {
		t.Fatalf("numpy printed %q", out)
	}
	if got.Iteration != 9 {
		t.Errorf("numpy reads iteration %d from the manifest, want 9", got.Iteration)
	}
	if len(got.Arrays) != len(want) {
		t.Errorf("numpy lists %d arrays, the manifest %d", len(got.Arrays), len(want))
	}
	for k, h := range want {
		if got.Arrays[k] != h {
			t.Errorf("%s: numpy's values hash to %.12s, Go's to %.12s", k, got.Arrays[k], h)
		}
	}
}
