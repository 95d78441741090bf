package manager

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"log/slog"
	"os"
	"path/filepath"

	"github.com/openhags/hags/failover/engine"
)

// recKind says what a write-ahead log record holds.
type recKind uint8

const (
	// recChunk: a batch chunk made durable in phase 1, before the vote.
	recChunk recKind = 1
	// recInputs: inputs the engine stepped at At (a batch's, or those
	// derived from a membership change).
	recInputs recKind = 2
)

// walRecord is one record of the write-ahead log.
type walRecord struct {
	Kind   recKind        `msgpack:"k"`
	At     position       `msgpack:"at"`
	Msg    *message       `msgpack:"msg,omitempty"`
	Batch  batchID        `msgpack:"b,omitempty"`
	Inputs []engine.Input `msgpack:"in,omitempty"`
}

// snapshotFile is the durable state at a position: the engine's snapshot
// and the batches whose chunks were still arriving.
type snapshotFile struct {
	At      position   `msgpack:"at"`
	Engine  []byte     `msgpack:"eng"`
	Partial []*partial `msgpack:"p,omitempty"`
}

// Files of the state directory.
const (
	snapshotName = "state.snap"
	walName      = "state.wal"
	// compactEvery: records in the log before the state is snapshotted
	// and the log emptied.
	compactEvery = 1024
	// maxRecord bounds one log record (a batch is at most a configuration
	// document and some).
	maxRecord = 64 << 20
)

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// store keeps a manager's durable state in its state directory: a snapshot
// and a write-ahead log of what followed it. Every record is framed with
// its length and a CRC-32C, so that a torn write at the end (a crash in the
// middle of an append) is found and cut off when the log is read again.
type store struct {
	dir     string
	wal     *os.File
	records int // since the snapshot
	log     *slog.Logger
}

// loaded is what openStore found on disk.
type loaded struct {
	snap    *snapshotFile // nil: none
	records []walRecord   // after the snapshot, in order
}

// openStore opens (creating) the state directory dir and reads what it
// holds.
func openStore(dir string, log *slog.Logger) (*store, *loaded, error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, nil, err
	}
	s := &store{dir: dir, log: log}
	var l loaded
	if b, err := os.ReadFile(filepath.Join(dir, snapshotName)); err == nil {
		body, err := unframe(b)
		if err != nil {
			return nil, nil, fmt.Errorf("manager: %s: %w", snapshotName, err)
		}
		l.snap = new(snapshotFile)
		if err := decode(body, l.snap); err != nil {
			return nil, nil, fmt.Errorf("manager: %s: %w", snapshotName, err)
		}
	} else if !errors.Is(err, os.ErrNotExist) {
		return nil, nil, err
	}
	f, err := os.OpenFile(filepath.Join(dir, walName), os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, nil, err
	}
	good, err := readWAL(f, &l, log)
	if err != nil {
		f.Close()
		return nil, nil, err
	}
	// Cut a torn tail off, so that appends follow the last whole record.
	if err := f.Truncate(good); err != nil {
		f.Close()
		return nil, nil, err
	}
	if _, err := f.Seek(good, io.SeekStart); err != nil {
		f.Close()
		return nil, nil, err
	}
	s.wal, s.records = f, len(l.records)
	return s, &l, nil
}

// readWAL reads the log's whole records after the snapshot's position and
// returns the offset after the last whole record.
func readWAL(f *os.File, l *loaded, log *slog.Logger) (int64, error) {
	r := bufio.NewReader(f)
	var off int64
	for {
		var h [8]byte
		if _, err := io.ReadFull(r, h[:]); err != nil {
			return off, nil // the end, or a torn header
		}
		n := binary.BigEndian.Uint32(h[:4])
		if n > maxRecord {
			log.Warn("write-ahead log: record too large; the rest is cut off", "offset", off, "bytes", n)
			return off, nil
		}
		body := make([]byte, n)
		if _, err := io.ReadFull(r, body); err != nil {
			return off, nil // torn body
		}
		if crc32.Checksum(body, castagnoli) != binary.BigEndian.Uint32(h[4:]) {
			log.Warn("write-ahead log: bad checksum; the rest is cut off", "offset", off)
			return off, nil
		}
		var rec walRecord
		if err := decode(body, &rec); err != nil {
			return 0, fmt.Errorf("manager: write-ahead log at %d: %w", off, err)
		}
		off += int64(8 + n)
		if l.snap != nil && !l.snap.At.less(rec.At) {
			continue // before the snapshot: left over from before it was written
		}
		l.records = append(l.records, rec)
	}
}

func frame(body []byte) []byte {
	out := make([]byte, 8, 8+len(body))
	binary.BigEndian.PutUint32(out[:4], uint32(len(body)))
	binary.BigEndian.PutUint32(out[4:], crc32.Checksum(body, castagnoli))
	return append(out, body...)
}

func unframe(b []byte) ([]byte, error) {
	if len(b) < 8 {
		return nil, errors.New("too short")
	}
	n := binary.BigEndian.Uint32(b[:4])
	if int(n) != len(b)-8 {
		return nil, fmt.Errorf("length %d does not match %d bytes", n, len(b)-8)
	}
	if crc32.Checksum(b[8:], castagnoli) != binary.BigEndian.Uint32(b[4:8]) {
		return nil, errors.New("bad checksum")
	}
	return b[8:], nil
}

// append writes rec (nil: nothing) and, with sync, forces the log to disk.
func (s *store) append(rec *walRecord, sync bool) error {
	if rec != nil {
		body, err := encode(rec)
		if err != nil {
			return err
		}
		if _, err := s.wal.Write(frame(body)); err != nil {
			return err
		}
		s.records++
	}
	if sync {
		return s.wal.Sync()
	}
	return nil
}

// due reports whether the log has grown enough to be compacted.
func (s *store) due() bool { return s.records >= compactEvery }

// snapshot makes snap the durable state and empties the log: the snapshot
// is written to a new file, synced and renamed over the old one (and the
// directory synced) before the log is truncated, so a crash at any point
// leaves a snapshot and a log that together hold the state.
func (s *store) snapshot(snap *snapshotFile) error {
	body, err := encode(snap)
	if err != nil {
		return err
	}
	tmp := filepath.Join(s.dir, snapshotName+".new")
	f, err := os.OpenFile(tmp, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o600)
	if err != nil {
		return err
	}
	if _, err := f.Write(frame(body)); err != nil {
		f.Close()
		return err
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	if err := os.Rename(tmp, filepath.Join(s.dir, snapshotName)); err != nil {
		return err
	}
	if d, err := os.Open(s.dir); err == nil {
		_ = d.Sync()
		d.Close()
	}
	if err := s.wal.Truncate(0); err != nil {
		return err
	}
	if _, err := s.wal.Seek(0, io.SeekStart); err != nil {
		return err
	}
	s.records = 0
	return s.wal.Sync()
}

func (s *store) close() error { return s.wal.Close() }

// replay rebuilds the durable state: the snapshot's engine, then the
// log's inputs in order. A batch whose chunks were made durable but whose
// approval was not logged counts as applied only if its last chunk is the
// log's very last record: the manager may have died between the approval
// and logging it, and a batch that was rejected is always followed by
// something else. Returns the engine and its position.
func replay(l *loaded, restore func([]byte) (machine, error), log *slog.Logger) (machine, position, error) {
	var snapEng []byte
	var at position
	partials := map[batchID]map[uint32][]byte{}
	counts := map[batchID]uint32{}
	if l.snap != nil {
		snapEng, at = l.snap.Engine, l.snap.At
		for _, p := range l.snap.Partial {
			if p.Kind == msgBatch {
				m := map[uint32][]byte{}
				// The snapshot's partial holds chunks 0..Next-1 joined;
				// keep them as one piece under index 0..Next-1.
				m[0] = p.Data
				for i := uint32(1); i < p.Next; i++ {
					m[i] = nil
				}
				partials[p.ID], counts[p.ID] = m, p.Chunks
			}
		}
	}
	eng, err := restore(snapEng)
	if err != nil {
		return nil, position{}, err
	}
	for i, rec := range l.records {
		switch rec.Kind {
		case recInputs:
			for _, in := range rec.Inputs {
				eng.Step(in)
			}
			at = rec.At
			if rec.Batch != (batchID{}) {
				delete(partials, rec.Batch)
			}
		case recChunk:
			m := rec.Msg
			if m == nil || m.Kind != msgBatch || m.Chunk >= m.Chunks {
				continue
			}
			if partials[m.ID] == nil || m.Chunk == 0 {
				partials[m.ID], counts[m.ID] = map[uint32][]byte{}, m.Chunks
			}
			partials[m.ID][m.Chunk] = m.Data
			if i != len(l.records)-1 || m.Chunk+1 != m.Chunks {
				continue
			}
			var data []byte
			whole := true
			for c := uint32(0); c < m.Chunks; c++ {
				d, ok := partials[m.ID][c]
				if !ok {
					whole = false
					break
				}
				data = append(data, d...)
			}
			if !whole {
				continue
			}
			var ins []engine.Input
			if err := decode(data, &ins); err != nil {
				log.Warn("the log's last batch cannot be decoded; not applied", "batch", m.ID, "err", err)
				continue
			}
			log.Info("the log ends with a batch whose approval was not logged; it counts as applied", "batch", m.ID, "at", rec.At)
			for _, in := range ins {
				if in.From == m.ID.Node {
					eng.Step(in)
				}
			}
			at = rec.At
		}
	}
	return eng, at, nil
}
