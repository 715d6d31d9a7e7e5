package store

import (
	"bufio"
	"fmt"
	"io"
	"os"
	"path/filepath"
)

// Files are written atomically: into a temporary file in the same folder
// (created exclusively, so two writers never share one), flushed to disk
// (fsync), renamed over the final name, and the folder flushed too, so
// that after a crash at any point the final name holds either the old
// file or the whole new one, never a part.

// tmpSuffix ends the names of files being written; readers ignore them.
const tmpSuffix = ".tmp"

// killHook is called at the stages of a write ("data" with the bytes
// written so far, "synced", "renamed", "dirsynced"); a test helper
// process kills itself there to check what a crash leaves. Only tests set
// it, through SetKillHook in export_test.go; it is nil otherwise.
var killHook func(stage string, written int64)

func hook(stage string, n int64) {
	if killHook != nil {
		killHook(stage, n)
	}
}

// countingWriter counts the bytes written through it (and calls the
// hook with the count, if file is set: the bytes of a whole file).
type countingWriter struct {
	w    io.Writer
	n    int64
	file bool
}

func (c *countingWriter) Write(p []byte) (int, error) {
	n, err := c.w.Write(p)
	c.n += int64(n)
	if c.file {
		hook("data", c.n)
	}
	return n, err
}

// WriteAtomic writes the file path with write, atomically (see above):
// after a crash path holds the old file or the whole new one. On an error
// the temporary file is removed and path is left as it was. The other
// packages that keep files (sweep) write through it.
func WriteAtomic(path string, write func(w io.Writer) error) error { return writeAtomic(path, write) }

// writeAtomic is WriteAtomic.
func writeAtomic(path string, write func(w io.Writer) error) (err error) {
	dir := filepath.Dir(path)
	f, err := os.CreateTemp(dir, "."+filepath.Base(path)+".*"+tmpSuffix)
	if err != nil {
		return fmt.Errorf("store: create a temporary file for %s: %w", path, err)
	}
	tmp := f.Name()
	defer func() {
		if err != nil {
			f.Close()
			os.Remove(tmp)
		}
	}()
	bw := bufio.NewWriterSize(f, 1<<20)
	if err = write(&countingWriter{w: bw, file: true}); err != nil {
		return err
	}
	if err = bw.Flush(); err != nil {
		return fmt.Errorf("store: write %s: %w", tmp, err)
	}
	if err = f.Sync(); err != nil {
		return fmt.Errorf("store: fsync %s: %w", tmp, err)
	}
	hook("synced", 0)
	if err = f.Close(); err != nil {
		return fmt.Errorf("store: close %s: %w", tmp, err)
	}
	if err = os.Chmod(tmp, 0o644); err != nil {
		return fmt.Errorf("store: chmod %s: %w", tmp, err)
	}
	if err = os.Rename(tmp, path); err != nil {
		return fmt.Errorf("store: rename %s to %s: %w", tmp, path, err)
	}
	hook("renamed", 0)
	if err := syncDir(dir); err != nil {
		return err
	}
	hook("dirsynced", 0)
	return nil
}

// syncDir flushes a folder's entries (a rename) to disk.
func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return fmt.Errorf("store: open folder %s: %w", dir, err)
	}
	defer d.Close()
	if err := d.Sync(); err != nil {
		return fmt.Errorf("store: fsync folder %s: %w", dir, err)
	}
	return nil
}
