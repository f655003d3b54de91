package register

// koder calls f for every code of the record with the kodeverk it belongs to.
func (a *Arbeidsforhold) koder(f func(list string, k *Kode)) {
	f(KodeverkArbeidsforholdstyper, &a.Type)
	f(KodeverkRapporteringsordninger, &a.Rapporteringsordning)
	opt := func(list string, k *Kode) {
		if k != nil {
			f(list, k)
		}
	}
	opt(KodeverkSluttaarsaker, a.Ansettelsesperiode.Sluttaarsak)
	opt(KodeverkVarslingskoder, a.Ansettelsesperiode.Varsling)
	for i := range a.Ansettelsesdetaljer {
		d := &a.Ansettelsesdetaljer[i]
		opt(KodeverkArbeidstidsordninger, d.Arbeidstidsordning)
		opt(KodeverkAnsettelsesformer, d.Ansettelsesform)
		opt(KodeverkYrker, d.Yrke)
		opt(KodeverkFartsomraader, d.Fartsomraade)
		opt(KodeverkSkipsregistre, d.Skipsregister)
		opt(KodeverkSkipstyper, d.Fartoeystype)
	}
	for _, list := range [][]Permisjon{a.Permisjoner, a.Permitteringer} {
		for i := range list {
			f(KodeverkPermisjonOgPermittering, &list[i].Type)
			opt(KodeverkVarslingskoder, list[i].Varsling)
		}
	}
	for i := range a.Utenlandsopphold {
		f(KodeverkLandkoder, &a.Utenlandsopphold[i].Land)
	}
	for i := range a.Varsler {
		f(KodeverkVarslingskoder, &a.Varsler[i].Varsling)
	}
}

// StripBeskrivelser removes every description that the kodeverk gives back,
// so that stored records do not repeat the kodeverk (about a third of a
// record's bytes). Descriptions the kodeverk does not know are kept.
func (a *Arbeidsforhold) StripBeskrivelser() {
	a.koder(func(list string, k *Kode) {
		if known, ok := Kodeverk.Lookup(list, k.Kode); ok && known.Beskrivelse == k.Beskrivelse {
			k.Beskrivelse = ""
		}
	})
}

// FillBeskrivelser puts the kodeverk's description on every code that has none.
func (a *Arbeidsforhold) FillBeskrivelser() {
	a.koder(func(list string, k *Kode) {
		if k.Beskrivelse == "" {
			if known, ok := Kodeverk.Lookup(list, k.Kode); ok {
				k.Beskrivelse = known.Beskrivelse
			}
		}
	})
}
