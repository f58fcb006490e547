package kernel

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// TestGeneratedUpToDate regenerates the assembly kernels and checks that
// the committed files are what the generator writes. The generator is
// built for the machine the go command runs on (GOHOSTOS/GOHOSTARCH), so
// that the test also works when the test binary itself is cross-built and
// emulated (GOARCH=arm64 go test -exec qemu-aarch64).
func TestGeneratedUpToDate(t *testing.T) {
	goTool, err := exec.LookPath("go")
	if err != nil {
		t.Skip("no go command")
	}
	host, err := exec.Command(goTool, "env", "GOHOSTOS", "GOHOSTARCH").Output()
	if err != nil {
		t.Fatalf("go env: %v", err)
	}
	hostOS, hostArch, _ := strings.Cut(strings.TrimSpace(string(host)), "\n")
	dir := t.TempDir()
	cmd := exec.Command(goTool, "run", "./_generate", "-o", dir)
	cmd.Env = append(os.Environ(), "GOOS="+hostOS, "GOARCH="+strings.TrimSpace(hostArch))
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go run ./_generate: %v\n%s", err, out)
	}
	for _, name := range []string{"outer_amd64.go", "outer_amd64.s", "sparse_amd64.s", "outer_arm64.go", "outer_arm64.s", "generic_kernels.go"} {
		want, err := os.ReadFile(filepath.Join(dir, name))
		if err != nil {
			t.Fatal(err)
		}
		got, err := os.ReadFile(name)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got, want) {
			t.Errorf("%s is stale: run go generate", name)
		}
	}
}
