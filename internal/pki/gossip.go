package pki

import (
	"bufio"
	"bytes"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"path/filepath"
	"strings"
)

// The gossip key file (GossipKeyFile) holds memberlist's keys, one a line
// in base64, the primary first: memberlist encrypts with the primary and
// accepts anything encrypted with any of them. It holds one key, except
// during a rotation (docs/design/security.md, "Rotation"):
//
//	one key            [old]        every node
//	RotateGossipKey    [old, new]   new is accepted everywhere, old still sent
//	PromoteGossipKey   [new, old]   new is sent, old still accepted
//	FinishGossipRotation [new]
//
// Each step must reach every daemon (copy, restart) before the next: then
// any two daemons are at most one step apart, and each can read what the
// other sends. Blank lines and lines starting with # are ignored.

// MaxGossipKeys bounds the keys the gossip key file may hold.
const MaxGossipKeys = 4

// LoadGossipKeys reads memberlist's keys from dir, the primary first (for
// memberlist.NewKeyring(keys, keys[0])). The file must not be readable by
// others, and hold 1 to MaxGossipKeys distinct keys of GossipKeySize bytes.
func LoadGossipKeys(dir string) ([][]byte, error) {
	path := filepath.Join(dir, GossipKeyFile)
	text, err := readKeyFile(path)
	if err != nil {
		return nil, err
	}
	var keys [][]byte
	sc := bufio.NewScanner(bytes.NewReader(text))
	for line := 1; sc.Scan(); line++ {
		s := strings.TrimSpace(sc.Text())
		if s == "" || strings.HasPrefix(s, "#") {
			continue
		}
		key, err := base64.StdEncoding.DecodeString(s)
		if err != nil {
			return nil, fmt.Errorf("%w: %s:%d: %w", ErrInvalid, path, line, err)
		}
		if len(key) != GossipKeySize {
			return nil, fmt.Errorf("%w: %s:%d: key is %d bytes, want %d", ErrInvalid, path, line, len(key), GossipKeySize)
		}
		for _, k := range keys {
			if bytes.Equal(k, key) {
				return nil, fmt.Errorf("%w: %s:%d: key %s given twice", ErrInvalid, path, line, GossipKeyID(key))
			}
		}
		if len(keys) == MaxGossipKeys {
			return nil, fmt.Errorf("%w: %s: more than %d keys", ErrInvalid, path, MaxGossipKeys)
		}
		keys = append(keys, key)
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("pki: %s: %w", path, err)
	}
	if len(keys) == 0 {
		return nil, fmt.Errorf("%w: %s holds no key", ErrInvalid, path)
	}
	return keys, nil
}

// LoadGossipKey reads memberlist's key from dir when the file holds exactly
// one (for memberlist.Config.SecretKey). During a rotation the file holds
// several, and it refuses: a daemon that can only use one key would drop
// the others' traffic; use LoadGossipKeys and a keyring.
func LoadGossipKey(dir string) ([]byte, error) {
	keys, err := LoadGossipKeys(dir)
	if err != nil {
		return nil, err
	}
	if len(keys) != 1 {
		return nil, fmt.Errorf("%w: %s holds %d keys (a rotation is in progress); load them as a keyring",
			ErrInvalid, filepath.Join(dir, GossipKeyFile), len(keys))
	}
	return keys[0], nil
}

// GossipKeyID names a key for people: the first 8 bytes of its SHA-256, in
// hex. It tells keys apart without showing them.
func GossipKeyID(key []byte) string {
	sum := sha256.Sum256(key)
	return hex.EncodeToString(sum[:8])
}

// RotateGossipKey starts a rotation: a new key is added after the current
// one, which stays primary. It refuses (ErrInvalid) when a rotation is
// already in progress (the file holds several keys). It returns the keys
// now in the file, the primary first.
func RotateGossipKey(dir string) ([][]byte, error) {
	keys, err := LoadGossipKeys(dir)
	if err != nil {
		return nil, err
	}
	if len(keys) != 1 {
		return nil, fmt.Errorf("%w: %s holds %d keys: a rotation is in progress; promote or finish it first",
			ErrInvalid, filepath.Join(dir, GossipKeyFile), len(keys))
	}
	key, err := newGossipKey()
	if err != nil {
		return nil, err
	}
	return writeGossipKeys(dir, append(keys, key))
}

// PromoteGossipKey makes the key a rotation added the primary, and keeps
// the old one as the second: the file must hold exactly two keys.
func PromoteGossipKey(dir string) ([][]byte, error) {
	keys, err := LoadGossipKeys(dir)
	if err != nil {
		return nil, err
	}
	if len(keys) != 2 {
		return nil, fmt.Errorf("%w: %s holds %d keys, want 2 (the current one and the one RotateGossipKey added)",
			ErrInvalid, filepath.Join(dir, GossipKeyFile), len(keys))
	}
	return writeGossipKeys(dir, [][]byte{keys[1], keys[0]})
}

// FinishGossipRotation keeps only the primary key.
func FinishGossipRotation(dir string) ([][]byte, error) {
	keys, err := LoadGossipKeys(dir)
	if err != nil {
		return nil, err
	}
	if len(keys) == 1 {
		return nil, fmt.Errorf("%w: %s holds one key: no rotation to finish", ErrInvalid, filepath.Join(dir, GossipKeyFile))
	}
	return writeGossipKeys(dir, keys[:1])
}

func newGossipKey() ([]byte, error) {
	key := make([]byte, GossipKeySize)
	if _, err := rand.Read(key); err != nil {
		return nil, fmt.Errorf("pki: gossip key: %w", err)
	}
	return key, nil
}

// gossipText is the file's content for keys, the primary first.
func gossipText(keys [][]byte) []byte {
	var b bytes.Buffer
	for _, k := range keys {
		b.WriteString(base64.StdEncoding.EncodeToString(k))
		b.WriteByte('\n')
	}
	return b.Bytes()
}

func writeGossipKeys(dir string, keys [][]byte) ([][]byte, error) {
	if err := writeFile(filepath.Join(dir, GossipKeyFile), gossipText(keys), KeyMode); err != nil {
		return nil, err
	}
	return keys, nil
}
