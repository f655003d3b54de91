package ident

import (
	"errors"
	"strings"
	"testing"
)

func TestParseOrgnr(t *testing.T) {
	tests := []struct {
		in        string
		synthetic bool
	}{
		{"889640782", false},
		{"974760673", false},
		{"974761076", false},
		{"987414502", false},
		{"310149942", true},
		{"313876144", true},
	}
	for _, tt := range tests {
		o, err := ParseOrgnr(tt.in)
		if err != nil {
			t.Errorf("ParseOrgnr(%s): %v", tt.in, err)
			continue
		}
		if got := string(o); got != tt.in {
			t.Errorf("ParseOrgnr(%s) = %s", tt.in, got)
		}
		if got := o.IsSynthetic(); got != tt.synthetic {
			t.Errorf("%s: IsSynthetic() = %v, want %v", tt.in, got, tt.synthetic)
		}
	}
}

func TestParseOrgnrErrors(t *testing.T) {
	tests := []struct {
		in   string
		want error
		msg  string
	}{
		{"", ErrLength, `ident: empty, want 9 digits`},
		{"88964078", ErrLength, `ident: 8 characters, want 9 digits`},
		{"8896407820", ErrLength, `ident: 10 characters, want 9 digits`},
		{"889 640 782", ErrLength, `ident: 11 characters, want 9 digits`},
		{"88964078O", ErrFormat, `ident: non-digit at position 9`}, // letter O
		{"NO8896407", ErrFormat, `ident: non-digit at position 1`},
		{"٨٨٩٦٤٠٧٨٢", ErrFormat, `ident: non-digit at position 1`}, // Arabic-Indic digits
		{"123456785", ErrFormat, `ident: organisation number starts with 1, want 2, 3, 8 or 9`},
		{"889640783", ErrCheckDigit, `ident: check digit does not match`},
		{"974760672", ErrCheckDigit, `ident: check digit does not match`},
		{"310149943", ErrCheckDigit, `ident: check digit does not match`},
		{"300000000", ErrCheckDigit, `ident: check digit does not match`}, // Σ mod 11 = 9, want 2
	}
	for _, tt := range tests {
		_, err := ParseOrgnr(tt.in)
		if !errors.Is(err, tt.want) {
			t.Errorf("ParseOrgnr(%q) error = %v, want %v", tt.in, err, tt.want)
			continue
		}
		if got := err.Error(); got != tt.msg {
			t.Errorf("ParseOrgnr(%q) error = %q, want %q", tt.in, got, tt.msg)
		}
		if len(tt.in) >= 5 && strings.Contains(err.Error(), tt.in) {
			t.Errorf("error %q echoes the input", err)
		}
	}
}

// TestOrgnrNoCheckDigit covers bases whose remainder is 1: no digit completes them.
func TestOrgnrNoCheckDigit(t *testing.T) {
	found := 0
	for base := 80000000; base < 80001000; base++ {
		b := itoa8(base)
		if _, ok := orgCheckDigit(b); ok {
			continue
		}
		found++
		for c := '0'; c <= '9'; c++ {
			if _, err := ParseOrgnr(b + string(c)); !errors.Is(err, ErrCheckDigit) {
				t.Errorf("ParseOrgnr(%s%c) error = %v, want ErrCheckDigit", b, c, err)
			}
		}
	}
	if found == 0 {
		t.Errorf("no base with remainder 1 in the sample")
	}
}

func itoa8(n int) string {
	b := make([]byte, 8)
	for i := 7; i >= 0; i, n = i-1, n/10 {
		b[i] = byte('0' + n%10)
	}
	return string(b)
}

func TestParseLegacyEmployer(t *testing.T) {
	tests := []struct {
		in   string
		want error // nil when valid
		msg  string
	}{
		{"300123456", nil, ""},
		{"301000000", nil, ""},
		{"302999999", nil, ""},
		{"12345678901", nil, ""},
		{"30108299920", nil, ""},
		{"", ErrLength, `ident: empty, want 9 or 11 digits`},
		{"30012345", ErrLength, `ident: 8 characters, want 9 or 11 digits`},
		{"3001234567", ErrLength, `ident: 10 characters, want 9 or 11 digits`},
		{"303123456", ErrFormat, `ident: 9-digit legacy employer number must start with 300, 301 or 302`},
		{"889640782", ErrFormat, `ident: 9-digit legacy employer number must start with 300, 301 or 302`},
		{"30012345x", ErrFormat, `ident: non-digit at position 9`},
		{"1234567890a", ErrFormat, `ident: non-digit at position 11`},
		{"٣٠٠١٢٣٤٥٦", ErrFormat, `ident: non-digit at position 1`},
	}
	for _, tt := range tests {
		got, err := ParseLegacyEmployer(tt.in)
		if tt.want == nil {
			if err != nil || got != tt.in {
				t.Errorf("ParseLegacyEmployer(%s) = %q, %v, want %q, nil", tt.in, got, err, tt.in)
			}
			continue
		}
		if !errors.Is(err, tt.want) {
			t.Errorf("ParseLegacyEmployer(%q) error = %v, want %v", tt.in, err, tt.want)
			continue
		}
		if got := err.Error(); got != tt.msg {
			t.Errorf("ParseLegacyEmployer(%q) error = %q, want %q", tt.in, got, tt.msg)
		}
	}
}
