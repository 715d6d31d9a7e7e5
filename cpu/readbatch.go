package cpu

import "github.com/gomonnto/gomonnto/backend"

var _ backend.BatchReader = (*Backend)(nil)

// ReadBatch reads every request (backend.ReadRequest) after running the
// queued work once, as one Read would. The requests are checked first
// (backend.CheckReadRequest): the first bad one is returned as an error
// and no Dst is changed. A released or foreign tensor panics, as in Read.
// It allocates nothing.
func (b *Backend) ReadBatch(reqs []backend.ReadRequest) error {
	if b.closed {
		return errClosed
	}
	for i := range reqs {
		if err := backend.CheckReadRequest(i, reqs[i]); err != nil {
			return err
		}
	}
	for i := range reqs {
		b.check("ReadBatch", reqs[i].T)
	}
	if len(b.dq.calls) > 0 || len(b.kq.runs) > 0 {
		b.flush() // the one wait for the queued work
	}
	for i := range reqs {
		r := &reqs[i]
		if len(r.Dst) == 0 {
			continue
		}
		// check, not ten: reading does not change the storage (gen).
		s := b.check("ReadBatch", r.T).data
		switch {
		case r.Index != nil:
			for k, x := range r.Index {
				r.Dst[k] = s[r.Off+int(x)]
			}
		case r.Stride <= 1:
			copy(r.Dst, s[r.Off:])
		default:
			for k, e := 0, r.Off; k < len(r.Dst); k, e = k+1, e+r.Stride {
				r.Dst[k] = s[e]
			}
		}
	}
	return nil
}
