package agreement

import (
	"encoding/binary"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/hashicorp/raft"
	"github.com/vmihailenco/msgpack/v5"
	bolt "go.etcd.io/bbolt"
)

// Store is raft's durable state in one bbolt file: the log (LogStore) and
// the current term and vote (StableStore). Every write is one fsynced
// transaction, so what raft was told is stored survives a crash. Its
// methods are safe for concurrent use.
type Store struct {
	db *bolt.DB
}

var (
	bucketLogs   = []byte("logs")
	bucketStable = []byte("stable")
	// errNotFound is the StableStore "no such key" error; raft compares
	// its text.
	errNotFound = errors.New("not found")
)

// storedLog is raft.Log on disk.
type storedLog struct {
	Term       uint64 `msgpack:"t"`
	Type       uint8  `msgpack:"y"`
	Data       []byte `msgpack:"d"`
	Extensions []byte `msgpack:"x,omitempty"`
	AppendedAt int64  `msgpack:"a,omitempty"`
}

// OpenStore opens (creating if needed) the store at path, mode 0600, in a
// directory created 0700.
func OpenStore(path string) (*Store, error) {
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return nil, fmt.Errorf("agreement: store directory: %w", err)
	}
	db, err := bolt.Open(path, 0o600, &bolt.Options{Timeout: time.Second})
	if err != nil {
		return nil, fmt.Errorf("agreement: open store %s: %w", path, err)
	}
	err = db.Update(func(tx *bolt.Tx) error {
		for _, b := range [][]byte{bucketLogs, bucketStable} {
			if _, err := tx.CreateBucketIfNotExists(b); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		db.Close()
		return nil, fmt.Errorf("agreement: init store %s: %w", path, err)
	}
	return &Store{db: db}, nil
}

// Close closes the file.
func (s *Store) Close() error { return s.db.Close() }

func key(i uint64) []byte { return binary.BigEndian.AppendUint64(nil, i) }

// FirstIndex returns the first index in the log, 0 when it is empty.
func (s *Store) FirstIndex() (uint64, error) {
	var i uint64
	err := s.db.View(func(tx *bolt.Tx) error {
		if k, _ := tx.Bucket(bucketLogs).Cursor().First(); k != nil {
			i = binary.BigEndian.Uint64(k)
		}
		return nil
	})
	return i, err
}

// LastIndex returns the last index in the log, 0 when it is empty.
func (s *Store) LastIndex() (uint64, error) {
	var i uint64
	err := s.db.View(func(tx *bolt.Tx) error {
		if k, _ := tx.Bucket(bucketLogs).Cursor().Last(); k != nil {
			i = binary.BigEndian.Uint64(k)
		}
		return nil
	})
	return i, err
}

// GetLog reads the entry at index into l, or returns raft.ErrLogNotFound.
func (s *Store) GetLog(index uint64, l *raft.Log) error {
	return s.db.View(func(tx *bolt.Tx) error {
		v := tx.Bucket(bucketLogs).Get(key(index))
		if v == nil {
			return raft.ErrLogNotFound
		}
		var sl storedLog
		if err := msgpack.Unmarshal(v, &sl); err != nil {
			return fmt.Errorf("agreement: log entry %d: %w", index, err)
		}
		*l = raft.Log{Index: index, Term: sl.Term, Type: raft.LogType(sl.Type), Data: sl.Data, Extensions: sl.Extensions}
		if sl.AppendedAt != 0 {
			l.AppendedAt = time.Unix(0, sl.AppendedAt)
		}
		return nil
	})
}

// StoreLog stores one entry.
func (s *Store) StoreLog(l *raft.Log) error { return s.StoreLogs([]*raft.Log{l}) }

// StoreLogs stores entries in one transaction.
func (s *Store) StoreLogs(logs []*raft.Log) error {
	return s.db.Update(func(tx *bolt.Tx) error {
		b := tx.Bucket(bucketLogs)
		for _, l := range logs {
			sl := storedLog{Term: l.Term, Type: uint8(l.Type), Data: l.Data, Extensions: l.Extensions}
			if !l.AppendedAt.IsZero() {
				sl.AppendedAt = l.AppendedAt.UnixNano()
			}
			v, err := msgpack.Marshal(&sl)
			if err != nil {
				return fmt.Errorf("agreement: encode log entry %d: %w", l.Index, err)
			}
			if err := b.Put(key(l.Index), v); err != nil {
				return err
			}
		}
		return nil
	})
}

// DeleteRange deletes the entries from min to max inclusive.
func (s *Store) DeleteRange(min, max uint64) error {
	return s.db.Update(func(tx *bolt.Tx) error {
		c := tx.Bucket(bucketLogs).Cursor()
		for k, _ := c.Seek(key(min)); k != nil && binary.BigEndian.Uint64(k) <= max; k, _ = c.Next() {
			if err := c.Delete(); err != nil {
				return err
			}
		}
		return nil
	})
}

// Set stores a stable value.
func (s *Store) Set(k, v []byte) error {
	return s.db.Update(func(tx *bolt.Tx) error { return tx.Bucket(bucketStable).Put(k, v) })
}

// Get returns a stable value, or an error reading "not found".
func (s *Store) Get(k []byte) ([]byte, error) {
	var out []byte
	err := s.db.View(func(tx *bolt.Tx) error {
		v := tx.Bucket(bucketStable).Get(k)
		if v == nil {
			return errNotFound
		}
		out = append([]byte(nil), v...)
		return nil
	})
	return out, err
}

// SetUint64 stores a stable number.
func (s *Store) SetUint64(k []byte, v uint64) error { return s.Set(k, key(v)) }

// GetUint64 returns a stable number, or an error reading "not found".
func (s *Store) GetUint64(k []byte) (uint64, error) {
	v, err := s.Get(k)
	if err != nil {
		return 0, err
	}
	if len(v) != 8 {
		return 0, fmt.Errorf("agreement: stable value %q has %d bytes, want 8", k, len(v))
	}
	return binary.BigEndian.Uint64(v), nil
}

var keyIncarnation = []byte("hags-incarnation")

// NextIncarnation returns this daemon's incarnation: larger than any
// earlier one recorded in the store and at least the current time in
// seconds, and records it before returning.
func (s *Store) NextIncarnation(now time.Time) (uint64, error) {
	prev, err := s.GetUint64(keyIncarnation)
	if err != nil && !errors.Is(err, errNotFound) {
		return 0, err
	}
	inc := max(prev+1, uint64(now.Unix()))
	if inc > 0xffffffff {
		return 0, fmt.Errorf("agreement: incarnation %d does not fit 32 bits", inc)
	}
	if err := s.SetUint64(keyIncarnation, inc); err != nil {
		return 0, fmt.Errorf("agreement: record incarnation: %w", err)
	}
	return inc, nil
}
