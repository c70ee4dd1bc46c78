package models_test

import (
	"errors"
	"testing"

	"kaiportal/models"
)

// The valid numbers below were checked by hand with the algorithm
// (weights 1,3,7,1,3,7,1,3,5; plus the tens digit of the ninth digit × 5;
// check = (10 - sum%10) % 10):
//
//	220-81-62517 (commonly cited for Naver):
//	  2·1+2·3+0·7+8·1+1·3+6·7+2·1+5·3+1·5 = 2+6+0+8+3+42+2+15+5 = 83; 1·5=5 → +0; 83 → (10-3)%10 = 7 ✓
//	124-81-00998 (commonly cited for Samsung Electronics):
//	  1+6+28+8+3+0+0+27+45 = 118; 9·5=45 → +4 = 122 → (10-2)%10 = 8 ✓
//	107-86-14075:
//	  1+0+49+8+18+7+4+0+35 = 122; 7·5=35 → +3 = 125 → (10-5)%10 = 5 ✓
//	123-45-67891:
//	  1+6+21+4+15+42+7+24+45 = 165; 9·5=45 → +4 = 169 → (10-9)%10 = 1 ✓
//	111-11-11123 (the ninth digit's carry decides it):
//	  1+3+7+1+3+7+1+3+10 = 36; 2·5=10 → +1 = 37 → (10-7)%10 = 3 ✓ (4 without the carry)
//	000-00-00000: sum 0 → check 0 ✓ (valid by the algorithm, though never issued)
func TestParseBusinessRegNo(t *testing.T) {
	t.Parallel()
	tests := []struct {
		in      string
		want    models.BusinessRegNo
		wantErr error
	}{
		// Valid, in both layouts.
		{"220-81-62517", "2208162517", nil},
		{"2208162517", "2208162517", nil},
		{"124-81-00998", "1248100998", nil},
		{"1248100998", "1248100998", nil},
		{"107-86-14075", "1078614075", nil},
		{"123-45-67891", "1234567891", nil},
		{"111-11-11123", "1111111123", nil},
		{"000-00-00000", "0000000000", nil},
		// Space around the number, as pasted into a form, is ignored.
		{" 220-81-62517 ", "2208162517", nil},
		{"\t2208162517\n", "2208162517", nil},

		// Wrong check digit.
		{"220-81-62518", "", models.ErrBRNCheckDigit},
		{"220-81-62510", "", models.ErrBRNCheckDigit},
		{"124-81-00997", "", models.ErrBRNCheckDigit},
		{"1248100999", "", models.ErrBRNCheckDigit},
		{"123-45-67890", "", models.ErrBRNCheckDigit},
		{"111-11-11124", "", models.ErrBRNCheckDigit}, // right only if the ninth digit's carry is forgotten
		{"202-81-62517", "", models.ErrBRNCheckDigit}, // two digits swapped

		// Wrong length.
		{"", "", models.ErrBRNFormat},
		{"   ", "", models.ErrBRNFormat},
		{"220816251", "", models.ErrBRNFormat},
		{"22081625170", "", models.ErrBRNFormat},
		{"220-81-6251", "", models.ErrBRNFormat},
		{"220-81-625170", "", models.ErrBRNFormat},
		{"220-81-62517-", "", models.ErrBRNFormat},

		// Letters and other characters.
		{"22O-81-62517", "", models.ErrBRNFormat}, // letter O
		{"220-81-6251a", "", models.ErrBRNFormat},
		{"abcdefghij", "", models.ErrBRNFormat},
		{"+220816251", "", models.ErrBRNFormat},
		{"220.81.62517", "", models.ErrBRNFormat},
		{"２２０-８１-６２５１７", "", models.ErrBRNFormat}, // full-width digits
		{"220–81–62517", "", models.ErrBRNFormat}, // en dashes

		// Space or hyphens in odd places.
		{"220 81 62517", "", models.ErrBRNFormat},
		{"220-81 62517", "", models.ErrBRNFormat},
		{"220 -81-62517", "", models.ErrBRNFormat},
		{"2208162 517", "", models.ErrBRNFormat},
		{"220-8162517", "", models.ErrBRNFormat},
		{"22081-62517", "", models.ErrBRNFormat},
		{"22-081-62517", "", models.ErrBRNFormat},
		{"2208-1-62517", "", models.ErrBRNFormat},
		{"220-816-2517", "", models.ErrBRNFormat},
		{"220--8162517", "", models.ErrBRNFormat},
		{"-220816251-7", "", models.ErrBRNFormat},
		{"220-81-62-517", "", models.ErrBRNFormat},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, err := models.ParseBusinessRegNo(tt.in)
			if tt.wantErr != nil {
				if !errors.Is(err, tt.wantErr) {
					t.Fatalf("ParseBusinessRegNo(%q) = %q, %v; want error %v", tt.in, got, err, tt.wantErr)
				}
				if got != "" {
					t.Errorf("ParseBusinessRegNo(%q) returned %q with its error", tt.in, got)
				}
				return
			}
			if err != nil {
				t.Fatalf("ParseBusinessRegNo(%q): %v", tt.in, err)
			}
			if got != tt.want {
				t.Errorf("ParseBusinessRegNo(%q) = %q, want %q", tt.in, got, tt.want)
			}
		})
	}
}

// TestParseBusinessRegNoErrorsDistinct checks that a form can tell the two
// failures apart: a format error is never a check digit error and back.
func TestParseBusinessRegNoErrorsDistinct(t *testing.T) {
	t.Parallel()
	_, errFormat := models.ParseBusinessRegNo("220-81-6251x")
	_, errCheck := models.ParseBusinessRegNo("220-81-62518")
	if errors.Is(errFormat, models.ErrBRNCheckDigit) || !errors.Is(errFormat, models.ErrBRNFormat) {
		t.Errorf("format error = %v", errFormat)
	}
	if errors.Is(errCheck, models.ErrBRNFormat) || !errors.Is(errCheck, models.ErrBRNCheckDigit) {
		t.Errorf("check digit error = %v", errCheck)
	}
}

// TestBusinessRegNoCheckDigitUnique checks, for one set of nine digits per
// ninth digit 0–9 (so every carry is exercised), that exactly one tenth
// digit is accepted.
func TestBusinessRegNoCheckDigitUnique(t *testing.T) {
	t.Parallel()
	for ninth := '0'; ninth <= '9'; ninth++ {
		accepted := 0
		for last := '0'; last <= '9'; last++ {
			s := "12345678" + string(ninth) + string(last)
			if _, err := models.ParseBusinessRegNo(s); err == nil {
				accepted++
			} else if !errors.Is(err, models.ErrBRNCheckDigit) {
				t.Errorf("%s: err = %v, want ErrBRNCheckDigit or nil", s, err)
			}
		}
		if accepted != 1 {
			t.Errorf("12345678%c?: %d check digits accepted, want 1", ninth, accepted)
		}
	}
}

func TestBusinessRegNoString(t *testing.T) {
	t.Parallel()
	tests := []struct {
		in   models.BusinessRegNo
		want string
	}{
		{"2208162517", "220-81-62517"},
		{"1248100998", "124-81-00998"},
		{"", ""},
	}
	for _, tt := range tests {
		if got := tt.in.String(); got != tt.want {
			t.Errorf("BusinessRegNo(%q).String() = %q, want %q", string(tt.in), got, tt.want)
		}
	}
	// Parse and String round-trip.
	b, err := models.ParseBusinessRegNo("2208162517")
	if err != nil {
		t.Fatal(err)
	}
	if again, err := models.ParseBusinessRegNo(b.String()); err != nil || again != b {
		t.Errorf("round trip: %q, %v; want %q", again, err, b)
	}
}
