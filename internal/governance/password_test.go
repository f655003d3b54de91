package governance

import (
	"strings"
	"testing"
)

func TestPasswordPolicy(t *testing.T) {
	if CheckPasswordPolicy("kort") == "" {
		t.Fatal("a 4-character password accepted")
	}
	if CheckPasswordPolicy(strings.Repeat("x", 2000)) == "" {
		t.Fatal("a 2000-byte password accepted")
	}
	if msg := CheckPasswordPolicy("riktig hest batteri stift"); msg != "" {
		t.Fatal(msg)
	}
	if a, b := NewPassword(), NewPassword(); a == b || len(a) != 20 {
		t.Fatalf("new passwords %q and %q", a, b)
	}
}

// BenchmarkHashPassword is what one sign-in costs the server (argon2id, 64 MiB, 3 passes).
func BenchmarkHashPassword(b *testing.B) {
	h, err := HashPassword("riktig hest batteri stift")
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if err := VerifyPassword(h, "riktig hest batteri stift"); err != nil {
			b.Fatal(err)
		}
	}
}
