// pack: writes a docker-archive (the `docker save` layout that `ctr images import` reads) with one layer
// made of the given files, so the node's images are built here from this repo's static binaries and
// Debian's busybox-static, with no registry and no image tooling.
//
//	pack -out img.tar -tag gcr.io/x/y:1 -entrypoint '["/y"]' -env A=b -file /path/bin:/y:0755 -link /bin/sh:busybox
//
// For Gracekeeper's own image (scripts/image-build.sh): -tree /staging/dir:/app/dir adds a directory with its
// files, modes and symlinks; -user, -workdir and -expose (repeatable, e.g. 8443/tcp) set those config fields.
// Left out, the config is as before (WorkingDir "/", no User, no ExposedPorts).
package main

import (
	"archive/tar"
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"flag"
	"fmt"
	"io/fs"
	"log"
	"os"
	"path"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"time"
)

type list []string

func (l *list) String() string     { return strings.Join(*l, ",") }
func (l *list) Set(v string) error { *l = append(*l, v); return nil }

var epoch = time.Unix(0, 0).UTC()

func main() {
	var tags, envs, files, links, trees, exposes list
	out := flag.String("out", "", "archive to write")
	user := flag.String("user", "", "config User, e.g. 65532:65532")
	workdir := flag.String("workdir", "/", "config WorkingDir")
	flag.Var(&trees, "tree", "source-dir:destination-dir, every file, directory and symlink under it (repeatable)")
	flag.Var(&exposes, "expose", "port/proto for ExposedPorts (repeatable)")
	entrypoint := flag.String("entrypoint", "[]", "JSON array")
	cmd := flag.String("cmd", "[]", "JSON array")
	flag.Var(&tags, "tag", "image reference (repeatable)")
	flag.Var(&envs, "env", "NAME=value (repeatable)")
	flag.Var(&files, "file", "source:destination[:octal mode] (repeatable)")
	flag.Var(&links, "link", "destination:target symlink (repeatable)")
	flag.Parse()
	if *out == "" || len(tags) == 0 {
		log.Fatal("pack: -out and at least one -tag are required")
	}
	var ep, cm []string
	if err := json.Unmarshal([]byte(*entrypoint), &ep); err != nil {
		log.Fatalf("pack: -entrypoint: %v", err)
	}
	if err := json.Unmarshal([]byte(*cmd), &cm); err != nil {
		log.Fatalf("pack: -cmd: %v", err)
	}

	// The layer: parent directories first, then files and links, in a fixed order (reproducible bytes).
	var layer bytes.Buffer
	lw := tar.NewWriter(&layer)
	dirs := map[string]bool{}
	addDirs := func(p string) {
		var parents []string
		for d := path.Dir(p); d != "/" && d != "."; d = path.Dir(d) {
			parents = append([]string{d}, parents...)
		}
		for _, d := range parents {
			if dirs[d] {
				continue
			}
			dirs[d] = true
			must(lw.WriteHeader(&tar.Header{Typeflag: tar.TypeDir, Name: strings.TrimPrefix(d, "/") + "/", Mode: 0o755, ModTime: epoch}))
		}
	}
	addDirs("/tmp/x")
	must(lw.WriteHeader(&tar.Header{Typeflag: tar.TypeDir, Name: "tmp/", Mode: 0o1777, ModTime: epoch}))
	dirs["/tmp"] = true
	sort.Strings(files)
	for _, f := range files {
		parts := strings.Split(f, ":")
		if len(parts) < 2 {
			log.Fatalf("pack: -file %q is not source:destination[:mode]", f)
		}
		mode := int64(0o755)
		if len(parts) > 2 {
			m, err := strconv.ParseInt(parts[2], 8, 32)
			must(err)
			mode = m
		}
		data, err := os.ReadFile(parts[0])
		must(err)
		addDirs(parts[1])
		must(lw.WriteHeader(&tar.Header{Typeflag: tar.TypeReg, Name: strings.TrimPrefix(parts[1], "/"), Mode: mode, Size: int64(len(data)), ModTime: epoch}))
		_, err = lw.Write(data)
		must(err)
	}
	sort.Strings(trees)
	for _, tr := range trees {
		parts := strings.SplitN(tr, ":", 2)
		if len(parts) != 2 {
			log.Fatalf("pack: -tree %q is not source-dir:destination-dir", tr)
		}
		src, dst := parts[0], path.Clean(parts[1])
		addDirs(dst + "/x")
		// WalkDir visits in lexical order: the layer's bytes depend only on the tree.
		must(filepath.WalkDir(src, func(p string, d fs.DirEntry, err error) error {
			if err != nil {
				return err
			}
			rel, err := filepath.Rel(src, p)
			if err != nil || rel == "." {
				return err
			}
			name := strings.TrimPrefix(path.Join(dst, filepath.ToSlash(rel)), "/")
			info, err := os.Lstat(p)
			if err != nil {
				return err
			}
			switch {
			case info.IsDir():
				dirs["/"+name] = true
				return lw.WriteHeader(&tar.Header{Typeflag: tar.TypeDir, Name: name + "/", Mode: int64(info.Mode().Perm()), ModTime: epoch})
			case info.Mode()&fs.ModeSymlink != 0:
				target, err := os.Readlink(p)
				if err != nil {
					return err
				}
				return lw.WriteHeader(&tar.Header{Typeflag: tar.TypeSymlink, Name: name, Linkname: target, Mode: 0o777, ModTime: epoch})
			case info.Mode().IsRegular():
				data, err := os.ReadFile(p)
				if err != nil {
					return err
				}
				if err := lw.WriteHeader(&tar.Header{Typeflag: tar.TypeReg, Name: name, Mode: int64(info.Mode().Perm()), Size: int64(len(data)), ModTime: epoch}); err != nil {
					return err
				}
				_, err = lw.Write(data)
				return err
			default:
				return fmt.Errorf("pack: -tree: %s is neither a file, a directory nor a symlink", p)
			}
		}))
	}
	sort.Strings(links)
	for _, l := range links {
		parts := strings.SplitN(l, ":", 2)
		if len(parts) != 2 {
			log.Fatalf("pack: -link %q is not destination:target", l)
		}
		addDirs(parts[0])
		must(lw.WriteHeader(&tar.Header{Typeflag: tar.TypeSymlink, Name: strings.TrimPrefix(parts[0], "/"), Linkname: parts[1], Mode: 0o777, ModTime: epoch}))
	}
	must(lw.Close())
	diffID := digest(layer.Bytes())

	imageConfig := map[string]any{
		"Entrypoint": ep,
		"Cmd":        cm,
		"Env":        append([]string{"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"}, envs...),
		"WorkingDir": *workdir,
	}
	if *user != "" {
		imageConfig["User"] = *user
	}
	if len(exposes) > 0 {
		ports := map[string]any{}
		for _, e := range exposes {
			ports[e] = map[string]any{}
		}
		imageConfig["ExposedPorts"] = ports
	}
	config := map[string]any{
		"architecture": "amd64",
		"os":           "linux",
		"created":      epoch.Format(time.RFC3339),
		"config":       imageConfig,
		"rootfs":       map[string]any{"type": "layers", "diff_ids": []string{"sha256:" + diffID}},
		"history":      []map[string]any{{"created": epoch.Format(time.RFC3339), "created_by": "gracekeeper test/node/images/pack"}},
	}
	configJSON, err := json.Marshal(config)
	must(err)
	configName := digest(configJSON) + ".json"
	manifest, err := json.Marshal([]map[string]any{{"Config": configName, "RepoTags": []string(tags), "Layers": []string{diffID + "/layer.tar"}}})
	must(err)

	f, err := os.Create(*out + ".tmp")
	must(err)
	aw := tar.NewWriter(f)
	put := func(name string, data []byte) {
		must(aw.WriteHeader(&tar.Header{Typeflag: tar.TypeReg, Name: name, Mode: 0o644, Size: int64(len(data)), ModTime: epoch}))
		_, err := aw.Write(data)
		must(err)
	}
	must(aw.WriteHeader(&tar.Header{Typeflag: tar.TypeDir, Name: diffID + "/", Mode: 0o755, ModTime: epoch}))
	put(diffID+"/layer.tar", layer.Bytes())
	put(configName, configJSON)
	put("manifest.json", manifest)
	must(aw.Close())
	must(f.Close())
	must(os.Rename(*out+".tmp", *out))
	fmt.Printf("%s sha256:%s %s\n", *out, digest(configJSON), strings.Join(tags, " "))
}

func digest(b []byte) string {
	s := sha256.Sum256(b)
	return hex.EncodeToString(s[:])
}

func must(err error) {
	if err != nil {
		log.Fatal(err)
	}
}
