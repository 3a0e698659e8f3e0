// Command tlogverify checks brug's audit log with Go's own transparency-log code
// (golang.org/x/mod/sumdb/note and sumdb/tlog), not with brug's: it fetches the C2SP
// checkpoint and tlog-tiles from a running gateway over mutual TLS, checks the note signature,
// recomputes the root from the entry bundles, checks inclusion proofs (from the tiles and from
// the JSON proof endpoint) and, given the checkpoint it saw before, a consistency proof.
//
//	tlogverify -url https://localhost:PORT -ca CA -cert CERT -key KEY -vkey VKEY [-state FILE]
//
// With -state, the file's checkpoint (if any) must be consistent with the new one, which then
// replaces it. Exits 0 and prints "ok SIZE ROOT" on success, else prints the failure, exits 1.
package main

import (
	"bytes"
	"crypto/tls"
	"crypto/x509"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"strconv"
	"strings"

	"golang.org/x/mod/sumdb/note"
	"golang.org/x/mod/sumdb/tlog"
)

const prefix = "/v1/audit/log/"

type client struct {
	base string
	http *http.Client
}

func (c *client) get(path string) ([]byte, error) {
	resp, err := c.http.Get(c.base + path)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		return nil, err
	}
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("GET %s: status %d", path, resp.StatusCode)
	}
	return body, nil
}

// tiles reads tlog-tiles from the gateway: Go's paths are tile/H/L/N, C2SP's tile/L/N.
type tiles struct{ c *client }

func (t tiles) Height() int { return 8 }

func (t tiles) ReadTiles(list []tlog.Tile) ([][]byte, error) {
	out := make([][]byte, len(list))
	for i, tile := range list {
		data, err := t.c.get(prefix + c2spPath(tile))
		if err != nil {
			return nil, err
		}
		out[i] = data
	}
	return out, nil
}

func (t tiles) SaveTiles([]tlog.Tile, [][]byte) {}

func c2spPath(tile tlog.Tile) string {
	p := strings.TrimPrefix(tile.Path(), "tile/8/")
	if tile.L == -1 {
		p = "entries/" + strings.TrimPrefix(p, "data/")
	}
	return "tile/" + p
}

type checkpoint struct {
	origin string
	tree   tlog.Tree
	text   []byte
}

func openCheckpoint(msg []byte, verifier note.Verifier) (*checkpoint, error) {
	n, err := note.Open(msg, note.VerifierList(verifier))
	if err != nil {
		return nil, fmt.Errorf("checkpoint note: %w", err)
	}
	lines := strings.Split(n.Text, "\n")
	if len(lines) < 4 || lines[len(lines)-1] != "" {
		return nil, errors.New("checkpoint: want origin, size and root lines")
	}
	if lines[0] != verifier.Name() {
		return nil, fmt.Errorf("checkpoint origin %q is not the key name %q", lines[0], verifier.Name())
	}
	size, err := strconv.ParseInt(lines[1], 10, 64)
	if err != nil || size < 0 || strconv.FormatInt(size, 10) != lines[1] {
		return nil, errors.New("checkpoint: bad size line")
	}
	root, err := base64.StdEncoding.DecodeString(lines[2])
	if err != nil || len(root) != tlog.HashSize {
		return nil, errors.New("checkpoint: bad root line")
	}
	cp := &checkpoint{origin: lines[0], text: msg}
	cp.tree.N = size
	copy(cp.tree.Hash[:], root)
	return cp, nil
}

// memory is a tlog.HashReader over hashes stored as tlog.StoredHashes lays them out.
type memory []tlog.Hash

func (m *memory) ReadHashes(indexes []int64) ([]tlog.Hash, error) {
	out := make([]tlog.Hash, len(indexes))
	for i, x := range indexes {
		if x < 0 || x >= int64(len(*m)) {
			return nil, fmt.Errorf("hash %d not stored", x)
		}
		out[i] = (*m)[x]
	}
	return out, nil
}

// entriesRoot fetches every entry bundle of the tree, checks each entry against its level-0
// tile hash, and recomputes the tree hash from the entries alone.
func entriesRoot(c *client, tr tiles, tree tlog.Tree) (tlog.Hash, []tlog.Hash, error) {
	var leaves []tlog.Hash
	var level0 []tlog.Tile
	for n := int64(0); n < tree.N/256; n++ {
		level0 = append(level0, tlog.Tile{H: 8, L: 0, N: n, W: 256})
	}
	if w := int(tree.N % 256); w > 0 {
		level0 = append(level0, tlog.Tile{H: 8, L: 0, N: tree.N / 256, W: w})
	}
	for _, t := range level0 {
		level0, err := tr.ReadTiles([]tlog.Tile{t})
		if err != nil {
			return tlog.Hash{}, nil, err
		}
		data := t
		data.L = -1
		bundle, err := c.get(prefix + c2spPath(data))
		if err != nil {
			return tlog.Hash{}, nil, err
		}
		for i := 0; i < t.W; i++ {
			if len(bundle) < 2 {
				return tlog.Hash{}, nil, fmt.Errorf("entry bundle %d ends early", t.N)
			}
			n := int(bundle[0])<<8 | int(bundle[1])
			if len(bundle) < 2+n {
				return tlog.Hash{}, nil, fmt.Errorf("entry bundle %d ends inside an entry", t.N)
			}
			h := tlog.RecordHash(bundle[2 : 2+n])
			bundle = bundle[2+n:]
			if !bytes.Equal(h[:], level0[0][i*tlog.HashSize:(i+1)*tlog.HashSize]) {
				return tlog.Hash{}, nil, fmt.Errorf("entry %d does not match its tile hash", t.N*256+int64(i))
			}
			leaves = append(leaves, h)
		}
		if len(bundle) != 0 {
			return tlog.Hash{}, nil, fmt.Errorf("entry bundle %d is longer than its tile", t.N)
		}
	}
	var m memory
	for i, h := range leaves {
		stored, err := tlog.StoredHashesForRecordHash(int64(i), h, &m)
		if err != nil {
			return tlog.Hash{}, nil, err
		}
		m = append(m, stored...)
	}
	root, err := tlog.TreeHash(tree.N, &m)
	return root, leaves, err
}

func hexProof(list []string) ([]tlog.Hash, error) {
	out := make([]tlog.Hash, len(list))
	for i, s := range list {
		b, err := hex.DecodeString(s)
		if err != nil || len(b) != tlog.HashSize {
			return nil, errors.New("bad proof hash")
		}
		copy(out[i][:], b)
	}
	return out, nil
}

func run() error {
	url := flag.String("url", "", "the gateway, https://host:port")
	ca := flag.String("ca", "", "CA file of the gateway's certificate")
	cert := flag.String("cert", "", "client certificate (an auditor)")
	key := flag.String("key", "", "client key")
	vkey := flag.String("vkey", "", "the log's note verifier key")
	state := flag.String("state", "", "file with the checkpoint seen before")
	flag.Parse()

	verifier, err := note.NewVerifier(*vkey)
	if err != nil {
		return fmt.Errorf("verifier key: %w", err)
	}
	pool := x509.NewCertPool()
	pem, err := os.ReadFile(*ca)
	if err != nil || !pool.AppendCertsFromPEM(pem) {
		return errors.New("cannot read the CA file")
	}
	pair, err := tls.LoadX509KeyPair(*cert, *key)
	if err != nil {
		return err
	}
	c := &client{base: strings.TrimSuffix(*url, "/"), http: &http.Client{Transport: &http.Transport{
		TLSClientConfig: &tls.Config{RootCAs: pool, Certificates: []tls.Certificate{pair}}}}}

	msg, err := c.get(prefix + "checkpoint")
	if err != nil {
		return err
	}
	cp, err := openCheckpoint(msg, verifier)
	if err != nil {
		return err
	}
	tree := cp.tree
	tr := tiles{c}
	hr := tlog.TileHashReader(tree, tr)

	// The root from the entries, and through the verified tiles.
	root, leaves, err := entriesRoot(c, tr, tree)
	if err != nil {
		return err
	}
	if th, err := tlog.TreeHash(tree.N, hr); err != nil || th != tree.Hash {
		return fmt.Errorf("the tiles do not hash to the checkpoint's root: %v", err)
	}
	if root != tree.Hash {
		return fmt.Errorf("the entries hash to %s, the checkpoint says %s", root, tree.Hash)
	}

	// Inclusion of the first, a middle and the last entry: from the tiles and from the JSON
	// proof endpoint.
	for _, i := range []int64{0, tree.N / 2, tree.N - 1} {
		p, err := tlog.ProveRecord(tree.N, i, hr)
		if err != nil {
			return err
		}
		if err := tlog.CheckRecord(p, tree.N, tree.Hash, i, leaves[i]); err != nil {
			return fmt.Errorf("inclusion of %d from the tiles: %w", i, err)
		}
		body, err := c.get(fmt.Sprintf("/v1/audit/proof/inclusion?index=%d&size=%d", i, tree.N))
		if err != nil {
			return err
		}
		var j struct{ Path []string }
		if err := json.Unmarshal(body, &j); err != nil {
			return err
		}
		hp, err := hexProof(j.Path)
		if err != nil {
			return err
		}
		if err := tlog.CheckRecord(hp, tree.N, tree.Hash, i, leaves[i]); err != nil {
			return fmt.Errorf("inclusion of %d from the proof endpoint: %w", i, err)
		}
	}

	// Consistency with the checkpoint seen before.
	if *state != "" {
		if old, err := os.ReadFile(*state); err == nil {
			prev, err := openCheckpoint(old, verifier)
			if err != nil {
				return fmt.Errorf("the stored checkpoint: %w", err)
			}
			if prev.tree.N > tree.N {
				return fmt.Errorf("the log shrank from %d to %d", prev.tree.N, tree.N)
			}
			p, err := tlog.ProveTree(tree.N, prev.tree.N, hr)
			if err != nil {
				return err
			}
			if err := tlog.CheckTree(p, tree.N, tree.Hash, prev.tree.N, prev.tree.Hash); err != nil {
				return fmt.Errorf("consistency from %d to %d (tiles): %w", prev.tree.N, tree.N, err)
			}
			body, err := c.get(fmt.Sprintf("/v1/audit/proof/consistency?from=%d&to=%d", prev.tree.N, tree.N))
			if err != nil {
				return err
			}
			var j struct{ Proof []string }
			if err := json.Unmarshal(body, &j); err != nil {
				return err
			}
			hp, err := hexProof(j.Proof)
			if err != nil {
				return err
			}
			if err := tlog.CheckTree(hp, tree.N, tree.Hash, prev.tree.N, prev.tree.Hash); err != nil {
				return fmt.Errorf("consistency from %d to %d (proof endpoint): %w", prev.tree.N, tree.N, err)
			}
			fmt.Printf("consistent %d -> %d\n", prev.tree.N, tree.N)
		} else if !errors.Is(err, os.ErrNotExist) {
			return err
		}
		if err := os.WriteFile(*state, msg, 0o600); err != nil {
			return err
		}
	}
	fmt.Printf("ok %d %s\n", tree.N, tree.Hash)
	return nil
}

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "tlogverify:", err)
		os.Exit(1)
	}
}
