package main

import (
	"encoding/base64"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"

	"github.com/rancher/ai-agent/internal/oauth"
)

// oauthKeyFile is the name of the generated key in the state directory.
const oauthKeyFile = "oauth-encryption-key"

// oauthKeys returns the keys that seal OAuth tokens and cookies, the
// sealing one first:
//
//   - OAUTH_ENCRYPTION_KEY when set (several keys, comma separated);
//   - else, outside a cluster with the SQLite store, the key kept in the
//     state directory, created once (mode 0600), so that OAUTH2 agents work
//     out of the box on one machine;
//   - else none: OAUTH2 agents report that they are unavailable. In a pod
//     a generated key would die with the pod, and the memory store keeps no
//     token anyway.
//
// With PostgreSQL (several replicas, which must share one key) a missing
// key is an error.
func oauthKeys(e env, se serveEnv, log *slog.Logger) ([][]byte, error) {
	if e.OAuthKey != "" {
		keys, err := oauth.ParseKeys(e.OAuthKey)
		if err != nil {
			return nil, fmt.Errorf("OAUTH_ENCRYPTION_KEY: %w", err)
		}
		return keys, nil
	}
	engine := storeEngine(se)
	switch {
	case engine == "postgres":
		return nil, errors.New("OAUTH_ENCRYPTION_KEY is required with PostgreSQL (DB_ENABLED=true): every replica must seal OAuth tokens with the same key; set it to the output of `openssl rand -base64 32` in all replicas")
	case engine != "sqlite" || se.InCluster:
		log.Warn("OAUTH_ENCRYPTION_KEY is not set: OAUTH2 agents are unavailable", "storage", engine)
		return nil, nil
	}
	if se.StateDirErr != nil {
		log.Warn("OAUTH_ENCRYPTION_KEY is not set and there is no state directory for a key: OAUTH2 agents are unavailable", "error", se.StateDirErr)
		return nil, nil
	}
	path := filepath.Join(se.StateDir, oauthKeyFile)
	key, created, err := keyFromFile(path)
	if err != nil {
		return nil, fmt.Errorf("OAUTH_ENCRYPTION_KEY is not set, and the key in the state directory cannot be used: %w", err)
	}
	if created {
		log.Info("OAUTH_ENCRYPTION_KEY is not set: created an OAuth encryption key", "path", path)
	} else {
		log.Info("OAUTH_ENCRYPTION_KEY is not set: using the OAuth encryption key in the state directory", "path", path)
	}
	return [][]byte{key}, nil
}

// storeEngine is the engine openStore opens: postgres, memory or sqlite.
func storeEngine(se serveEnv) string {
	switch {
	case se.DBEnabled:
		return "postgres"
	case se.Storage == "memory":
		return "memory"
	default:
		return "sqlite"
	}
}

// keyFromFile reads the key at path, creating it first when there is none.
// Creation is atomic (a complete file is linked into place), so servers
// that start together agree on one key.
func keyFromFile(path string) (key []byte, created bool, err error) {
	dir := filepath.Dir(path)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, false, err
	}
	if _, err := os.Lstat(path); errors.Is(err, fs.ErrNotExist) {
		if err := createKeyFile(dir, path); err == nil {
			created = true
		} else if !errors.Is(err, fs.ErrExist) {
			return nil, false, err
		}
	}
	fi, err := os.Lstat(path)
	if err != nil {
		return nil, false, err
	}
	if !fi.Mode().IsRegular() || fi.Mode().Perm()&0o077 != 0 {
		return nil, false, fmt.Errorf("%s must be a regular file that only its owner may read (chmod 600)", path)
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, false, err
	}
	if key, err = oauth.ParseKey(string(b)); err != nil {
		return nil, false, fmt.Errorf("%s: %w", path, err)
	}
	return key, created, nil
}

func createKeyFile(dir, path string) error {
	f, err := os.CreateTemp(dir, "."+oauthKeyFile+"-*")
	if err != nil {
		return err
	}
	tmp := f.Name()
	defer func() { _ = os.Remove(tmp) }()
	_, werr := f.WriteString(base64.StdEncoding.EncodeToString(oauth.GenerateKey()) + "\n")
	if err := errors.Join(werr, f.Chmod(0o600), f.Close()); err != nil {
		return err
	}
	return os.Link(tmp, path)
}
