package store

import (
	"archive/zip"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"runtime"
	"runtime/debug"
	"slices"
	"strings"
	"time"

	"github.com/gomonnto/gomonnto/backend"
	"github.com/gomonnto/gomonnto/core"
)

// FormatVersion is the version of the checkpoint format Save writes; Load
// reads it and every older one.
const FormatVersion = 1

// formatName marks a checkpoint's manifest.
const formatName = "gomonnto-checkpoint"

// manifestEntry is the name of the manifest in a checkpoint.
const manifestEntry = "manifest.json"

var (
	// ErrCorrupt is wrapped by the errors of a checkpoint that is
	// truncated, fails a checksum or is malformed.
	ErrCorrupt = errors.New("corrupt checkpoint")
	// ErrFingerprint is wrapped when a checkpoint belongs to a different
	// network (another program, size or parameter).
	ErrFingerprint = errors.New("checkpoint of a different network")
	// ErrVersion is wrapped when a checkpoint was written by a newer
	// format version.
	ErrVersion = errors.New("checkpoint of a newer format")
	// ErrNonFinite is wrapped when Save refuses a state that holds NaN or
	// infinity (SaveOptions.AllowNonFinite saves it anyway).
	ErrNonFinite = errors.New("state holds NaN or infinity")
)

// Manifest describes a checkpoint: what made it, the network's host state
// and every array it holds. It is the entry manifest.json of the
// checkpoint's zip (an .npz that numpy opens: np.load(path)).
type Manifest struct {
	Format    string         `json:"format"`
	Version   int            `json:"version"`
	Created   time.Time      `json:"created"`
	Build     BuildInfo      `json:"build"`
	Backend   string         `json:"backend"`
	Device    string         `json:"device"`
	Note      string         `json:"note,omitempty"`
	Host      core.HostState `json:"host"`
	Tensors   []TensorInfo   `json:"tensors"`
	Rings     []RingInfo     `json:"rings"`
	Delays    []DelaysInfo   `json:"delays"`
	Recorders []RecorderInfo `json:"recorders"`
	Entries   []EntryInfo    `json:"entries"`
}

// BuildInfo says which program wrote a file.
type BuildInfo struct {
	Module  string `json:"module"`
	Version string `json:"version"`
	Commit  string `json:"commit,omitempty"`
	Dirty   bool   `json:"dirty,omitempty"`
	Go      string `json:"go"`
}

// TensorInfo is a tensor of the network: its place in the order made,
// the variables that hold it and its shape.
type TensorInfo struct {
	Index    int      `json:"index"`
	Entry    string   `json:"entry"`
	Names    []string `json:"names,omitempty"`
	Rows     int      `json:"rows"`
	Cols     int      `json:"cols"`
	Sparse   bool     `json:"sparse,omitempty"`
	NNZ      int      `json:"nnz,omitempty"`
	Recorder bool     `json:"recorder,omitempty"`
}

// RingInfo is a delay ring: "lists" (contributions in the order they are
// added) or "dense" (sums).
type RingInfo struct {
	Name  string `json:"name"`
	Entry string `json:"entry"`
	Depth int    `json:"depth"`
	N     int    `json:"n"`
	Form  string `json:"form"`
}

// DelaysInfo is a per-synapse delay table and its backend's hints.
type DelaysInfo struct {
	Name  string  `json:"name"`
	Entry string  `json:"entry"`
	Len   int     `json:"len"`
	Hints []int64 `json:"hints,omitempty"`
}

// RecorderInfo is a recorder's data so far.
type RecorderInfo struct {
	Owner  string        `json:"owner"`
	Key    float64       `json:"key"`
	Events bool          `json:"events,omitempty"`
	Entry  string        `json:"entry"`
	Items  []RecItemInfo `json:"items"`
}

// RecItemInfo is one recorded expression.
type RecItemInfo struct {
	Name    string `json:"name"`
	Width   int    `json:"width"`
	Records int    `json:"records"`
	Events  int    `json:"events,omitempty"`
}

// EntryInfo is an array of the checkpoint: its .npy entry, dtype, shape,
// size and SHA-256 (of the whole entry, header included).
type EntryInfo struct {
	Name   string `json:"name"`
	DType  string `json:"dtype"`
	Shape  []int  `json:"shape"`
	Bytes  int64  `json:"bytes"`
	SHA256 string `json:"sha256"`
}

// SaveOptions configure Save.
type SaveOptions struct {
	// Note is stored in the manifest.
	Note string
	// AllowNonFinite saves a state with NaN or infinite values in its
	// tensors; by default Save refuses it (ErrNonFinite), so that a
	// diverged run never replaces its last good checkpoint.
	AllowNonFinite bool
}

// Build describes the running program (module version, VCS commit, Go).
func Build() BuildInfo {
	b := BuildInfo{Module: "github.com/gomonnto/gomonnto", Version: "(devel)", Go: runtime.Version()}
	if bi, ok := debug.ReadBuildInfo(); ok {
		if bi.Main.Path != "" {
			b.Module, b.Version = bi.Main.Path, bi.Main.Version
		}
		for _, s := range bi.Settings {
			switch s.Key {
			case "vcs.revision":
				b.Commit = s.Value
			case "vcs.modified":
				b.Dirty = s.Value == "true"
			}
		}
	}
	return b
}

// chunkElems is the number of elements moved between the device and the
// file at a time.
const chunkElems = 1 << 22

// chunkBuf is a buffer for moving the snapshot's tensors in chunks: as
// long as the longest tensor, at most chunkElems.
func chunkBuf(sn *core.Snapshot) []float32 {
	n := 1
	for _, t := range sn.Tensors {
		n = max(n, min(t.T.Len(), chunkElems))
	}
	return make([]float32, n)
}

// Save writes a checkpoint of net (at a step boundary: between
// SimulateIteration calls, or from a StepHook) to path, atomically: the
// whole state of the network (see core.Snapshot) as one zip of .npy
// arrays and a manifest. A file already at path is replaced only when the
// new one is complete and on disk.
func Save(net *core.Network, path string, o SaveOptions) error {
	sn, err := net.Snapshot()
	if err != nil {
		return fmt.Errorf("store: Save %s: %w", path, err)
	}
	be := net.Backend()
	m := &Manifest{Format: formatName, Version: FormatVersion, Created: time.Now().UTC(), Build: Build(),
		Backend: be.Name(), Device: be.Device(), Note: o.Note, Host: sn.Host}
	m.Tensors = tensorInfos(sn)
	err = writeAtomic(path, func(w io.Writer) error {
		zw := zip.NewWriter(w)
		ew := &entryWriter{zw: zw, m: m}
		buf := chunkBuf(sn)
		for k, t := range sn.Tensors {
			ti := m.Tensors[k]
			if err := ew.tensor(be, t, ti, buf, !o.AllowNonFinite && !t.Recorder); err != nil {
				return err
			}
			if sp, ok := t.T.(backend.SparseTensor); ok {
				rs, ci := sp.Structure()
				if err := ew.array(ti.Entry+".row_start", rs, nil); err != nil {
					return err
				}
				if err := ew.array(ti.Entry+".col_idx", ci, nil); err != nil {
					return err
				}
			}
		}
		for k, r := range sn.Rings {
			if err := ew.ring(k, r); err != nil {
				return err
			}
		}
		for k, d := range sn.Delays {
			if err := ew.delays(k, d); err != nil {
				return err
			}
		}
		for k, r := range sn.Recorders {
			if err := ew.recorder(k, r); err != nil {
				return err
			}
		}
		mw, err := zw.CreateHeader(&zip.FileHeader{Name: manifestEntry, Method: zip.Store, Modified: m.Created})
		if err != nil {
			return err
		}
		enc := json.NewEncoder(mw)
		enc.SetIndent("", " ")
		if err := enc.Encode(m); err != nil {
			return err
		}
		return zw.Close()
	})
	if err != nil {
		return fmt.Errorf("store: Save %s: %w", path, err)
	}
	return nil
}

// tensorInfos describes the snapshot's tensors, each with a unique entry
// name: its first variable ("E/v"), or "private/<index>".
func tensorInfos(sn *core.Snapshot) []TensorInfo {
	used := map[string]bool{}
	out := make([]TensorInfo, len(sn.Tensors))
	for k, t := range sn.Tensors {
		ti := TensorInfo{Index: k, Names: t.Names, Rows: t.T.Rows(), Cols: t.T.Cols(), Recorder: t.Recorder}
		if sp, ok := t.T.(backend.SparseTensor); ok {
			ti.Sparse, ti.NNZ = true, sp.NNZ()
		}
		e := t.Name()
		if e == "" {
			e = fmt.Sprintf("private/%d", k)
		}
		if used[e] {
			e = fmt.Sprintf("%s#%d", e, k)
		}
		used[e] = true
		ti.Entry = "tensor/" + e
		out[k] = ti
	}
	return out
}

// entryWriter writes the arrays of a checkpoint and lists them in the
// manifest.
type entryWriter struct {
	zw *zip.Writer
	m  *Manifest
}

// begin starts entry name (dtype dt, shape shape) and returns its writer
// and a function that ends it.
func (ew *entryWriter) begin(name, dt string, shape []int) (io.Writer, func() error, error) {
	zf, err := ew.zw.CreateHeader(&zip.FileHeader{Name: name + ".npy", Method: zip.Store, Modified: ew.m.Created})
	if err != nil {
		return nil, nil, err
	}
	h := sha256.New()
	cw := &countingWriter{w: io.MultiWriter(zf, h)}
	if _, err := cw.Write(npyHeader(dt, shape)); err != nil {
		return nil, nil, err
	}
	end := func() error {
		ew.m.Entries = append(ew.m.Entries, EntryInfo{Name: name, DType: dt, Shape: shape, Bytes: cw.n, SHA256: hex.EncodeToString(h.Sum(nil))})
		return nil
	}
	return cw, end, nil
}

// array writes data (a slice) as entry name of shape shape (nil: flat).
func (ew *entryWriter) array(name string, data any, shape []int) error {
	b, dt, err := rawBytes(data)
	if err != nil {
		return err
	}
	if shape == nil {
		shape = []int{len(b) / elemSize(dt)}
	}
	w, end, err := ew.begin(name, dt, shape)
	if err != nil {
		return err
	}
	if err := writeLE(w, b, elemSize(dt)); err != nil {
		return err
	}
	return end()
}

// tensor streams a tensor's values from the device in chunks (a sparse
// matrix: its NNZ values), refusing NaN and infinity if check is set.
func (ew *entryWriter) tensor(be backend.Backend, t core.SnapTensor, ti TensorInfo, buf []float32, check bool) error {
	n := t.T.Len()
	shape := []int{ti.Rows, ti.Cols}
	if ti.Sparse {
		shape = []int{n}
	}
	w, end, err := ew.begin(ti.Entry, dtF32, shape)
	if err != nil {
		return err
	}
	for off := 0; off < n; off += len(buf) {
		c := buf[:min(len(buf), n-off)]
		if err := be.Read(c, t.T, off); err != nil {
			return fmt.Errorf("read %s: %w", describeTensor(ti), err)
		}
		if check {
			if i := firstNonFinite(c); i >= 0 {
				return fmt.Errorf("%w: %s holds %v at element %d (iteration %d); not saved, so the last good checkpoint stays the newest (SaveOptions.AllowNonFinite saves it anyway)",
					ErrNonFinite, describeTensor(ti), c[i], off+i, ew.m.Host.Iteration)
			}
		}
		if err := writeLE(w, bytesOf(c), 4); err != nil {
			return err
		}
	}
	return end()
}

func (ew *entryWriter) ring(k int, r core.SnapRing) error {
	rs, ok := r.Ring.(backend.RingStater)
	if !ok {
		return fmt.Errorf("delay ring of %s: the backend cannot save rings (backend.RingStater)", r.Name)
	}
	st, err := rs.RingState()
	if err != nil {
		return fmt.Errorf("delay ring of %s: %w", r.Name, err)
	}
	ri := RingInfo{Name: r.Name, Entry: fmt.Sprintf("ring/%d", k), Depth: st.Depth, N: st.N}
	if st.Dense != nil {
		ri.Form = "dense"
		if err := ew.array(ri.Entry+"/dense", st.Dense, []int{st.Depth, st.N}); err != nil {
			return err
		}
	} else {
		ri.Form = "lists"
		bounds := make([]int64, len(st.Bounds))
		for i, b := range st.Bounds {
			bounds[i] = int64(b)
		}
		for _, a := range []struct {
			name string
			data any
		}{{"bounds", bounds}, {"start", st.Start}, {"index", st.Index}, {"value", st.Value}, {"hints", st.Hints}} {
			if err := ew.array(ri.Entry+"/"+a.name, a.data, nil); err != nil {
				return err
			}
		}
	}
	ew.m.Rings = append(ew.m.Rings, ri)
	return nil
}

func (ew *entryWriter) delays(k int, d core.SnapDelays) error {
	n := d.Delays.Len()
	di := DelaysInfo{Name: d.Name, Entry: fmt.Sprintf("delays/%d", k), Len: n}
	if h, ok := d.Delays.(backend.Hinter); ok {
		di.Hints = h.Hints()
	}
	// Two passes in chunks: the longest delay picks the narrowest type
	// (u1, u2, i4), then the delays are written in it.
	buf := make([]int32, min(max(n, 1), chunkElems))
	hi := int32(0)
	for off := 0; off < n; off += len(buf) {
		c := buf[:min(len(buf), n-off)]
		if err := backend.ReadDelays(d.Delays, c, off); err != nil {
			return fmt.Errorf("delays of %s: %w", d.Name, err)
		}
		for _, x := range c {
			hi = max(hi, x)
		}
	}
	dt := dtI32
	switch {
	case hi < 1<<8:
		dt = dtU8
	case hi < 1<<16:
		dt = dtU16
	}
	w, end, err := ew.begin(di.Entry, dt, []int{n})
	if err != nil {
		return err
	}
	for off := 0; off < n; off += len(buf) {
		c := buf[:min(len(buf), n-off)]
		if err := backend.ReadDelays(d.Delays, c, off); err != nil {
			return fmt.Errorf("delays of %s: %w", d.Name, err)
		}
		var out any = c
		switch dt {
		case dtU8:
			out = narrow[uint8](c)
		case dtU16:
			out = narrow[uint16](c)
		}
		b, _, err := rawBytes(out)
		if err != nil {
			return err
		}
		if err := writeLE(w, b, elemSize(dt)); err != nil {
			return err
		}
	}
	ew.m.Delays = append(ew.m.Delays, di)
	return end()
}

func narrow[T uint8 | uint16](x []int32) []T {
	out := make([]T, len(x))
	for i, v := range x {
		out[i] = T(v)
	}
	return out
}

func (ew *entryWriter) recorder(k int, r *core.Recorder) error {
	ri := RecorderInfo{Owner: core.ObjectName(r.Owner()), Key: r.Key(), Events: r.IsEvents(), Entry: fmt.Sprintf("recorder/%d", k)}
	for i, it := range r.Recorded() {
		ii := RecItemInfo{Name: it.Name, Width: it.Width, Records: len(it.Iterations), Events: len(it.EventIndices)}
		e := fmt.Sprintf("%s/%d", ri.Entry, i)
		its := make([]int64, len(it.Iterations))
		for j, x := range it.Iterations {
			its[j] = int64(x)
		}
		if err := ew.array(e+"/iterations", its, nil); err != nil {
			return err
		}
		if ri.Events {
			if err := ew.array(e+"/event_iterations", it.EventIterations, nil); err != nil {
				return err
			}
			if err := ew.array(e+"/event_indices", it.EventIndices, nil); err != nil {
				return err
			}
		} else if err := ew.array(e+"/data", it.Data, []int{len(it.Iterations), it.Width}); err != nil {
			return err
		}
		ri.Items = append(ri.Items, ii)
	}
	ew.m.Recorders = append(ew.m.Recorders, ri)
	return nil
}

func describeTensor(ti TensorInfo) string {
	kind := fmt.Sprintf("%dx%d", ti.Rows, ti.Cols)
	if ti.Sparse {
		kind = fmt.Sprintf("sparse %dx%d with %d entries", ti.Rows, ti.Cols, ti.NNZ)
	}
	if len(ti.Names) == 0 {
		what := "a behaviour's private tensor"
		if ti.Recorder {
			what = "a recorder's device block"
		}
		return fmt.Sprintf("tensor %d (%s, %s)", ti.Index, what, kind)
	}
	names := make([]string, len(ti.Names))
	for i, n := range ti.Names {
		obj, v, _ := strings.Cut(n, "/")
		names[i] = fmt.Sprintf("variable %q of %q", v, obj)
	}
	return fmt.Sprintf("tensor %d (%s, %s)", ti.Index, strings.Join(names, ", "), kind)
}

// checkpointFile is an opened checkpoint: its zip and manifest.
type checkpointFile struct {
	path  string
	f     *os.File
	zr    *zip.Reader
	files map[string]*zip.File
	m     *Manifest
}

func (c *checkpointFile) Close() error { return c.f.Close() }

func corrupt(path, format string, args ...any) error {
	return fmt.Errorf("store: %s: %w: %s", path, ErrCorrupt, fmt.Sprintf(format, args...))
}

// openCheckpoint opens path and reads its manifest, checking the format
// and version.
func openCheckpoint(path string) (*checkpointFile, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("store: open checkpoint: %w", err)
	}
	fi, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("store: %s: %w", path, err)
	}
	zr, err := zip.NewReader(f, fi.Size())
	if err != nil {
		f.Close()
		return nil, corrupt(path, "not a complete zip archive (%v): the file is truncated or is not a checkpoint", err)
	}
	c := &checkpointFile{path: path, f: f, zr: zr, files: map[string]*zip.File{}}
	for _, zf := range zr.File {
		c.files[zf.Name] = zf
	}
	mf := c.files[manifestEntry]
	if mf == nil {
		f.Close()
		return nil, corrupt(path, "no %s entry: not a GoMoNNto checkpoint", manifestEntry)
	}
	rc, err := mf.Open()
	if err != nil {
		f.Close()
		return nil, corrupt(path, "entry %s: %v", manifestEntry, err)
	}
	b, err := io.ReadAll(io.LimitReader(rc, 256<<20))
	rc.Close()
	if err != nil {
		f.Close()
		return nil, corrupt(path, "entry %s: %v", manifestEntry, err)
	}
	m := &Manifest{}
	if err := json.Unmarshal(b, m); err != nil {
		f.Close()
		return nil, corrupt(path, "entry %s is not valid JSON: %v", manifestEntry, err)
	}
	if m.Format != formatName {
		f.Close()
		return nil, corrupt(path, "entry %s has format %q, not %q: not a GoMoNNto checkpoint", manifestEntry, m.Format, formatName)
	}
	if m.Version > FormatVersion || m.Version < 1 {
		f.Close()
		return nil, fmt.Errorf("store: %s: %w: format version %d, this GoMoNNto reads versions 1 to %d; load it with the newer GoMoNNto that wrote it (%s %s)",
			path, ErrVersion, m.Version, FormatVersion, m.Build.Module, m.Build.Version)
	}
	c.m = m
	return c, nil
}

// Inspect reads a checkpoint's manifest (no network needed) after
// checking the checksums of every entry.
func Inspect(path string) (*Manifest, error) {
	c, err := openCheckpoint(path)
	if err != nil {
		return nil, err
	}
	defer c.Close()
	for _, e := range c.m.Entries {
		if err := c.verify(e); err != nil {
			return nil, err
		}
	}
	return c.m, nil
}

// entry opens entry e, checks its .npy header against the manifest and
// returns a reader of its data.
func (c *checkpointFile) entry(e EntryInfo) (io.ReadCloser, error) {
	zf := c.files[e.Name+".npy"]
	if zf == nil {
		return nil, corrupt(c.path, "entry %s.npy is missing", e.Name)
	}
	rc, err := zf.Open()
	if err != nil {
		return nil, corrupt(c.path, "entry %s.npy: %v", e.Name, err)
	}
	dt, shape, err := readNPYHeader(rc)
	if err != nil {
		rc.Close()
		return nil, corrupt(c.path, "entry %s.npy: %v", e.Name, err)
	}
	if dt != e.DType || !slices.Equal(shape, e.Shape) {
		rc.Close()
		return nil, corrupt(c.path, "entry %s.npy holds %s %v, the manifest says %s %v", e.Name, dt, shape, e.DType, e.Shape)
	}
	return rc, nil
}

// verify reads entry e whole and checks its size, its SHA-256 and the
// zip's CRC-32.
func (c *checkpointFile) verify(e EntryInfo) error {
	zf := c.files[e.Name+".npy"]
	if zf == nil {
		return corrupt(c.path, "entry %s.npy is missing", e.Name)
	}
	if int64(zf.UncompressedSize64) != e.Bytes {
		return corrupt(c.path, "entry %s.npy has %d bytes, the manifest says %d", e.Name, zf.UncompressedSize64, e.Bytes)
	}
	if n := numel(e.Shape) * elemSize(e.DType); elemSize(e.DType) == 0 || int64(n) > e.Bytes {
		return corrupt(c.path, "entry %s.npy: %s %v does not fit in %d bytes", e.Name, e.DType, e.Shape, e.Bytes)
	}
	rc, err := zf.Open()
	if err != nil {
		return corrupt(c.path, "entry %s.npy: %v", e.Name, err)
	}
	defer rc.Close()
	h := sha256.New()
	if _, err := io.Copy(h, rc); err != nil {
		if errors.Is(err, zip.ErrChecksum) {
			return corrupt(c.path, "entry %s.npy fails its CRC-32 checksum", e.Name)
		}
		return corrupt(c.path, "entry %s.npy: %v", e.Name, err)
	}
	if got := hex.EncodeToString(h.Sum(nil)); got != e.SHA256 {
		return corrupt(c.path, "entry %s.npy has SHA-256 %s, the manifest says %s", e.Name, got, e.SHA256)
	}
	return nil
}

// find returns the manifest's entry name.
func (c *checkpointFile) find(name string) (EntryInfo, error) {
	for _, e := range c.m.Entries {
		if e.Name == name {
			return e, nil
		}
	}
	return EntryInfo{}, corrupt(c.path, "the manifest lists no entry %s", name)
}

// read reads the whole entry name into a new slice of type T.
func read[T any](c *checkpointFile, name string) ([]T, error) {
	e, err := c.find(name)
	if err != nil {
		return nil, err
	}
	rc, err := c.entry(e)
	if err != nil {
		return nil, err
	}
	defer rc.Close()
	out := make([]T, numel(e.Shape))
	if err := readInto(rc, e.DType, any(out)); err != nil {
		return nil, corrupt(c.path, "entry %s.npy: %v", name, err)
	}
	return out, nil
}

// LoadOptions configure Load.
type LoadOptions struct{}

// Load puts the state saved in the checkpoint at path into net, a network
// built and initialised by the same program (same groups, behaviours,
// sizes and parameters), on the same backend or another: continuing on
// the same backend is bit-identical to the run that saved it; across
// backends it agrees within the backends' conformance tolerance. Load
// checks the whole file (checksums, the network's fingerprint: groups,
// behaviours, tensors and their shapes, sparse structures, delays) before
// it changes the network, so an error leaves net as it was.
func Load(net *core.Network, path string, _ LoadOptions) error {
	c, err := openCheckpoint(path)
	if err != nil {
		return err
	}
	defer c.Close()
	sn, err := net.Snapshot()
	if err != nil {
		return fmt.Errorf("store: Load %s: %w", path, err)
	}
	if err := c.checkFingerprint(net, sn); err != nil {
		return err
	}
	for _, e := range c.m.Entries {
		if err := c.verify(e); err != nil {
			return err
		}
	}
	if err := c.checkFixed(sn); err != nil {
		return err
	}
	if err := c.apply(net, sn); err != nil {
		return fmt.Errorf("store: Load %s: %w (the network is in an undefined state; build it again)", path, err)
	}
	return nil
}

func mismatch(path, format string, args ...any) error {
	return fmt.Errorf("store: %s: %w: %s", path, ErrFingerprint, fmt.Sprintf(format, args...))
}

// checkFingerprint compares the checkpoint's description of its network
// with net's and names the first difference.
func (c *checkpointFile) checkFingerprint(net *core.Network, sn *core.Snapshot) error {
	m := c.m
	if err := net.CheckState(m.Host); err != nil {
		return mismatch(c.path, "%v", err)
	}
	want := tensorInfos(sn)
	if len(m.Tensors) != len(want) {
		for k := range min(len(m.Tensors), len(want)) {
			if !sameTensor(m.Tensors[k], want[k]) {
				return mismatch(c.path, "%s in the checkpoint, %s in the network (and %d tensors against %d)", describeTensor(m.Tensors[k]), describeTensor(want[k]), len(m.Tensors), len(want))
			}
		}
		return mismatch(c.path, "the checkpoint holds %d tensors, the network %d (a behaviour makes more or fewer tensors than in the run that saved it)", len(m.Tensors), len(want))
	}
	for k := range want {
		if !sameTensor(m.Tensors[k], want[k]) {
			return mismatch(c.path, "%s in the checkpoint, %s in the network", describeTensor(m.Tensors[k]), describeTensor(want[k]))
		}
	}
	if len(m.Rings) != len(sn.Rings) {
		return mismatch(c.path, "%d delay rings in the checkpoint, %d in the network", len(m.Rings), len(sn.Rings))
	}
	for k, r := range sn.Rings {
		if x := m.Rings[k]; x.Name != r.Name || x.Depth != r.Ring.Depth() || x.N != r.Ring.Len() {
			return mismatch(c.path, "delay ring %d feeds %s (%d slots x %d) in the checkpoint, %s (%d slots x %d) in the network", k, x.Name, x.Depth, x.N, r.Name, r.Ring.Depth(), r.Ring.Len())
		}
	}
	if len(m.Delays) != len(sn.Delays) {
		return mismatch(c.path, "%d delay tables in the checkpoint, %d in the network", len(m.Delays), len(sn.Delays))
	}
	for k, d := range sn.Delays {
		if x := m.Delays[k]; x.Name != d.Name || x.Len != d.Delays.Len() {
			return mismatch(c.path, "delay table %d is %s's with %d delays in the checkpoint, %s's with %d in the network", k, x.Name, x.Len, d.Name, d.Delays.Len())
		}
	}
	if len(m.Recorders) != len(sn.Recorders) {
		return mismatch(c.path, "%d recorders in the checkpoint, %d in the network", len(m.Recorders), len(sn.Recorders))
	}
	for k, r := range sn.Recorders {
		x := m.Recorders[k]
		names, widths := r.Shapes()
		if x.Owner != core.ObjectName(r.Owner()) || x.Key != r.Key() || x.Events != r.IsEvents() || len(x.Items) != len(names) {
			return mismatch(c.path, "recorder %d is on %q at key %g in the checkpoint, on %q at key %g in the network", k, x.Owner, x.Key, core.ObjectName(r.Owner()), r.Key())
		}
		for i, name := range names {
			if x.Items[i].Name != name || x.Items[i].Width != widths[i] {
				return mismatch(c.path, "recorder %d on %q records %q (%d wide) in the checkpoint, %q (%d wide) in the network", k, x.Owner, x.Items[i].Name, x.Items[i].Width, name, widths[i])
			}
		}
	}
	return nil
}

func sameTensor(a, b TensorInfo) bool {
	return a.Rows == b.Rows && a.Cols == b.Cols && a.Sparse == b.Sparse && a.NNZ == b.NNZ &&
		slices.Equal(a.Names, b.Names) && a.Recorder == b.Recorder
}

// checkFixed compares what a program builds and never changes (sparse
// structures, delays) with the network's.
func (c *checkpointFile) checkFixed(sn *core.Snapshot) error {
	for k, t := range sn.Tensors {
		sp, ok := t.T.(backend.SparseTensor)
		if !ok {
			continue
		}
		ti := c.m.Tensors[k]
		rs, ci := sp.Structure()
		if i, err := compareEntry(c, ti.Entry+".row_start", rs); err != nil || i >= 0 {
			if err != nil {
				return err
			}
			return mismatch(c.path, "%s: the sparse structure differs (row start %d)", describeTensor(ti), i)
		}
		if i, err := compareEntry(c, ti.Entry+".col_idx", ci); err != nil || i >= 0 {
			if err != nil {
				return err
			}
			return mismatch(c.path, "%s: the sparse structure differs (entry %d)", describeTensor(ti), i)
		}
	}
	for k, d := range sn.Delays {
		if err := c.compareDelays(c.m.Delays[k].Entry, d); err != nil {
			return err
		}
	}
	return nil
}

// compareDelays streams a saved delay table (u1, u2 or i4) and the
// network's in chunks and names the first synapse whose delay differs.
func (c *checkpointFile) compareDelays(name string, d core.SnapDelays) error {
	e, err := c.find(name)
	if err != nil {
		return err
	}
	n := d.Delays.Len()
	if numel(e.Shape) != n {
		return mismatch(c.path, "synapse group %q has %d delays in the checkpoint, %d in the network", d.Name, numel(e.Shape), n)
	}
	rc, err := c.entry(e)
	if err != nil {
		return err
	}
	defer rc.Close()
	have := make([]int32, min(max(n, 1), chunkElems))
	got := make([]int32, len(have))
	raw := make([]byte, len(have)*elemSize(e.DType))
	for off := 0; off < n; off += len(have) {
		m := min(len(have), n-off)
		if err := backend.ReadDelays(d.Delays, have[:m], off); err != nil {
			return err
		}
		b := raw[:m*elemSize(e.DType)]
		if _, err := io.ReadFull(rc, b); err != nil {
			return corrupt(c.path, "entry %s.npy: truncated", name)
		}
		for i := range m {
			switch e.DType {
			case dtU8:
				got[i] = int32(b[i])
			case dtU16:
				got[i] = int32(binary.LittleEndian.Uint16(b[2*i:]))
			default:
				got[i] = int32(binary.LittleEndian.Uint32(b[4*i:]))
			}
		}
		if i := firstDiff(got[:m], have[:m]); i >= 0 {
			return mismatch(c.path, "the delays of synapse group %q differ at synapse %d (%d steps in the checkpoint, %d in the network)", d.Name, off+i, got[i], have[i])
		}
	}
	return nil
}

// compareEntry streams entry name and returns the first index where it
// differs from want (-1: equal).
func compareEntry[T int32 | int64](c *checkpointFile, name string, want []T) (int, error) {
	e, err := c.find(name)
	if err != nil {
		return 0, err
	}
	if numel(e.Shape) != len(want) {
		return min(numel(e.Shape), len(want)), nil
	}
	rc, err := c.entry(e)
	if err != nil {
		return 0, err
	}
	defer rc.Close()
	buf := make([]T, min(len(want), chunkElems))
	for off := 0; off < len(want); off += len(buf) {
		ch := buf[:min(len(buf), len(want)-off)]
		if err := readInto(rc, e.DType, any(ch)); err != nil {
			return 0, corrupt(c.path, "entry %s.npy: %v", name, err)
		}
		if i := firstDiff(ch, want[off:off+len(ch)]); i >= 0 {
			return off + i, nil
		}
	}
	return -1, nil
}

func firstDiff[T comparable](a, b []T) int {
	for i := range min(len(a), len(b)) {
		if a[i] != b[i] {
			return i
		}
	}
	if len(a) != len(b) {
		return min(len(a), len(b))
	}
	return -1
}

// apply writes the checkpoint's state into net.
func (c *checkpointFile) apply(net *core.Network, sn *core.Snapshot) error {
	be := net.Backend()
	buf := chunkBuf(sn)
	for k, t := range sn.Tensors {
		ti := c.m.Tensors[k]
		e, err := c.find(ti.Entry)
		if err != nil {
			return err
		}
		rc, err := c.entry(e)
		if err != nil {
			return err
		}
		n := t.T.Len()
		for off := 0; off < n; off += len(buf) {
			ch := buf[:min(len(buf), n-off)]
			if err := readInto(rc, dtF32, ch); err != nil {
				rc.Close()
				return corrupt(c.path, "entry %s.npy: %v", ti.Entry, err)
			}
			if err := be.Write(t.T, off, ch); err != nil {
				rc.Close()
				return fmt.Errorf("write %s: %w", describeTensor(ti), err)
			}
		}
		rc.Close()
	}
	for k, r := range sn.Rings {
		st, err := c.ringState(c.m.Rings[k])
		if err != nil {
			return err
		}
		rs, ok := r.Ring.(backend.RingStater)
		if !ok {
			return fmt.Errorf("delay ring of %s: the backend cannot restore rings (backend.RingStater)", r.Name)
		}
		if err := rs.SetRingState(st); err != nil {
			return fmt.Errorf("delay ring of %s: %w", r.Name, err)
		}
	}
	for k, d := range sn.Delays {
		if h, ok := d.Delays.(backend.Hinter); ok && c.m.Delays[k].Hints != nil && c.m.Backend == be.Name() {
			if err := h.SetHints(c.m.Delays[k].Hints); err != nil {
				return fmt.Errorf("delays of %s: %w", d.Name, err)
			}
		}
	}
	for k, r := range sn.Recorders {
		ri := c.m.Recorders[k]
		names, widths := r.Shapes()
		items := make([]core.RecordedItem, len(names))
		for i := range items {
			items[i].Name, items[i].Width = names[i], widths[i]
			e := fmt.Sprintf("%s/%d", ri.Entry, i)
			its, err := read[int64](c, e+"/iterations")
			if err != nil {
				return err
			}
			items[i].Iterations = make([]int, len(its))
			for j, x := range its {
				items[i].Iterations[j] = int(x)
			}
			if ri.Events {
				if items[i].EventIterations, err = read[int32](c, e+"/event_iterations"); err != nil {
					return err
				}
				if items[i].EventIndices, err = read[int32](c, e+"/event_indices"); err != nil {
					return err
				}
				items[i].Data = nil
			} else if items[i].Data, err = read[float32](c, e+"/data"); err != nil {
				return err
			}
		}
		if err := r.SetRecorded(items); err != nil {
			return err
		}
	}
	if err := net.Restore(c.m.Host); err != nil {
		return err
	}
	return be.Flush()
}

// ringState reads a ring's saved state.
func (c *checkpointFile) ringState(ri RingInfo) (*backend.RingState, error) {
	st := &backend.RingState{Depth: ri.Depth, N: ri.N}
	var err error
	if ri.Form == "dense" {
		st.Dense, err = read[float32](c, ri.Entry+"/dense")
		return st, err
	}
	bounds, err := read[int64](c, ri.Entry+"/bounds")
	if err != nil {
		return nil, err
	}
	for _, b := range bounds {
		st.Bounds = append(st.Bounds, int(b))
	}
	if st.Start, err = read[int64](c, ri.Entry+"/start"); err != nil {
		return nil, err
	}
	if st.Index, err = read[int32](c, ri.Entry+"/index"); err != nil {
		return nil, err
	}
	if st.Value, err = read[float32](c, ri.Entry+"/value"); err != nil {
		return nil, err
	}
	if st.Hints, err = read[int64](c, ri.Entry+"/hints"); err != nil {
		return nil, err
	}
	if c.m.Backend != "cpu" {
		st.Hints = nil
	}
	if err := st.Check(ri.Depth, ri.N); err != nil {
		return nil, corrupt(c.path, "entry %s: %v", ri.Entry, err)
	}
	return st, nil
}
