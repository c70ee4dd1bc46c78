package config

import (
	"strings"
	"testing"
	"time"
)

// The help desk and privacy officer contacts: optional, checked when set.
func TestContactSettings(t *testing.T) {
	c, err := Load(env(nil))
	if err != nil {
		t.Fatal(err)
	}
	if c.HelpDeskPhone != "" || c.HelpDeskEmail != "" || c.PrivacyOfficer != "" || !c.PrivacyEffective.IsZero() {
		t.Errorf("contacts default to unset, got %q %q %q %v", c.HelpDeskPhone, c.HelpDeskEmail, c.PrivacyOfficer, c.PrivacyEffective)
	}
	c, err = Load(env(map[string]string{"PORTAL_HELPDESK_PHONE": "+82 44-202-4000", "PORTAL_HELPDESK_EMAIL": "help@kai.example.go.kr",
		"PORTAL_PRIVACY_OFFICER": "정보보호담당관 홍길동", "PORTAL_PRIVACY_CONTACT": "044-202-4001", "PORTAL_PRIVACY_EFFECTIVE": "2025-08-01"}))
	if err != nil {
		t.Fatal(err)
	}
	if c.HelpDeskPhone != "+82 44-202-4000" || c.HelpDeskEmail != "help@kai.example.go.kr" || c.PrivacyOfficer != "정보보호담당관 홍길동" ||
		c.PrivacyContact != "044-202-4001" || !c.PrivacyEffective.Equal(time.Date(2025, 8, 1, 0, 0, 0, 0, time.UTC)) {
		t.Errorf("contacts %+v", c)
	}
	for name, bad := range map[string]map[string]string{
		"PORTAL_HELPDESK_PHONE":    {"PORTAL_HELPDESK_PHONE": "call us"},
		"PORTAL_HELPDESK_EMAIL":    {"PORTAL_HELPDESK_EMAIL": "help desk"},
		"PORTAL_PRIVACY_EFFECTIVE": {"PORTAL_PRIVACY_EFFECTIVE": "1 August 2025"},
	} {
		if _, err := Load(env(bad)); err == nil || !strings.Contains(err.Error(), name) {
			t.Errorf("%v: err = %v, want mention of %s", bad, err, name)
		}
	}
}
