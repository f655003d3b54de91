package post

import "testing"

// Review finding 2, Rule DPV-04 (the recipient sees who actually sent): no
// sender may send under a name that passes for the register's.
func TestMessageSenderNotRegister_DPV04(t *testing.T) {
	for name, want := range map[string]bool{
		RegisterSenderName:                  true,
		"REGISTER-FORVALTEREN":              true,
		"Aa-registeret":                     true,
		"Registerforvalteren (D e l i n g)": true,
		"Skatteetaten":                      false,
		"Etaten for tilskudd":               false,
		"Deling":                            true,
		"deling.no":                         true,
		"D E L I N G":                       true,
		"Deling-plattformen":                true,
		"Økonomiavdelingen":                 false,
		"Fordelingsnemnda":                  false,
		"Avdeling for deling av data":       true,
		"Avdeling for tilskudd":             false,
	} {
		r := validRequest()
		r.Correspondence.MessageSender = name
		r.Normalize()
		ps := r.Validate(now, DefaultLimits())
		if _, refused := ps.ByField()["correspondence.messageSender"]; refused != want {
			t.Errorf("%q: refused %v, want %v (%v)", name, refused, want, ps)
		}
	}
}
