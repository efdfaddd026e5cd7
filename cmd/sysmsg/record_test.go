package main

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/google/gopacket/pcapgo"
)

// recServeWhile runs serve with args until talk, given the address it
// listens on, returns; it returns the exit code, stdout and stderr.
func recServeWhile(t *testing.T, args []string, talk func(addr string)) (int, string, string) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	pr, pw := io.Pipe()
	var stderr bytes.Buffer
	code := make(chan int, 1)
	go func() {
		code <- runServe(ctx, append([]string{"--addr", "127.0.0.1:0"}, args...), pw, &stderr)
		pw.Close()
	}()
	br := bufio.NewReader(pr)
	first, err := br.ReadString('\n')
	m := regexp.MustCompile(`^listening on http://(\S+) `).FindStringSubmatch(first)
	if err != nil || m == nil {
		t.Fatalf("first line %q, %v", first, err)
	}
	rest := make(chan string, 1)
	go func() { b, _ := io.ReadAll(br); rest <- string(b) }()
	talk(m[1])
	cancel()
	select {
	case c := <-code:
		return c, first + <-rest, stderr.String()
	case <-time.After(10 * time.Second):
		t.Fatal("serve did not stop")
		return 0, "", ""
	}
}

// recPipeline sends n requests in one write on one connection, reads their
// responses, and closes.
func recPipeline(t *testing.T, addr string, n int) {
	c, err := net.DialTimeout("tcp", addr, 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(5 * time.Second))
	if _, err := io.WriteString(c, strings.Repeat("GET / HTTP/1.1\r\nHost: x\r\n\r\n", n-1)+"GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"); err != nil {
		t.Fatal(err)
	}
	b, err := io.ReadAll(c)
	if got := bytes.Count(b, []byte("HTTP/1.1 200 OK")); err != nil || got != n {
		t.Fatalf("%d of %d responses: %v", got, n, err)
	}
}

// recCountPackets reads a pcapng file to its end.
func recCountPackets(t *testing.T, path string) int {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	r, err := pcapgo.NewNgReader(f, pcapgo.DefaultNgReaderOptions)
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for {
		_, _, err := r.ReadPacketData()
		if err == io.EOF {
			return n
		}
		if err != nil {
			t.Fatalf("%s: after %d packets: %v", path, n, err)
		}
		n++
	}
}

// serve --record writes what it served, and says how much; the file holds
// as many packets as it says.
func TestServeRecords(t *testing.T) {
	path := filepath.Join(t.TempDir(), "web.pcapng")
	code, stdout, stderr := recServeWhile(t, []string{"--record", path}, func(addr string) {
		recPipeline(t, addr, 10)
		recPipeline(t, addr, 3)
	})
	m := regexp.MustCompile(`(?m)^recorded 2 connections, (\d+) packets to (\S+) \((\d+) bytes\)$`).FindStringSubmatch(stdout)
	if code != exitOK || stderr != "" || m == nil || m[2] != path || !strings.Contains(stdout, "recording to "+path+", at most 64MiB\n") {
		t.Fatalf("exit %d\n%s%s", code, stdout, stderr)
	}
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if n := recCountPackets(t, path); fmt.Sprint(n) != m[1] || fmt.Sprint(fi.Size()) != m[3] {
		t.Errorf("the file holds %d packets in %d bytes; serve said %s and %s", n, fi.Size(), m[1], m[3])
	}
}

// At --record-max, recording stops, serve says so once on stderr, the
// server goes on serving, and the file, within the bound, reads to its
// end.
func TestServeRecordingStopsAtItsBound(t *testing.T) {
	path := filepath.Join(t.TempDir(), "web.pcapng")
	code, stdout, stderr := recServeWhile(t, []string{"--record", path, "--record-max", "1KiB"}, func(addr string) {
		for range 3 {
			recPipeline(t, addr, 5)
		}
	})
	want := "sysmsg serve: --record-max 1KiB reached: recording stopped; " + path + " holds what came before, and is valid\n"
	if code != exitOK || stderr != want || !strings.Contains(stdout, "served 3 connections, 15 requests, 15 responses") ||
		!regexp.MustCompile(`recorded 1 connections, \d+ packets to \S+ \(\d+ bytes, stopped at --record-max 1KiB\)`).MatchString(stdout) {
		t.Fatalf("exit %d\n%s%s", code, stdout, stderr)
	}
	fi, err := os.Stat(path)
	if err != nil || fi.Size() > 1024 {
		t.Fatalf("%v, %d bytes", err, fi.Size())
	}
	if n := recCountPackets(t, path); n < 3 {
		t.Errorf("%d packets: want the first connection's handshake at least", n)
	}
}

// A server that cannot listen leaves the file it was to record to as it
// was.
func TestServeOnABusyPortLeavesTheRecording(t *testing.T) {
	l, err := net.Listen("tcp4", "127.0.0.1:0")
	if err != nil {
		t.Skipf("no loopback: %v", err)
	}
	defer l.Close()
	path := filepath.Join(t.TempDir(), "old.pcapng")
	if err := os.WriteFile(path, []byte("an earlier recording"), 0o644); err != nil {
		t.Fatal(err)
	}
	var stdout, stderr bytes.Buffer
	code := runServe(context.Background(), []string{"--addr", l.Addr().String(), "--record", path}, &stdout, &stderr)
	if b, _ := os.ReadFile(path); code != exitUsage || string(b) != "an earlier recording" {
		t.Errorf("exit %d, %s: the file holds %q", code, stderr.String(), b)
	}
}
