package models

import (
	"errors"
	"fmt"
	"strings"
)

// Errors of ParseBusinessRegNo, so that a form can tell "형식이 맞지 않습니다"
// (not ten digits in one of the accepted layouts) from "검증번호가 맞지 않습니다"
// (ten digits whose last one is not the check digit of the others).
var (
	ErrBRNFormat     = errors.New("business registration number: wrong format")
	ErrBRNCheckDigit = errors.New("business registration number: wrong check digit")
)

// BusinessRegNo is a Korean business registration number (사업자등록번호):
// ten ASCII digits, without hyphens. The zero value is "no number".
type BusinessRegNo string

// brnWeights are the weights of the first nine digits in the check digit.
var brnWeights = [9]int{1, 3, 7, 1, 3, 7, 1, 3, 5}

// ParseBusinessRegNo accepts a business registration number written
// "123-45-67890" or "1234567890" (space around it is ignored; space or
// hyphens anywhere else, other digit groupings, full-width digits and
// letters are not) and checks its check digit. Errors wrap ErrBRNFormat or
// ErrBRNCheckDigit.
func ParseBusinessRegNo(s string) (BusinessRegNo, error) {
	t := strings.TrimSpace(s)
	if len(t) == 12 && t[3] == '-' && t[6] == '-' {
		t = t[:3] + t[4:6] + t[7:]
	}
	if len(t) != 10 {
		return "", fmt.Errorf("%w: %q", ErrBRNFormat, s)
	}
	var d [10]int
	for i := range len(t) {
		c := t[i]
		if c < '0' || c > '9' {
			return "", fmt.Errorf("%w: %q", ErrBRNFormat, s)
		}
		d[i] = int(c - '0')
	}
	if brnCheckDigit(d) != d[9] {
		return "", fmt.Errorf("%w: %q", ErrBRNCheckDigit, s)
	}
	return BusinessRegNo(t), nil
}

// brnCheckDigit computes the tenth digit from the first nine: the weighted
// sum, plus the tens digit of the ninth digit times five once more, and the
// check digit is what brings the sum to a multiple of ten.
func brnCheckDigit(d [10]int) int {
	sum := 0
	for i, w := range brnWeights {
		sum += d[i] * w
	}
	sum += d[8] * 5 / 10
	return (10 - sum%10) % 10
}

// String formats the number as "123-45-67890"; anything that is not ten
// digits (the zero value) is returned as it is.
func (b BusinessRegNo) String() string {
	if len(b) != 10 {
		return string(b)
	}
	return string(b[:3]) + "-" + string(b[3:5]) + "-" + string(b[5:])
}
